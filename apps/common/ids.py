"""Ids read from query strings: one parser, so a bad value is a 400 with a message, never a 500."""
from __future__ import annotations

from django.core.exceptions import ValidationError

from apps.common.converters import MAX_ID


def id_param(raw: str | None, *, name: str) -> int | None:
    """``?name=<id>``: None when absent or blank; a ValidationError naming the parameter when malformed.

    ``str.isdigit`` accepts "²" and ``int`` accepts numbers past the database's range, so neither
    guards a query: only ASCII digits from 1 to 2**63-1 are ids.
    """
    value = (raw or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID:
        return int(value)
    raise ValidationError({name: [f"{name}={value[:40]!r} is not an id (a whole number from 1 to {MAX_ID})."]})


def as_id(raw) -> int | None:
    """``raw`` as an id when it is one (ASCII digits, 1 to 2**63-1), else None: for fields that take an id
    or a name."""
    value = str(raw).strip()
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) <= MAX_ID else None
