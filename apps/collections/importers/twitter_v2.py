"""Twitter API v2 responses: one JSON document, JSONL of response pages, or JSONL of single tweets.

JSONL is streamed line by line (line = the line of the page or tweet); a line over the line limit is
rejected and skipped without being held whole. A single document is loaded whole: JSON has no cheap way
to stream, and documents of this layout are API pages saved by a collector (megabytes), not whole
collections; one longer than ``Limits.document_limit`` characters is refused after reading that much.
"""
from __future__ import annotations

import io
import json
import re
from typing import Iterator

from apps.collections.importers.common import listish_tags, text_entities, to_int
from apps.collections.importers.dates import parse_iso
from apps.collections.importers.encoding import first_bad_byte
from apps.collections.importers.limits import Limits
from apps.collections.importers.lines import BoundedLines
from apps.collections.importers.records import AccountRecord, ImportFileError, PostRecord, RejectedRecord
from apps.collections.importers.streams import StreamError
from ml.entities import urls_and_domains

LABEL = "Twitter API v2 JSON"
_TWEETISH_KEY = re.compile(r'"(?:data|text|full_text)"\s*:')
REFERENCE_KINDS = (("retweeted", "repost"), ("quoted", "quote"), ("replied_to", "reply"))
_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_REASON = "not valid UTF-8 (an undecodable byte, or an escaped lone surrogate such as \\ud800)"


def json_layout(sample_text: str) -> str | None:
    """'document', 'pages' (JSONL of responses), 'tweets' (JSONL of tweets), or None (not this format)."""
    text = sample_text.lstrip("\ufeff \t\r\n")
    if not text.startswith(("{", "[")):
        return None
    first_line, _, rest = text.partition("\n")
    try:
        first = json.loads(first_line)
    except ValueError:  # a pretty-printed document spans lines: look for the keys a response has
        return "document" if _TWEETISH_KEY.search(text) else None
    if isinstance(first, list):
        return "document"
    if not isinstance(first, dict):
        return None
    if "data" in first:
        return "pages" if rest.strip() else "document"  # one page on one line is a document
    return "tweets" if "id" in first and ("text" in first or "full_text" in first) else None


class TwitterV2Importer:
    format = "twitter_v2_json"
    label = LABEL
    kind = "json"
    merge_rows = False

    def __init__(self, sample_text: str, *, name: str, limits: Limits = Limits(), **_options) -> None:
        self.name, self.limits = name, limits
        self.layout = json_layout(sample_text)
        if self.layout is None:
            raise ImportFileError(
                f"{name}: not {LABEL} (expected an object with 'data', or one tweet or page per line)"
            )

    def records(self, text: io.TextIOBase) -> Iterator[PostRecord | RejectedRecord]:
        if self.layout == "document":
            yield from self._document(text)
        else:
            yield from self._lines(text)

    def _lines(self, text: io.TextIOBase) -> Iterator[PostRecord | RejectedRecord]:
        lines = BoundedLines(text, self.limits.line_limit)
        for raw in self._guarded(lines):
            line = lines.line
            if lines.overlong:
                ((at, length, _head),) = lines.overlong
                lines.overlong.clear()
                yield RejectedRecord(at, "", lines.reason(length))
                continue
            if not raw.strip():
                continue
            try:
                item = json.loads(raw)
            except ValueError as exc:
                yield RejectedRecord(line, "", f"not valid JSON ({getattr(exc, 'msg', exc)})")
                continue
            if self.layout == "pages" and isinstance(item, dict) and "data" in item:
                for i, tweet, users, ref_authors in _page_tweets(item):
                    yield self._tweet(tweet, line, f"tweet #{i + 1} of the page: ", users, ref_authors)
            else:
                yield self._tweet(item, line, "", {}, {})

    def _guarded(self, lines: BoundedLines) -> Iterator[str]:
        try:
            yield from lines
        except StreamError as exc:
            raise ImportFileError(exc.message(self.name, lines.line)) from exc

    def _document(self, text: io.TextIOBase) -> Iterator[PostRecord | RejectedRecord]:
        """A whole document: one page, a list of pages, or a list of tweets. Line = the tweet's number."""
        document = self._load(text)
        if isinstance(document, list) and all(isinstance(p, dict) and "data" in p for p in document):
            pages = document
        elif isinstance(document, dict) and "data" in document:
            pages = [document]
        elif isinstance(document, list):
            pages = [{"data": document}]  # a list of tweets
        else:
            raise ImportFileError(f"{self.name}: not {LABEL} (the document has no 'data')")
        number = 0
        for p, page in enumerate(pages, 1):
            for i, tweet, users, ref_authors in _page_tweets(page):
                number += 1
                at = f"page {p}, data[{i}]" if len(pages) > 1 else f"data[{i}]"
                yield self._tweet(tweet, number, f"tweet #{number} ({at}): ", users, ref_authors)

    def _load(self, text: io.TextIOBase):
        limit = self.limits.document_limit
        try:
            raw = text.read(limit + 1)
            if len(raw) > limit:
                raise ImportFileError(
                    f"{self.name}: a single JSON document longer than {limit:,} characters cannot be read; "
                    "save it as JSONL (one tweet or page per line)"
                )
            return json.loads(raw)
        except StreamError as exc:
            raise ImportFileError(exc.message(self.name, None)) from exc
        except ValueError as exc:
            where = f" at line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise ImportFileError(f"{self.name}: not valid JSON ({getattr(exc, 'msg', exc)}{where})") from exc

    def _tweet(self, tweet, line: int, where: str, users: dict, ref_authors: dict) -> PostRecord | RejectedRecord:
        if not isinstance(tweet, dict):
            return RejectedRecord(line, "", f"{where}not a tweet object")
        inline = tweet.get("author") if isinstance(tweet.get("author"), dict) else tweet.get("user")
        inline = inline if isinstance(inline, dict) else {}
        values = {
            "id": str(tweet.get("id") or ""),
            "text": tweet.get("text") or tweet.get("full_text") or "",
            "author_id": str(tweet.get("author_id") or inline.get("id") or ""),
            "created_at": str(tweet.get("created_at") or ""),
        }
        problem = self._problem(values, line, where)
        if problem is not None:
            return problem
        time = parse_iso(values["created_at"])
        if time is None:
            return RejectedRecord(line, "created_at", f"{where}'{values['created_at'][:60]}' is not an ISO 8601 time")
        kind, ref_post_id, ref_account = _reference(tweet, ref_authors, users)
        hashtags, mentions, urls, domains = _entities(tweet, values["text"])
        author = users.get(values["author_id"]) or inline
        record = PostRecord(
            line=line,
            platform_id=values["id"],
            account=_account(values["author_id"], author),
            text=values["text"],
            time=time,
            language=str(tweet.get("lang") or ""),
            kind=kind,
            ref_post_id=ref_post_id,
            ref_account=ref_account,
            hashtags=hashtags,
            urls=urls,
            domains=domains,
            mentions=mentions,
        )
        field = _surrogate_field(record)
        return record if field is None else RejectedRecord(line, field, f"{where}{SURROGATE_REASON}")

    def _problem(self, values: dict, line: int, where: str) -> RejectedRecord | None:
        for key, value in values.items():
            if not isinstance(value, str) or not value.strip():
                return RejectedRecord(line, key, f"{where}the {key} is missing")
        text = values["text"]
        if len(text) > self.limits.max_field_chars:
            return RejectedRecord(
                line, "text", f"{where}field is {len(text):,} characters; the limit is {self.limits.max_field_chars:,}"
            )
        bad = None if text.isascii() else first_bad_byte(text)
        if bad is not None:
            return RejectedRecord(
                line, "text", f"{where}not valid UTF-8 (byte 0x{bad:02X}); the file was read as UTF-8"
            )
        for key, value in values.items():  # before a reason quotes one of them
            if not value.isascii() and _SURROGATE.search(value):
                return RejectedRecord(line, key, f"{where}{SURROGATE_REASON}")
        return None


