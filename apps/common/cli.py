"""What every management command shares: ``--param KEY=VALUE`` options and the one JSON summary line."""
from __future__ import annotations

import json
import sys

from django.core.management.base import CommandError


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
