"""What the management commands share: finding the acting user and the investigation by name (``apps.common.cli``
has the options and the summary line)."""
from __future__ import annotations

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


ROLES = Role.values
