"""Co-share tables (CooRTweet's layout): one row per post and shared entity, all ids hashed.

A post with two URLs is two rows, not necessarily adjacent; each row becomes a PostRecord with that
row's entities, and the writer merges repeats into the stored post (``merge_rows``). The ids are
kept as given: they are opaque, so there is nothing to normalise.
"""
from __future__ import annotations

from apps.collections.importers.base import CsvImporter, cell
from apps.collections.importers.common import shown
from apps.collections.importers.dates import parse_unix
from apps.collections.importers.detect import Profile
from apps.collections.importers.records import AccountRecord, PostRecord, RejectedRecord

LABEL = "Co-share table (CooRTweet)"
COLUMNS = ("account_id", "post_id", "url_id", "hashtag_id", "domain_id", "phash_id", "timestamp")
REQUIRED = ("account_id", "post_id", "timestamp")


class CoshareImporter(CsvImporter):
    format = "coshare"
    label = LABEL
    merge_rows = True
    profiles = (Profile("coshare", LABEL, COLUMNS, REQUIRED),)

    def __init__(self, header: list[str], **options) -> None:
        super().__init__(header, **options)
        self._i = {c: self.col(c) for c in COLUMNS}

    def parse_row(self, line: int, row: list[str]) -> PostRecord | RejectedRecord:
        get = lambda column: cell(row, self._i[column])  # noqa: E731
        for column in ("account_id", "post_id"):
            if not get(column):
                return RejectedRecord(line, column, f"the {column} is empty")
        time = parse_unix(get("timestamp"))
        if time is None:
            return RejectedRecord(line, "timestamp", f"{shown(get('timestamp'))} is not a time (expected Unix seconds)")
        one = lambda column: [get(column)] if get(column) else []  # noqa: E731
        return PostRecord(
            line=line, platform_id=get("post_id"), account=AccountRecord(platform_id=get("account_id")), text="",
            time=time, urls=one("url_id"), hashtags=one("hashtag_id"), domains=one("domain_id"), images=one("phash_id"),
        )
