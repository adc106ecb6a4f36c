"""Time parsing for the importers: every result is a timezone-aware UTC datetime, or None.

``datetime.strptime`` costs ~5 µs a call, more than the rest of a row; the fixed layout goes through
``fromisoformat`` (0.7 µs) after a shape check, and the generic parser remembers which layout worked
last and tries it first.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
SNOWFLAKE_EPOCH_MS = 1288834974657  # Twitter's snowflake epoch, 2010-11-04 01:42:54.657 UTC

IRA_EXPECTED = "expected YYYY-MM-DD HH:MM:SS or M/D/YYYY H:MM"
GENERIC_EXPECTED = (
    "expected ISO 8601, YYYY-MM-DD HH:MM:SS [+HHMM], M/D/YY H:MM, 'Wed Oct 10 20:19:24 +0000 2018' or Unix seconds"
)

_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SPACED_OFFSET = re.compile(r"^(.+?)\s+([+-]\d{2}:?\d{2}|UTC|GMT|Z)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def parse_ymd_hms(value: str) -> datetime | None:
    """'YYYY-MM-DD HH:MM:SS' or 'YYYY-MM-DD HH:MM' (also with 'T'), taken as UTC."""
    if len(value) not in (16, 19) or value[4] != "-" or value[7] != "-" or value[10] not in " T":
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)  # C code; the checks above fix the layout
    except ValueError:
        return None


def parse_us(value: str) -> datetime | None:
    """'M/D/YYYY H:MM' or 'M/D/YY H:MM' (seconds optional, time optional), taken as UTC.

    Two-digit years follow strptime's %y: 00-68 are 20xx, 69-99 are 19xx.
    """
    m = _US.match(value.strip())
    if m is None:
        return None
    month, day, year, hour, minute, second = m.groups()
    year_n = int(year) if len(year) == 4 else (2000 + int(year) if int(year) < 69 else 1900 + int(year))
    try:
        return datetime(year_n, int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC)
    except ValueError:
        return None


def parse_iso(value: str) -> datetime | None:
    """ISO 8601 ('2018-10-10T20:19:24.000Z', '+02:00' offsets); naive times are taken as UTC."""
    try:
        return _as_utc(datetime.fromisoformat(value.strip()))
    except (ValueError, OverflowError):  # OverflowError: an offset moving year 1 or 9999 off the calendar
        return None


def parse_spaced_offset(value: str) -> datetime | None:
    """'2015-02-24 11:35:52 -0800' (the airline file's layout): a time, a space, then the UTC offset."""
    m = _SPACED_OFFSET.match(value.strip())
    if m is None:
        return None
    offset = m.group(2)
    offset = "+00:00" if offset in ("UTC", "GMT", "Z") else offset
    return parse_iso(f"{m.group(1)}{offset}")


def parse_twitter_classic(value: str) -> datetime | None:
    """The v1.1 API's 'Wed Oct 10 20:19:24 +0000 2018'."""
    parts = value.split()
    if len(parts) != 6 or parts[1][:3].lower() not in _MONTHS:
        return None
    iso = (
        f"{parts[5]}-{_MONTHS[parts[1][:3].lower()]:02d}-{int(parts[2]):02d}T{parts[3]}{parts[4]}"
        if parts[2].isdigit()
        else ""
    )
    return parse_iso(iso) if iso else None


def parse_unix(value: str) -> datetime | None:
    """Unix seconds (int or float). Values past 1e11 are milliseconds: 1e11 s would be the year 5138."""
    value = value.strip()
    if not _NUMBER.match(value):
        return None
    seconds = float(value)
    if abs(seconds) >= 1e11:
        seconds /= 1000.0
    return unix_to_utc(seconds)


def unix_to_utc(seconds: float) -> datetime | None:
    if not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def snowflake_time(tweet_id: int) -> datetime:
    """The creation time encoded in a Twitter snowflake id (ids since November 2010)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=(tweet_id >> 22) + SNOWFLAKE_EPOCH_MS)


def parse_ira(value: str) -> datetime | None:
    """The FiveThirtyEight layouts: 'YYYY-MM-DD HH:MM:SS' (this dataset) or the original 'M/D/YYYY H:MM'."""
    return parse_ymd_hms(value) or parse_us(value)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class TimeParser:
    """Tries the known layouts, starting with the one that worked last (a file keeps one layout)."""

    PARSERS = (parse_ymd_hms, parse_iso, parse_spaced_offset, parse_us, parse_twitter_classic, parse_unix)

    def __init__(self) -> None:
        self._order = list(self.PARSERS)

    def __call__(self, value: str) -> datetime | None:
        for i, parse in enumerate(self._order):
            parsed = parse(value)
            if parsed is not None:
                if i:
                    self._order.insert(0, self._order.pop(i))
                return parsed
        return None
