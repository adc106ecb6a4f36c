"""FiveThirtyEight's Internet Research Agency tweets (full files and the 30,000-tweet sample layout).

The files carry no tweet ids, so a post's id is a hash of account, time and text (see
``common.hashed_post_id``). Retweets do not name the original, so they carry no reference.

``external_author_id`` was rounded in the published files (``889000000000000000`` stands for 49
different authors in the dev file), so it cannot key an account alone: an id that looks rounded (six
trailing zeros or more) is keyed as ``id:handle``, and so is any id met again with another handle (the
first handle keeps the bare id). ``notes()`` says how many ids were shared and by how many authors.
This is the hot path of a 1.35 M-row import: ``parse_row`` does no regex work on tweets without
'#', '@' or links, and parses the fixed date layout by slicing.
"""
from __future__ import annotations

from apps.collections.importers.base import CsvImporter
from apps.collections.importers.common import hashed_post_id, listish_tags, shown, text_entities, to_int
from apps.collections.importers.dates import IRA_EXPECTED, parse_ira
from apps.collections.importers.detect import Profile
from apps.collections.importers.records import AccountRecord, PostRecord, RejectedRecord
from ml.entities import urls_and_domains

LABEL = "FiveThirtyEight IRA CSV"
FULL_COLUMNS = (
    "external_author_id", "author", "content", "region", "language", "publish_date", "harvested_date", "following",
    "followers", "updates", "post_type", "account_type", "retweet", "account_category", "new_june_2018",
)
SAMPLE_COLUMNS = (
    "author_id", "account_category", "account_type", "publish_date", "is_retweet", "post_type", "content", "hashtags",
    "mentions", "urls", "followers", "following",
)
ACCOUNT_LABELS = ("account_category", "account_type", "region")
REPOST_TYPES = frozenset({"R", "RETWEET"})
QUOTE_TYPES = frozenset({"Q", "QUOTE_TWEET"})


class IraImporter(CsvImporter):
    format = "ira_538"
    label = LABEL
    profiles = (
        Profile("ira_538", LABEL, FULL_COLUMNS, ("author", "content", "publish_date")),
        Profile("ira_538", LABEL + " (sample layout)", SAMPLE_COLUMNS, ("author_id", "content", "publish_date")),
    )

    def __init__(self, header: list[str], **options) -> None:
        super().__init__(header, **options)
        # A column this layout lacks points at index -1: parse_row appends an empty cell to each row,
        # so the hot path reads every column without a branch.
        at = lambda *names: next((self.col(n) for n in names if self.col(n) is not None), -1)  # noqa: E731
        self._author, self._content, self._date = at("author", "author_id"), at("content"), at("publish_date")
        self._author_name = header[self._author].strip()
        self._external_id, self._language = at("external_author_id"), at("language")
        self._followers, self._following = at("followers"), at("following")
        self._post_type, self._retweet = at("post_type"), at("retweet", "is_retweet")
        self._labels = [(key, at(key)) for key in ACCOUNT_LABELS if at(key) >= 0]
        self._given = [at(c) for c in ("hashtags", "mentions", "urls")]  # the sample layout's columns
        self._has_given = max(self._given) >= 0
        self._last_when, self._last_time, self._last_iso = "", None, ""
        self._first_handle: dict[str, str] = {}  # author id -> the first handle seen with it
        self._sharing: dict[str, set[str]] = {}  # author id -> its handles, for ids seen with several
        self._last_key = ("", "", "")  # (id, handle, account key): an account's rows come in bursts

    def parse_row(self, line: int, row: list[str]) -> PostRecord | RejectedRecord:
        row.append("")
        author, text, when = row[self._author].strip(), row[self._content], row[self._date].strip()
        if not author:
            return RejectedRecord(line, self._author_name, "the author is empty")
        if not text or text.isspace():
            return RejectedRecord(line, "content", "the content is empty")
        if when != self._last_when:  # an account's tweets come in bursts: 45% repeat the previous minute
            self._last_when, self._last_time = when, parse_ira(when)
            self._last_iso = self._last_time.isoformat() if self._last_time else ""
        time = self._last_time
        if time is None:
            return RejectedRecord(line, "publish_date", f"{shown(when)} is not a date ({IRA_EXPECTED})")
        account_id = self._account_key(row[self._external_id].strip() or author, author)
        account = AccountRecord(
            platform_id=account_id, handle=author, followers=to_int(row[self._followers]),
            following=to_int(row[self._following]), labels={k: row[i] for k, i in self._labels if row[i]},
        )
        hashtags, mentions, urls, domains = self._entities(row, text)
        return PostRecord(
            line=line,
            platform_id=hashed_post_id(account_id, time, text, self._last_iso),
            account=account,
            text=text,
            time=time,
            language=row[self._language].strip(),
            kind=self._kind(row),
            hashtags=hashtags,
            urls=urls,
            domains=domains,
            mentions=mentions,
        )

    def _account_key(self, author_id: str, handle: str) -> str:
        last_id, last_handle, last_key = self._last_key
        if author_id == last_id and handle == last_handle:
            return last_key
        first = self._first_handle.setdefault(author_id, handle)
        if first != handle:
            self._sharing.setdefault(author_id, {first}).add(handle)
        rounded = len(author_id) >= 12 and author_id.endswith("000000")
        key = f"{author_id}:{handle}" if rounded or first != handle else author_id
        self._last_key = (author_id, handle, key)
        return key

    def notes(self) -> dict:
        if not self._sharing:
            return {}
        return {"shared_author_ids": len(self._sharing), "authors_sharing_ids": sum(map(len, self._sharing.values()))}

    def _kind(self, row: list[str]) -> str:
        post_type, retweet = row[self._post_type], row[self._retweet]
        if not post_type and retweet in ("0", ""):
            return "post"
        # quote tweets have retweet=1 too, so the post type decides first
        post_type = post_type.strip().upper()
        if post_type in QUOTE_TYPES:
            return "quote"
        return "repost" if post_type in REPOST_TYPES or retweet.strip() in ("1", "True", "true") else "post"

    def _entities(self, row: list[str], text: str) -> tuple[list[str], list[str], list[str], list[str]]:
        """From the text; the sample layout's own columns (space-separated) win where they are filled."""
        hashtags, mentions, urls, domains = text_entities(text)
        if not self._has_given:
            return hashtags, mentions, urls, domains
        tags, names, links = [row[i] for i in self._given]
        if tags.strip():
            hashtags = listish_tags(tags, "#")
        if names.strip():
            mentions = listish_tags(names, "@")
        if links.strip():
            urls, domains = urls_and_domains(links.split())
        return hashtags, mentions, urls, domains
