"""What every importer yields: normalised records, independent of the file format.

Importers parse; the ingest writer (``apps.collections.ingest``) stores. An importer never touches
the database, so it can be tested on bytes alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class ImportFileError(Exception):
    """The file cannot be read at all. The message names the file and says why; nothing of it is kept."""


@dataclass(slots=True)
class AccountRecord:
    platform_id: str
    handle: str = ""
    display_name: str = ""
    followers: int | None = None
    following: int | None = None
    created: datetime | None = None
    labels: dict = field(default_factory=dict)
    placeholder: bool = False  # a stand-in for a post whose file names no author (see generic.placeholder_account)


@dataclass(slots=True)
class PostRecord:
    line: int  # 1-based line of the file where the row starts (header = line 1)
    platform_id: str
    account: AccountRecord
    text: str
    time: datetime | None  # timezone-aware, UTC; None where the file gives no time (a text-only set)
    language: str = ""
    kind: str = "post"  # post | repost | quote | reply
    ref_post_id: str = ""  # the original's platform id, where known
    ref_account: AccountRecord | None = None  # the original's account, where known (may hold only an id)
    labels: dict = field(default_factory=dict)
    hashtags: list[str] = field(default_factory=list)  # lower-cased, no '#'
    urls: list[str] = field(default_factory=list)  # normalised (see entities.normalize_url)
    domains: list[str] = field(default_factory=list)  # registrable domains of the URLs (or given ids)
    mentions: list[str] = field(default_factory=list)  # lower-cased handles, no '@'
    images: list[str] = field(default_factory=list)  # perceptual hashes or image ids


@dataclass(slots=True)
class RejectedRecord:
    line: int
    field: str
    reason: str


QUOTE_CHARS = 200  # the most of any input value a message quotes


def clip(value: str, limit: int = QUOTE_CHARS) -> str:
    """A value shortened for a message: a 1 MB header cell must not become a 1 MB job error. A lone
    surrogate (an undecodable byte kept by surrogateescape) is shown escaped: no database could store
    the message, and the job quoting it would stay "running"."""
    value = value if len(value) <= limit else f"{value[:limit]}… ({len(value):,} characters)"
    return value if value.isascii() else value.encode("utf-8", "backslashreplace").decode("utf-8")


def nul_field(record: PostRecord) -> str | None:
    """The first field of a record holding a NUL (PostgreSQL text cannot store one), or None.
    One join and one search for the common record; the fields are searched only when it has one."""
    a = record.account
    ref = record.ref_account
    values = {
        "id": record.platform_id, "text": record.text, "language": record.language, "ref_post_id": record.ref_post_id,
        "author_id": a.platform_id, "handle": a.handle, "display_name": a.display_name,
        "ref_account_id": ref.platform_id if ref is not None else "",
        "labels": "".join(f"{k}{v}" for k, v in {**record.labels, **a.labels}.items()),
        "entities": "".join(record.hashtags + record.urls + record.domains + record.mentions + record.images),
    }
    if "\x00" not in "".join(values.values()):
        return None
    return next(name for name, value in values.items() if "\x00" in value)
