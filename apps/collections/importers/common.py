"""Small helpers the importers share: ids for posts without one, numbers, list-ish cells, entities."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime

from ml import entities

_LIST_SPLIT = re.compile(r"[,;\s]+")
_INT_LIKE = re.compile(r"^[+-]?\d+(\.0*)?$")


def hashed_post_id(account_id: str, time: datetime | None, text: str, iso_time: str = "") -> str:
    """A deterministic id for a post its source gives none, so that importing a file twice dedupes:
    "h" + sha1(account id, ISO time, text)[:24]. `iso_time` may pass time.isoformat() already made.
    Without account and time (a text-only set) the text alone is the key: the same text twice is a duplicate."""
    key = f"{account_id}\x1f{iso_time or (time.isoformat() if time is not None else '')}\x1f{text}"
    return "h" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def to_int(value: str) -> int | None:
    """'123' -> 123; '1,234' or '12.0' -> the number; anything else (empty, 'n/a') -> None."""
    if value.isdigit():
        return int(value)
    value = value.strip().replace(",", "")
    return int(float(value)) if _INT_LIKE.match(value) else None


def split_listish(value: str) -> list[str]:
    """'[a, b]', "['a', 'b']", 'a b' or 'a;b' -> ['a', 'b']; '', '[]' -> []."""
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    items = (item.strip().strip("'\"").strip() for item in _LIST_SPLIT.split(value))
    return [item for item in items if item]


def listish_tags(value: str, marker: str) -> list[str]:
    """Hashtags or handles from a list-ish cell: lower-cased, without '#'/'@', de-duplicated."""
    return list(dict.fromkeys(item.lstrip(marker).lower() for item in split_listish(value) if item.lstrip(marker)))


def text_entities(text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """(hashtags, mentions, urls, domains) extracted from a post's text."""
    urls, domains = entities.urls_and_domains(entities.extract_urls(text))
    return entities.extract_hashtags(text), entities.extract_mentions(text), urls, domains


def shown(value: str, limit: int = 60) -> str:
    """A cell quoted for a message, shortened: a 10 MB field must not become a 10 MB message."""
    return f"'{value[:limit]}…'" if len(value) > limit else f"'{value}'"
