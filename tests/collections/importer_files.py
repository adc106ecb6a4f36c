"""Small input files for the importer tests, built in tmp_path (real data is only read, never copied here)."""
from __future__ import annotations

import csv
import gzip
import io
import json
import struct
import zipfile
from pathlib import Path

from apps.collections.importers import PostRecord, RejectedRecord
from apps.collections.importers.ira import FULL_COLUMNS
from apps.collections.importers.x_io import COLUMNS as XIO_COLUMNS

IRA_ROW = {
    "external_author_id": "1001", "author": "troll_1", "content": "vote early #Election2016 @CNN https://t.co/AbC",
    "region": "United States", "language": "English", "publish_date": "2016-10-01 12:00:00",
    "harvested_date": "2016-10-01 12:00:00", "following": "10", "followers": "20", "updates": "30", "post_type": "",
    "account_type": "Right", "retweet": "0", "account_category": "RightTroll", "new_june_2018": "0",
}


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def ira_rows(n: int, **changes) -> list[list[str]]:
    """n IRA rows, one minute apart, each with its own text; `changes` overrides columns of every row."""
    rows = []
    for i in range(n):
        row = dict(
            IRA_ROW, content=f"post {i} #tag{i % 3}", publish_date=f"2016-10-01 {12 + i // 60 % 12:02d}:{i % 60:02d}:00"
        )
        row.update(changes)
        rows.append([row[c] for c in FULL_COLUMNS])
    return rows


def write_ira(path: Path, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> Path:
    data = csv_text(list(FULL_COLUMNS), rows, delimiter).encode(encoding)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def xio_row(**values) -> list[str]:
    base = {
        "tweetid": "900",
        "userid": "u1",
        "user_display_name": "Ann",
        "user_screen_name": "ann",
        "follower_count": "5",
        "following_count": "6",
        "account_creation_date": "2014-03-02",
        "tweet_language": "en",
        "tweet_text": "hello #World @Bob http://www.example.com/a?b=1",
        "tweet_time": "2017-01-02 03:04",
        "is_retweet": "False",
        "hashtags": "",
        "urls": "",
        "user_mentions": "",
    }
    base.update(values)
    return [base.get(c, "") for c in XIO_COLUMNS]


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def understate_sizes(path: Path, declared: int) -> None:
    """Rewrite every uncompressed-size field (local and central headers) to `declared`: a lying zip."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature)
        while start >= 0:
            data[start + offset : start + offset + 4] = struct.pack("<I", declared)
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))


def v2_page(tweets: list[dict], users: list[dict] | None = None, ref_tweets: list[dict] | None = None) -> dict:
    return {
        "data": tweets,
        "includes": {"users": users or [], "tweets": ref_tweets or []},
        "meta": {"result_count": len(tweets)},
    }


def write_json(path: Path, document) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def tree_zip(path: Path, trees: dict[str, list[str]], labels: dict[str, str], texts: dict[str, str]) -> Path:
    """A Twitter15-shaped zip: twitter15/tree/<id>.txt, label.txt, source_tweets.txt."""
    members = {f"twitter15/tree/{tid}.txt": ("\n".join(lines) + "\n").encode() for tid, lines in trees.items()}
    members["twitter15/label.txt"] = "".join(f"{label}:{tid}\n" for tid, label in labels.items()).encode()
    members["twitter15/source_tweets.txt"] = "".join(f"{tid}\t{text}\n" for tid, text in texts.items()).encode()
    return write_zip(path, members)


def edge(parent: tuple[str, str, str], child: tuple[str, str, str]) -> str:
    return f"{list(parent)}->{list(child)}"


def drain(source) -> tuple[list[PostRecord], list[RejectedRecord]]:
    posts, rejected = [], []
    for record in source.records():
        (posts if isinstance(record, PostRecord) else rejected).append(record)
    return posts, rejected
