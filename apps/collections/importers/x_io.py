"""X/Twitter's information-operations archives (one CSV per takedown, tweet ids and user ids included)."""
from __future__ import annotations

from apps.collections.importers.base import CsvImporter, cell
from apps.collections.importers.common import listish_tags, shown, split_listish, text_entities, to_int
from apps.collections.importers.dates import parse_iso, parse_ymd_hms
from apps.collections.importers.detect import Profile
from apps.collections.importers.records import AccountRecord, PostRecord, RejectedRecord
from ml.entities import urls_and_domains

LABEL = "X/Twitter information-operations archive CSV"
COLUMNS = (
    "tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location", "user_profile_description",
    "user_profile_url", "follower_count", "following_count", "account_creation_date", "account_language",
    "tweet_language", "tweet_text", "tweet_time", "tweet_client_name", "in_reply_to_userid", "in_reply_to_tweetid",
    "quoted_tweet_tweetid", "is_retweet", "retweet_userid", "retweet_tweetid", "latitude", "longitude", "quote_count",
    "reply_count", "like_count", "retweet_count", "hashtags", "urls", "user_mentions", "poll_choices",
)
REQUIRED = ("tweetid", "userid", "tweet_text", "tweet_time")
TRUE = frozenset({"true", "1", "yes", "t"})
TIME_EXPECTED = "expected YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS"


class XioImporter(CsvImporter):
    format = "x_io_archive"
    label = LABEL
    profiles = (Profile("x_io_archive", LABEL, COLUMNS, REQUIRED),)

    def __init__(self, header: list[str], **options) -> None:
        super().__init__(header, **options)
        self._i = {c: self.col(c) for c in COLUMNS}

    def parse_row(self, line: int, row: list[str]) -> PostRecord | RejectedRecord:
        get = lambda column: cell(row, self._i[column])  # noqa: E731
        for column in ("tweetid", "userid"):
            if not get(column):
                return RejectedRecord(line, column, f"the {column} is empty")
        text = row[self._i["tweet_text"]]
        if not text.strip():
            return RejectedRecord(line, "tweet_text", "the tweet_text is empty")
        time = parse_ymd_hms(get("tweet_time")) or parse_iso(get("tweet_time"))
        if time is None:
            return RejectedRecord(line, "tweet_time", f"{shown(get('tweet_time'))} is not a date ({TIME_EXPECTED})")
        kind, ref_post_id, ref_account = self._reference(get)
        hashtags, mentions, urls, domains = self._entities(get, text)
        return PostRecord(
            line=line, platform_id=get("tweetid"), account=self._account(get), text=text, time=time,
            language=get("tweet_language"), kind=kind, ref_post_id=ref_post_id, ref_account=ref_account,
            hashtags=hashtags, urls=urls, domains=domains, mentions=mentions,
        )

    def _account(self, get) -> AccountRecord:
        created = get("account_creation_date")
        return AccountRecord(
            platform_id=get("userid"), handle=get("user_screen_name"), display_name=get("user_display_name"),
            followers=to_int(get("follower_count")), following=to_int(get("following_count")),
            created=(parse_iso(created) or parse_ymd_hms(created)) if created else None,
        )

    @staticmethod
    def _reference(get) -> tuple[str, str, AccountRecord | None]:
        """(kind, ref_post_id, ref_account): a retweet names both, a quote only the tweet, a reply both."""
        if get("is_retweet").lower() in TRUE:
            user = get("retweet_userid")
            return "repost", get("retweet_tweetid"), AccountRecord(platform_id=user) if user else None
        if get("quoted_tweet_tweetid"):
            return "quote", get("quoted_tweet_tweetid"), None
        if get("in_reply_to_tweetid") or get("in_reply_to_userid"):
            user = get("in_reply_to_userid")
            return "reply", get("in_reply_to_tweetid"), AccountRecord(platform_id=user) if user else None
        return "post", "", None

    @staticmethod
    def _entities(get, text: str) -> tuple[list[str], list[str], list[str], list[str]]:
        """The archive's own columns where filled (user_mentions holds user ids), else the text's."""
        hashtags, mentions, urls, domains = text_entities(text)
        if split_listish(get("hashtags")):
            hashtags = listish_tags(get("hashtags"), "#")
        if split_listish(get("user_mentions")):
            mentions = listish_tags(get("user_mentions"), "@")
        if split_listish(get("urls")):
            urls, domains = urls_and_domains(split_listish(get("urls")))
        return hashtags, mentions, urls, domains
