"""Any CSV, with a column mapping {generic field: column} chosen by the analyst (never guessed silently).

Only ``text`` must be mapped. A column is named by its header (exactly, then in any case) or by its
position, ``col1`` for the first: a file without a header row (LIAR's TSV) is read with the names
col1, col2, ... Without a ``time`` column posts have none; without ``account_id`` or ``handle`` each post
gets its own placeholder author (``placeholder_account``), never a shared one: a shared "unknown" author
would be one prolific account to every account-level detector, and would put every post on one side of
an account-disjoint split.
"""
from __future__ import annotations

import hashlib
import re

from apps.collections.importers.base import CsvImporter
from apps.collections.importers.common import hashed_post_id, listish_tags, shown, split_listish, text_entities, to_int
from apps.collections.importers.dates import GENERIC_EXPECTED, TimeParser
from apps.collections.importers.limits import Limits
from apps.collections.importers.records import AccountRecord, ImportFileError, PostRecord, RejectedRecord, clip
from ml.entities import urls_and_domains

LABEL = "Generic CSV (column mapping)"
GENERIC_FIELDS = [
    "post_id", "account_id", "handle", "display_name", "text", "time", "language", "followers", "following",
    "account_created", "kind", "ref_post_id", "ref_account_id", "hashtags", "urls", "mentions",
]
LABEL_PREFIX = "label:"
REQUIRED = ("text",)
PLACEHOLDER_PREFIX = "row:"
POSITION = re.compile(r"^col([1-9][0-9]{0,5})$", re.IGNORECASE)  # col1 = the first column
KINDS = {
    "repost": "repost", "retweet": "repost", "retweeted": "repost", "rt": "repost", "r": "repost", "share": "repost",
    "quote": "quote", "quoted": "quote", "quote_tweet": "quote", "q": "quote",
    "reply": "reply", "replied_to": "reply",
}
# Header names that usually hold each field, in order of preference (for preview's guess only).
GUESSES = {
    "post_id": ("post_id", "tweet_id", "tweetid", "status_id", "id"),
    "account_id": ("account_id", "user_id", "userid", "author_id", "external_author_id"),
    "handle": ("handle", "screen_name", "user_screen_name", "username", "user_name", "user", "author", "name"),
    "display_name": ("display_name", "user_display_name"),
    "text": ("text", "tweet_text", "full_text", "tweet", "content", "message", "body"),
    "time": ("created_at", "tweet_created", "tweet_time", "publish_date", "timestamp", "datetime", "date", "time"),
    "language": ("language", "lang", "tweet_language"),
    "followers": ("followers", "followers_count", "follower_count"),
    "following": ("following", "following_count", "friends_count"),
    "account_created": ("account_created", "account_creation_date", "user_created_at"),
    "kind": ("kind", "post_type"),
    "ref_post_id": ("ref_post_id", "retweet_tweetid", "retweeted_status_id"),
    "ref_account_id": ("ref_account_id", "retweet_userid"),
    "hashtags": ("hashtags",),
    "urls": ("urls", "expanded_urls"),
    "mentions": ("mentions", "user_mentions"),
}


def guess_mapping(header: list[str]) -> dict[str, str]:
    """A first mapping for the upload page to show; each column is used once."""
    by_name = {h.strip().lower(): h for h in reversed(header)}
    mapping: dict[str, str] = {}
    for field, names in GUESSES.items():
        column = next((by_name[n] for n in names if n in by_name and by_name[n] not in mapping.values()), None)
        if column is not None:
            mapping[field] = column
    return mapping