def _surrogate_field(record: PostRecord) -> str | None:
    """The first field of a tweet holding a lone surrogate, which no database can store: an undecodable byte
    kept by surrogateescape, or a JSON escape such as \\ud800. One search for the common tweet."""
    a, ref = record.account, record.ref_account
    values = {
        "id": record.platform_id,
        "text": record.text,
        "lang": record.language,
        "ref_post_id": record.ref_post_id,
        "author_id": a.platform_id,
        "username": a.handle,
        "name": a.display_name,
        "ref_author_id": ref.platform_id if ref is not None else "",
        "entities": "".join(record.hashtags + record.urls + record.domains + record.mentions),
    }
    joined = "".join(values.values())
    if joined.isascii() or not _SURROGATE.search(joined):
        return None
    return next(name for name, value in values.items() if _SURROGATE.search(value))


def _page_tweets(page: dict) -> Iterator[tuple[int, object, dict, dict]]:
    """(index, tweet, users by id, author id by referenced tweet id) for the tweets of one response page."""
    includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}
    users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
    ref_authors = {
        str(t.get("id")): str(t.get("author_id") or "") for t in includes.get("tweets") or [] if isinstance(t, dict)
    }
    data = page.get("data") or []
    for i, tweet in enumerate(data if isinstance(data, list) else [data]):
        yield i, tweet, users, ref_authors


def _account(author_id: str, user: dict) -> AccountRecord:
    metrics = user.get("public_metrics") or {}
    created = user.get("created_at")
    return AccountRecord(
        platform_id=author_id,
        handle=str(user.get("username") or user.get("screen_name") or ""),
        display_name=str(user.get("name") or ""),
        followers=_count(metrics.get("followers_count", user.get("followers_count"))),
        following=_count(metrics.get("following_count", user.get("friends_count"))),
        created=parse_iso(created) if isinstance(created, str) else None,
    )


def _count(value) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return to_int(value) if isinstance(value, str) else None


def _reference(tweet: dict, ref_authors: dict, users: dict) -> tuple[str, str, AccountRecord | None]:
    """(kind, ref_post_id, ref_account): retweet before quote before reply; the original's author from
    includes.tweets where the page has it (a reply's from in_reply_to_user_id)."""
    refs = {r.get("type"): str(r.get("id") or "") for r in tweet.get("referenced_tweets") or [] if isinstance(r, dict)}
    for ref_type, kind in REFERENCE_KINDS:
        if ref_type in refs:
            ref_id = refs[ref_type]
            author = ref_authors.get(ref_id) or (str(tweet.get("in_reply_to_user_id") or "") if kind == "reply" else "")
            return kind, ref_id, _account(author, users.get(author) or {}) if author else None
    return "post", "", None


def _entities(tweet: dict, text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """The tweet's own entities object where present, else extracted from the text."""
    given = tweet.get("entities")
    if not isinstance(given, dict):
        return text_entities(text)
    tags = " ".join(str(h.get("tag") or "") for h in given.get("hashtags") or [] if isinstance(h, dict))
    names = " ".join(str(m.get("username") or "") for m in given.get("mentions") or [] if isinstance(m, dict))
    links = [
        str(u.get("unwound_url") or u.get("expanded_url") or u.get("url") or "")
        for u in given.get("urls") or []
        if isinstance(u, dict)
    ]
    urls, domains = urls_and_domains([u for u in links if u])
    return listish_tags(tags, "#"), listish_tags(names, "@"), urls, domains
