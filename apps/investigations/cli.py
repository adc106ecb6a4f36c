"""What the management commands share: finding the acting user and the investigation by name."""
from __future__ import annotations

import json
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from apps.investigations.models import Investigation, Role
from apps.investigations.services import investigation_create


def cli_user(username: str | None):
    User = get_user_model()
    if username:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--user {username!r}: no such user")
        return user
    return User.objects.filter(is_superuser=True).order_by("id").first()


def cli_investigation(name: str, user) -> Investigation:
    """The investigation called ``name`` that ``user`` belongs to, created (with them as owner) if none."""
    found = Investigation.objects.filter(name=name)
    if user is not None:
        found = found.filter(memberships__user=user)
    investigation = found.order_by("id").first()
    if investigation is not None:
        return investigation
    if user is None:
        raise CommandError(f"No investigation named {name!r}, and no user to own a new one: pass --user USERNAME")
    return investigation_create(user=user, name=name)


def key_values(pairs: list[str] | None, option: str) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{option} {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def print_summary(stdout, summary: dict) -> None:
    """The one JSON summary line every command ends with."""
    stdout.write(json.dumps(summary, default=str, ensure_ascii=False))
    if stdout is not sys.stdout:
        stdout.flush()


ROLES = Role.values
