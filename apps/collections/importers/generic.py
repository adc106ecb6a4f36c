"""Any CSV, with a column mapping {generic field: column} chosen by the analyst (never guessed silently)."""
from __future__ import annotations

from apps.collections.importers.base import CsvImporter
from apps.collections.importers.common import hashed_post_id, listish_tags, shown, split_listish, text_entities, to_int
from apps.collections.importers.dates import GENERIC_EXPECTED, TimeParser
from ml.entities import urls_and_domains
from apps.collections.importers.limits import Limits
from apps.collections.importers.records import AccountRecord, ImportFileError, PostRecord, RejectedRecord, clip

LABEL = "Generic CSV (column mapping)"
GENERIC_FIELDS = [
    "post_id", "account_id", "handle", "display_name", "text", "time", "language", "followers", "following",
    "account_created", "kind", "ref_post_id", "ref_account_id", "hashtags", "urls", "mentions",
]
LABEL_PREFIX = "label:"
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

    def __init__(self, header: list[str], *, name: str, limits: Limits = Limits(), mapping: dict | None = None, **_options) -> None:
        self.name, self.header, self.limits = name, header, limits
        self._fields, self._labels = _resolve(header, mapping, name)
        self._time, self._created = TimeParser(), TimeParser()  # two: each column keeps its own layout

    def parse_row(self, line: int, row: list[str]) -> PostRecord | RejectedRecord:
        get = lambda field: row[self._fields[field]].strip() if field in self._fields else ""  # noqa: E731
        text = row[self._fields["text"]]
        account_id = get("account_id") or get("handle")
        if not account_id:
            return RejectedRecord(line, self._column("account_id" if "account_id" in self._fields else "handle"), "no account id or handle")
        if not text.strip():
            return RejectedRecord(line, self._column("text"), "the text is empty")
        time = self._time(get("time"))
        if time is None:
            return RejectedRecord(line, self._column("time"), f"{shown(get('time'))} is not a date ({GENERIC_EXPECTED})")
        hashtags, mentions, urls, domains = self._entities(get, text)
        ref_account = get("ref_account_id")
        return PostRecord(
            line=line, platform_id=get("post_id") or hashed_post_id(account_id, time, text), account=self._account(get, account_id),
            text=text, time=time, language=get("language"), kind=KINDS.get(get("kind").lower(), "post"),
            ref_post_id=get("ref_post_id"), ref_account=AccountRecord(platform_id=ref_account) if ref_account else None,
            labels={key: row[i].strip() for key, i in self._labels if row[i].strip()},
            hashtags=hashtags, urls=urls, domains=domains, mentions=mentions,
        )

    def _column(self, field: str) -> str:
        return self.header[self._fields[field]]

    def _account(self, get, account_id: str) -> AccountRecord:
        created = get("account_created")
        return AccountRecord(
            platform_id=account_id, handle=get("handle"), display_name=get("display_name"),
            followers=to_int(get("followers")), following=to_int(get("following")),
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


def _resolve(header: list[str], mapping: dict | None, name: str) -> tuple[dict[str, int], list[tuple[str, int]]]:
    """Column positions of the mapped fields and labels; ImportFileError for a mapping that cannot work."""
    if not mapping:
        raise ImportFileError(f"{name}: the generic CSV format needs a column mapping (text, time and account_id or handle)")
    exact = {h: i for i, h in reversed(list(enumerate(header)))}
    folded = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}
    positions, unknown = {}, []
    for key, column in mapping.items():
        if not column:
            continue
        i = exact.get(column, folded.get(str(column).strip().lower()))
        if i is None:
            unknown.append(f"'{clip(str(column))}'")
        positions[key] = i
    if unknown:
        raise ImportFileError(f"{name}: the column mapping names column(s) not in the header: {', '.join(unknown)}")
    bad_keys = [k for k in positions if k not in GENERIC_FIELDS and not k.startswith(LABEL_PREFIX)]
    if bad_keys:
        raise ImportFileError(f"{name}: the column mapping has unknown field(s): {', '.join(map(clip, bad_keys))}")
    missing = [f for f in ("text", "time") if f not in positions]
    if not {"account_id", "handle"} & positions.keys():
        missing.append("account_id or handle")
    if missing:
        raise ImportFileError(
            f"{name}: the column mapping lacks {', '.join(missing)} (the generic CSV needs text, time and account_id or handle)"
        )
    fields = {k: i for k, i in positions.items() if not k.startswith(LABEL_PREFIX)}
    labels = [(k[len(LABEL_PREFIX):], i) for k, i in positions.items() if k.startswith(LABEL_PREFIX) and k[len(LABEL_PREFIX):]]
    return fields, labels