class GenericCsvImporter(CsvImporter):
    format = "generic_csv"
    label = LABEL

    def __init__(
        self, header: list[str], *, name: str, limits: Limits = Limits(), mapping: dict | None = None, **_options
    ) -> None:
        self.name, self.header, self.limits = name, header, limits
        self._fields, self._labels = _resolve(header, mapping, name)
        # The column a row's author comes from; None: the file names none, so each post gets a placeholder.
        self._account_field = next((f for f in ("account_id", "handle") if f in self._fields), None)
        self._time, self._created = TimeParser(), TimeParser()  # two: each column keeps its own layout

    def parse_row(self, line: int, row: list[str]) -> PostRecord | RejectedRecord:
        get = lambda field: row[self._fields[field]].strip() if field in self._fields else ""  # noqa: E731
        text = row[self._fields["text"]]
        account_id = get("account_id") or get("handle")
        if self._account_field and not account_id:
            return RejectedRecord(line, self._column(self._account_field), "no account id or handle")
        if not text.strip():
            return RejectedRecord(line, self._column("text"), "the text is empty")
        time = self._time(get("time")) if "time" in self._fields else None
        if time is None and "time" in self._fields:
            return RejectedRecord(
                line, self._column("time"), f"{shown(get('time'))} is not a date ({GENERIC_EXPECTED})"
            )
        platform_id = get("post_id") or hashed_post_id(account_id, time, text)
        account = self._account(get, account_id) if self._account_field else placeholder_account(platform_id)
        hashtags, mentions, urls, domains = self._entities(get, text)
        ref_account = get("ref_account_id")
        return PostRecord(
            line=line,
            platform_id=platform_id,
            account=account,
            text=text,
            time=time,
            language=get("language"),
            kind=KINDS.get(get("kind").lower(), "post"),
            ref_post_id=get("ref_post_id"),
            ref_account=AccountRecord(platform_id=ref_account) if ref_account else None,
            labels={key: row[i].strip() for key, i in self._labels if row[i].strip()},
            hashtags=hashtags,
            urls=urls,
            domains=domains,
            mentions=mentions,
        )

    def _column(self, field: str) -> str:
        return self.header[self._fields[field]]

    def _account(self, get, account_id: str) -> AccountRecord:
        created = get("account_created")
        return AccountRecord(
            platform_id=account_id,
            handle=get("handle"),
            display_name=get("display_name"),
            followers=to_int(get("followers")),
            following=to_int(get("following")),
            created=self._created(created) if created else None,
        )

    @staticmethod
    def _entities(get, text: str) -> tuple[list[str], list[str], list[str], list[str]]:
        hashtags, mentions, urls, domains = text_entities(text)
        if get("hashtags"):
            hashtags = listish_tags(get("hashtags"), "#")
        if get("mentions"):
            mentions = listish_tags(get("mentions"), "@")
        if get("urls"):
            urls, domains = urls_and_domains(split_listish(get("urls")))
        return hashtags, mentions, urls, domains


def placeholder_account(post_id: str) -> AccountRecord:
    """The stand-in author of one post whose file names none: "row:<post id>", so it is unique to the post
    in its collection (a line number would be shared by the rows of different files), and stable, so a
    re-import finds it again. An id too long for the column is hashed."""
    platform_id = PLACEHOLDER_PREFIX + post_id
    if len(platform_id) > 200:
        platform_id = PLACEHOLDER_PREFIX + "h" + hashlib.sha1(post_id.encode("utf-8", "surrogatepass")).hexdigest()
    return AccountRecord(platform_id=platform_id, placeholder=True)


def column_position(header: list[str], column: str) -> int | None:
    """Where a mapped column is: by header name (exactly, then in any case), else by position ("col3")."""
    for i, name in enumerate(header):
        if name == column:
            return i
    folded = str(column).strip().lower()
    for i, name in enumerate(header):
        if name.strip().lower() == folded:
            return i
    match = POSITION.match(str(column).strip())
    if match and int(match.group(1)) <= len(header):
        return int(match.group(1)) - 1
    return None


def _resolve(header: list[str], mapping: dict | None, name: str) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Column positions of the mapped fields and labels; ImportFileError for a mapping that cannot work."""
    if not mapping:
        raise ImportFileError(f"{name}: the generic CSV format needs a column mapping (at least the text column)")
    positions, unknown = {}, []
    for key, column in mapping.items():
        if not column:
            continue
        i = column_position(header, column)
        if i is None:
            unknown.append(f"'{clip(str(column))}'")
        positions[key] = i
    if unknown:
        raise ImportFileError(
            f"{name}: the column mapping names column(s) not in the header: {', '.join(unknown)} "
            f"(name a column by its header, or by its position: col1 to col{len(header)})"
        )
    bad_keys = [k for k in positions if k not in GENERIC_FIELDS and not k.startswith(LABEL_PREFIX)]
    if bad_keys:
        raise ImportFileError(f"{name}: the column mapping has unknown field(s): {', '.join(map(clip, bad_keys))}")
    missing = [f for f in REQUIRED if f not in positions]
    if missing:
        raise ImportFileError(
            f"{name}: the column mapping lacks {', '.join(missing)} (the generic CSV needs at least the text column)"
        )
    fields = {k: i for k, i in positions.items() if not k.startswith(LABEL_PREFIX)}
    labels = [
        (k[len(LABEL_PREFIX) :], i)
        for k, i in positions.items()
        if k.startswith(LABEL_PREFIX) and k[len(LABEL_PREFIX) :]
    ]
    return fields, labels
