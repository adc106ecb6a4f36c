"""The parsing half of collection ingest: formats, detection, every refusal and reject, real-data slices.

No database: the importers turn bytes into records. Real data is read from ../shared/data at run time
and only ever written to tmp_path.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import random
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import islice

import pytest

from apps.collections.importers import (
    FORMAT_LABELS,
    FORMATS,
    GENERIC_FIELDS,
    ImportFileError,
    Limits,
    RejectedRecord,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    normalize_url,
    open_sources,
    preview,
    url_domain,
)
from apps.collections.importers.dates import TimeParser, snowflake_time
from apps.collections.importers.encoding import sniff_encoding
from apps.collections.importers.ira import FULL_COLUMNS
from apps.collections.importers.x_io import COLUMNS as XIO_COLUMNS
from tests.collections.importer_files import (
    csv_text,
    drain,
    edge,
    ira_rows,
    tree_zip,
    understate_sizes,
    v2_page,
    write_ira,
    write_json,
    write_zip,
    xio_row,
)

UTC = timezone.utc
MB = 1024 * 1024


def only_source(path, **kwargs):
    (source,) = list(open_sources(path, **kwargs))
    return source


def refusal(path, **kwargs) -> str:
    """The message of the ImportFileError that opening or reading the file raises."""
    with pytest.raises(ImportFileError) as caught:
        for source in open_sources(path, **kwargs):
            drain(source)
    return str(caught.value)


# --- entities ---------------------------------------------------------------------------------------


def test_it_extracts_hashtags_lower_cased_once_each_in_order():
    assert extract_hashtags("#MAGA rally #Vote2016 then #maga again, not#this nor &#39; nor #2016") == [
        "maga",
        "vote2016",
    ]
    assert extract_hashtags("ünïcode #Fußball") == ["fußball"]
    assert extract_hashtags("no tags here") == []


def test_it_extracts_mentions_but_not_email_addresses():
    assert extract_mentions("RT @CNN: hi @jack_Dorsey and @cnn, mail me at a@b.com") == ["cnn", "jack_dorsey"]


def test_it_extracts_links_with_and_without_protocol():
    text = "see https://t.co/AbC123, http://www.bbc.co.uk/news/x?y=1 and t.co/XyZ."
    assert extract_urls(text) == ["https://t.co/AbC123", "http://www.bbc.co.uk/news/x?y=1", "t.co/XyZ"]


@pytest.mark.parametrize(
    "url, normalized",
    [
        ("https://www.bbc.co.uk/news/x?y=1", "bbc.co.uk/news/x"),
        ("HTTP://News.BBC.CO.UK/News/Item#top", "bbc.co.uk/News/Item"),
        ("https://t.co/AbC", "t.co/AbC"),
        ("http://t.co/AbC?amp=1", "t.co/AbC"),
        ("https://example.com/", "example.com"),
        ("https://user@shop.example.com:8080/p/", "example.com/p"),
        ("http://192.168.0.1/admin", "192.168.0.1/admin"),
    ],
)
def test_it_normalises_urls_as_the_influence_model_paper_does(url, normalized):
    assert normalize_url(url) == normalized


def test_it_gives_the_registrable_domain_of_a_normalised_url():
    assert url_domain("bbc.co.uk/news/x") == "bbc.co.uk"
    assert url_domain("t.co") == "t.co"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2018-10-10T20:19:24.000Z", datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)),
        ("2018-10-10T22:19:24+02:00", datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)),
        ("2016-01-02 03:04:05", datetime(2016, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2015-02-24 11:35:52 -0800", datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)),
        ("10/16/17 22:59", datetime(2017, 10, 16, 22, 59, tzinfo=UTC)),
        ("1/2/2016 3:04", datetime(2016, 1, 2, 3, 4, tzinfo=UTC)),
        ("Wed Oct 10 20:19:24 +0000 2018", datetime(2018, 10, 10, 20, 19, 24, tzinfo=UTC)),
        ("1629589836.5", datetime(2021, 8, 21, 23, 50, 36, 500000, tzinfo=UTC)),
        ("1629589836", datetime(2021, 8, 21, 23, 50, 36, tzinfo=UTC)),
    ],
)
def test_it_parses_every_generic_time_layout_to_utc(value, expected):
    assert TimeParser()(value) == expected


def test_it_reads_the_time_from_a_tweet_id():
    assert snowflake_time(693785810311778304) == datetime(2016, 1, 31, 13, 20, 1, 752000, tzinfo=UTC)


# --- the IRA format and the CSV layer ----------------------------------------------------------------


def test_it_imports_an_ira_csv_with_ids_entities_labels_and_kinds(tmp_path):
    rows = ira_rows(3)
    rows[1][FULL_COLUMNS.index("post_type")], rows[1][FULL_COLUMNS.index("retweet")] = "RETWEET", "1"
    rows[2][FULL_COLUMNS.index("post_type")], rows[2][FULL_COLUMNS.index("retweet")] = "QUOTE_TWEET", "1"
    rows[0][FULL_COLUMNS.index("content")] = "Vote #MAGA @CNN https://t.co/AbC https://www.bbc.co.uk/news/x?y=1"
    source = only_source(write_ira(tmp_path / "ira.csv", rows))
    posts, rejected = drain(source)
    assert (source.format, rejected, [p.line for p in posts]) == ("ira_538", [], [2, 3, 4])
    first = posts[0]
    account = first.account
    assert (account.platform_id, account.handle, account.followers, account.following) == ("1001", "troll_1", 20, 10)
    assert first.account.labels == {
        "account_category": "RightTroll",
        "account_type": "Right",
        "region": "United States",
    }
    assert (first.hashtags, first.mentions, first.urls, first.domains) == (
        ["maga"],
        ["cnn"],
        ["t.co/AbC", "bbc.co.uk/news/x"],
        ["t.co", "bbc.co.uk"],
    )
    assert (first.time, first.language) == (datetime(2016, 10, 1, 12, 0, tzinfo=UTC), "English")
    assert [p.kind for p in posts] == ["post", "repost", "quote"]
    assert first.platform_id.startswith("h") and len(first.platform_id) == 25


def test_it_gives_the_same_post_the_same_id_on_every_import(tmp_path):
    path = write_ira(tmp_path / "ira.csv", ira_rows(5))
    first = [p.platform_id for p in drain(only_source(path))[0]]
    again = [p.platform_id for p in drain(only_source(path))[0]]
    assert first == again and len(set(first)) == 5


def test_it_counts_lines_across_quoted_line_breaks(tmp_path):
    rows = ira_rows(3)
    rows[0][FULL_COLUMNS.index("content")] = "two\nlines"
    posts, _ = drain(only_source(write_ira(tmp_path / "ira.csv", rows)))
    assert [p.line for p in posts] == [2, 4, 5]
    assert posts[0].text == "two\nlines"


def test_it_reads_the_original_us_date_layout_and_a_byte_order_mark(tmp_path):
    text = csv_text(list(FULL_COLUMNS), ira_rows(1, publish_date="10/1/2016 9:05"))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    posts, rejected = drain(only_source(tmp_path / "bom.csv"))
    assert rejected == [] and posts[0].time == datetime(2016, 10, 1, 9, 5, tzinfo=UTC)


def test_it_imports_a_file_with_only_a_header_as_zero_rows(tmp_path):
    source = only_source(write_ira(tmp_path / "header.csv", []))
    assert drain(source) == ([], []) and source.rows_read == 0


def test_it_refuses_an_empty_file(tmp_path):
    (tmp_path / "data.csv").write_bytes(b"")
    assert refusal(tmp_path / "data.csv") == "data.csv: the file is empty"


def test_it_refuses_an_empty_gzip(tmp_path):
    (tmp_path / "data.csv.gz").write_bytes(gzip.compress(b""))
    assert refusal(tmp_path / "data.csv.gz") == "data.csv.gz: the file is empty"


def test_it_refuses_an_empty_member_of_a_zip(tmp_path):
    write_zip(tmp_path / "upload.zip", {"a.csv": b""})
    assert refusal(tmp_path / "upload.zip") == "upload.zip/a.csv: the file is empty"


def test_it_rejects_a_truncated_gzip_after_the_last_whole_line(tmp_path):
    whole = gzip.compress(csv_text(list(FULL_COLUMNS), ira_rows(3000)).encode())
    cut = whole[: len(whole) // 2]
    (tmp_path / "data.csv.gz").write_bytes(cut)
    last_line = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut).count(b"\n")
    source = only_source(tmp_path / "data.csv.gz")
    with pytest.raises(ImportFileError) as caught:
        drain(source)
    assert (
        str(caught.value)
        == f"data.csv.gz: the gzip stream is truncated (it ends after line {last_line:,}); the file is incomplete"
    )
    assert source.rows_read == last_line - 1  # every whole row came out before the error


def test_it_imports_a_semicolon_delimited_file(tmp_path):
    posts, rejected = drain(only_source(write_ira(tmp_path / "semi.csv", ira_rows(4), delimiter=";")))
    assert (len(posts), rejected) == (4, [])


def test_it_imports_a_tab_delimited_file(tmp_path):
    posts, rejected = drain(only_source(write_ira(tmp_path / "tabs.tsv", ira_rows(4), delimiter="\t")))
    assert (len(posts), rejected) == (4, [])


def test_it_rejects_rows_split_by_another_delimiter_than_the_header(tmp_path):
    text = csv_text(list(FULL_COLUMNS), ira_rows(30)) + "".join(";".join(r) + "\n" for r in ira_rows(3))
    (tmp_path / "x.csv").write_text(text)
    posts, rejected = drain(only_source(tmp_path / "x.csv"))
    assert len(posts) == 30
    assert rejected == [
        RejectedRecord(line, "", "expected 15 fields, found 1 (is the delimiter ';'?)") for line in (32, 33, 34)
    ]


def test_it_refuses_a_file_whose_rows_all_use_another_delimiter(tmp_path):
    text = ",".join(FULL_COLUMNS) + "\n" + "".join(";".join(r) + "\n" for r in ira_rows(25))
    (tmp_path / "x.csv").write_text(text)
    assert refusal(tmp_path / "x.csv") == (
        "x.csv: none of the first 25 rows has the header's 15 fields; the rows look ';'-delimited but "
        "the header is ','-delimited"
    )


def test_it_refuses_after_the_first_thousand_rows_with_the_wrong_delimiter(tmp_path):
    text = ",".join(FULL_COLUMNS) + "\n" + "".join(";".join(r) + "\n" for r in ira_rows(1200))
    (tmp_path / "x.csv").write_text(text)
    source = only_source(tmp_path / "x.csv")
    with pytest.raises(ImportFileError, match="none of the first 1,000 rows has the header's 15 fields"):
        next(source.records())  # refused before any record comes out


def test_it_keeps_a_short_file_of_mismatched_rows_as_rejects(tmp_path):
    text = ",".join(FULL_COLUMNS) + "\n" + "".join(";".join(r) + "\n" for r in ira_rows(5))
    (tmp_path / "x.csv").write_text(text)
    posts, rejected = drain(only_source(tmp_path / "x.csv"))
    assert (posts, [r.line for r in rejected]) == ([], [2, 3, 4, 5, 6])


def test_it_refuses_a_header_lacking_a_required_column(tmp_path):
    header = [c for c in FULL_COLUMNS if c != "content"]
    (tmp_path / "x.csv").write_text(",".join(header) + "\n")
    assert (
        refusal(tmp_path / "x.csv") == "x.csv: looks like FiveThirtyEight IRA CSV but lacks required column(s): content"
    )


def test_it_checks_a_chosen_format_against_the_header(tmp_path):
    (tmp_path / "x.csv").write_text("a,b,c\n1,2,3\n")
    assert refusal(tmp_path / "x.csv", format="coshare") == (
        "x.csv: lacks the column(s) that Co-share table (CooRTweet) requires: account_id, post_id, timestamp"
    )


def test_it_refuses_a_header_no_importer_recognises(tmp_path):
    (tmp_path / "x.csv").write_text("a,b,c\n1,2,3\n")
    assert refusal(tmp_path / "x.csv") == (
        "x.csv: no importer recognises the header (columns: a, b, c); choose a format, "
        "or the generic CSV with a column mapping"
    )


def test_it_detects_and_decodes_a_latin1_file(tmp_path):
    texts = [f"Le café de la façade à Zürich, señor Muñoz, était très bon ({i})" for i in range(30)]
    rows = [[t, f"2016-01-01 00:{i:02d}:00", "marie"] for i, t in enumerate(texts)]
    (tmp_path / "latin.csv").write_bytes(csv_text(["text", "time", "user"], rows).encode("latin-1"))
    mapping = {"text": "text", "time": "time", "handle": "user"}
    posts, rejected = drain(only_source(tmp_path / "latin.csv", format="generic_csv", mapping=mapping))
    assert rejected == [] and [p.text for p in posts] == texts


def test_it_rejects_exactly_the_row_with_bytes_that_are_not_utf8(tmp_path):
    rows = ira_rows(10000)  # more than the 1 MB sniffed, so the file is taken as UTF-8
    head = csv_text(list(FULL_COLUMNS), rows).encode()
    assert len(head) > MB
    bad = csv_text(list(FULL_COLUMNS), ira_rows(1, content="caf\xe9 au lait")).split("\n", 1)[1].encode("latin-1")
    tail = csv_text(list(FULL_COLUMNS), ira_rows(2, content="fine café")).split("\n", 1)[1].encode()
    (tmp_path / "mixed.csv").write_bytes(head + bad + tail)
    posts, rejected = drain(only_source(tmp_path / "mixed.csv"))
    assert rejected == [RejectedRecord(10002, "content", "not valid UTF-8 (byte 0xE9); the file was read as UTF-8")]
    assert len(posts) == 10002 and posts[-1].text == "fine café"


def test_it_rejects_a_10_mb_field_and_keeps_the_rows_around_it(tmp_path):
    rows = ira_rows(4)
    rows[2][FULL_COLUMNS.index("content")] = "x" * (2 * MB)
    posts, rejected = drain(only_source(write_ira(tmp_path / "two.csv", rows)))
    assert rejected == [RejectedRecord(4, "content", "field is 2,097,152 characters; the limit is 1,000,000")]

    rows = ira_rows(4)
    rows[2][FULL_COLUMNS.index("content")] = "x" * (10 * MB)
    source = only_source(write_ira(tmp_path / "big.csv", rows))
    posts, rejected = drain(source)
    # past the line limit (4 x MAX_FIELD_CHARS) the line is never held whole: the field is named from its start
    assert [(r.line, r.field) for r in rejected] == [(4, "content")] and "longer than 4,065,536" in rejected[0].reason
    assert [p.line for p in posts] == [2, 3, 5]


@dataclass(frozen=True)
class TinyCsvLimit(Limits):
    @property
    def csv_field_hard_limit(self) -> int:
        return 10_000


def test_it_refuses_an_unterminated_quote_that_swallows_the_file(tmp_path):
    text = csv_text(list(FULL_COLUMNS), ira_rows(2)) + '1,a,"never closed\n' + "more text\n" * 3000
    (tmp_path / "quote.csv").write_text(text)
    assert refusal(tmp_path / "quote.csv", limits=TinyCsvLimit(max_field_chars=1000)) == (
        "quote.csv: line 4: field larger than field limit (10000); the file cannot be read past this line"
    )


def test_it_rejects_exactly_the_garbage_rows_of_a_good_file(tmp_path):
    rows = ira_rows(1000)
    noise = bytes(b for b in random.Random(7).randbytes(400) if b not in b'\r\n",')[:60].decode("latin-1")
    garbage = {  # row index -> (row, field it is rejected for)
        49: (["garbage", "row"], ""),
        149: (dict(publish_date="not a date"), "publish_date"),
        249: (dict(author=""), "author"),
        349: ([noise], ""),
        449: (dict(content="  "), "content"),
        549: (dict(publish_date="2016-13-45 99:99:99"), "publish_date"),
        649: (["1,2,3"], ""),
        749: (dict(publish_date=""), "publish_date"),
        849: ([""] * 14, ""),
        949: (dict(author="  "), "author"),
    }
    for i, (change, _) in garbage.items():
        rows[i] = change if isinstance(change, list) else [change.get(c, v) for c, v in zip(FULL_COLUMNS, rows[i])]
    rows[10][FULL_COLUMNS.index("followers")] = "n/a"  # an optional number: stored as unknown, not rejected
    source = only_source(write_ira(tmp_path / "dirty.csv", rows, encoding="latin-1"))
    posts, rejected = drain(source)
    assert [(r.line, r.field) for r in rejected] == [(i + 2, field) for i, (_, field) in garbage.items()]
    assert rejected[1].reason == "'not a date' is not a date (expected YYYY-MM-DD HH:MM:SS or M/D/YYYY H:MM)"
    assert (len(posts), len(rejected), source.rows_read) == (990, 10, 1000)
    assert posts[10].account.followers is None


def test_it_reports_progress_and_rows_read_while_streaming(tmp_path):
    source = only_source(write_ira(tmp_path / "ira.csv.gz", ira_rows(3000)))
    assert source.fraction_done() == 0.0 and source.size_bytes == (tmp_path / "ira.csv.gz").stat().st_size
    records = source.records()
    list(islice(records, 1500))
    assert source.rows_read == 1500 and 0.0 < source.fraction_done() <= 1.0
    list(records)
    assert source.rows_read == 3000 and source.fraction_done() == 1.0


# --- archives ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "member", ["../../etc/passwd", "/etc/passwd", "C:\\evil.csv", "ok/../../evil.csv", "..\\evil.csv"]
)
def test_it_refuses_a_zip_whose_member_names_escape_the_folder(tmp_path, member):
    write_zip(tmp_path / "evil.zip", {"fine.csv": b"a,b\n", member: b"x"})
    assert (
        refusal(tmp_path / "evil.zip")
        == f"evil.zip: member '{member}' escapes the archive folder; the archive was refused"
    )


def test_it_refuses_a_zip_whose_declared_sizes_pass_the_limit(tmp_path):
    data = csv_text(list(FULL_COLUMNS), ira_rows(10000)).encode()
    write_zip(tmp_path / "bomb.zip", {"a.csv": data[: len(data) // 2], "b.csv": data[len(data) // 2 :]})
    assert len(data) > MB
    assert refusal(tmp_path / "bomb.zip", limits=Limits(max_unzipped_bytes=MB)) == (
        "bomb.zip: expands past the 1,048,576-byte limit (MAX_UNZIPPED_BYTES)"
    )


def test_it_stops_a_zip_whose_headers_understate_the_size(tmp_path):
    content = "account_id,post_id,url_id,hashtag_id,domain_id,phash_id,timestamp\n" + "".join(
        f"a{i},{i},,,,,1629589836.0\n" for i in range(20000)
    )
    write_zip(tmp_path / "lie.zip", {"a.csv": content.encode()})
    understate_sizes(tmp_path / "lie.zip", 100_000)  # it claims 100 kB of 500; zipfile stops there, CRC failing
    source = only_source(tmp_path / "lie.zip", limits=Limits(max_unzipped_bytes=MB))
    with pytest.raises(
        ImportFileError,
        match=r"^lie\.zip/a\.csv: the zip member is corrupt after line [\d,]+ "
        r"\(Bad CRC-32 for file 'a\.csv'\); the file cannot be read$",
    ):
        drain(source)
    assert 0 < source.rows_read < content[:100_000].count("\n")


def test_it_stops_a_gzip_that_expands_past_the_limit(tmp_path):
    write_ira(tmp_path / "bomb.csv.gz", ira_rows(12000))
    assert refusal(tmp_path / "bomb.csv.gz", limits=Limits(max_unzipped_bytes=MB)) == (
        "bomb.csv.gz: expands past the 1,048,576-byte limit (MAX_UNZIPPED_BYTES)"
    )


def test_it_gives_one_source_per_member_of_a_zip(tmp_path):
    members = {
        "a.csv": csv_text(list(FULL_COLUMNS), ira_rows(3)).encode(),
        "sub/b.csv.gz": gzip.compress(csv_text(list(FULL_COLUMNS), ira_rows(2)).encode()),
        "__MACOSX/._a.csv": b"\x00junk",
        "README.md": b"# not data",
    }
    sources = list(open_sources(write_zip(tmp_path / "upload.zip", members)))
    assert [(s.name, s.format) for s in sources] == [
        ("upload.zip/a.csv", "ira_538"),
        ("upload.zip/sub/b.csv.gz", "ira_538"),
    ]
    assert [len(drain(s)[0]) for s in sources] == [3, 2]


# --- the other formats ------------------------------------------------------------------------------


def test_it_imports_an_x_information_operations_archive(tmp_path):
    rows = [
        xio_row(),
        xio_row(tweetid="901", is_retweet="True", retweet_userid="u2", retweet_tweetid="800", tweet_text="RT @x: hi"),
        xio_row(tweetid="902", quoted_tweet_tweetid="801"),
        xio_row(tweetid="903", in_reply_to_userid="u3", in_reply_to_tweetid="802", tweet_time="2017-01-02 03:04:05"),
        xio_row(
            tweetid="904",
            hashtags="[Tag1, tag2]",
            urls="['https://www.bbc.co.uk/news/x?y=1']",
            user_mentions="[12345, 678]",
            follower_count="n/a",
        ),
        xio_row(tweetid="905", tweet_time="yesterday"),
    ]
    (tmp_path / "io.csv").write_text(csv_text(list(XIO_COLUMNS), rows))
    source = only_source(tmp_path / "io.csv")
    posts, rejected = drain(source)
    assert source.format == "x_io_archive"
    assert rejected == [
        RejectedRecord(7, "tweet_time", "'yesterday' is not a date (expected YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS)")
    ]
    plain, retweet, quote, reply, listed = posts
    assert (plain.platform_id, plain.account.platform_id, plain.account.handle, plain.account.created) == (
        "900",
        "u1",
        "ann",
        datetime(2014, 3, 2, tzinfo=UTC),
    )
    assert (plain.hashtags, plain.mentions, plain.urls, plain.time) == (
        ["world"],
        ["bob"],
        ["example.com/a"],
        datetime(2017, 1, 2, 3, 4, tzinfo=UTC),
    )
    assert (retweet.kind, retweet.ref_post_id, retweet.ref_account.platform_id) == ("repost", "800", "u2")
    assert (quote.kind, quote.ref_post_id, quote.ref_account) == ("quote", "801", None)
    assert (reply.kind, reply.ref_post_id, reply.ref_account.platform_id, reply.time.second) == (
        "reply",
        "802",
        "u3",
        5,
    )
    assert (listed.hashtags, listed.urls, listed.domains, listed.mentions, listed.account.followers) == (
        ["tag1", "tag2"],
        ["bbc.co.uk/news/x"],
        ["bbc.co.uk"],
        ["12345", "678"],
        None,
    )


def v2_tweets() -> tuple[list[dict], list[dict], list[dict]]:
    tweets = [
        {
            "id": "2",
            "text": "RT @u0: hello #World",
            "author_id": "u1",
            "created_at": "2021-03-04T05:06:07.000Z",
            "lang": "en",
            "referenced_tweets": [{"type": "retweeted", "id": "1"}],
            "entities": {
                "hashtags": [{"tag": "World"}],
                "mentions": [{"username": "U0", "id": "u0"}],
                "urls": [{"url": "https://t.co/x", "expanded_url": "https://www.example.org/a?b=c"}],
            },
        },
        {
            "id": "3",
            "text": "@u1 yes",
            "author_id": "u2",
            "created_at": "2021-03-04T06:00:00Z",
            "in_reply_to_user_id": "u1",
            "referenced_tweets": [{"type": "replied_to", "id": "2"}],
        },
        {"id": "4", "text": "no time", "author_id": "u2"},
    ]
    users = [
        {
            "id": "u1",
            "username": "one",
            "name": "One",
            "created_at": "2010-01-01T00:00:00.000Z",
            "public_metrics": {"followers_count": 7, "following_count": 8},
        }
    ]
    return tweets, users, [{"id": "1", "author_id": "u0", "text": "hello #World"}]


def test_it_imports_a_twitter_v2_response_document(tmp_path):
    tweets, users, refs = v2_tweets()
    source = only_source(write_json(tmp_path / "page.json", v2_page(tweets, users, refs)))
    posts, rejected = drain(source)
    assert source.format == "twitter_v2_json"
    assert rejected == [RejectedRecord(3, "created_at", "tweet #3 (data[2]): the created_at is missing")]
    retweet, reply = posts
    assert (retweet.line, retweet.kind, retweet.ref_post_id, retweet.ref_account.platform_id) == (
        1,
        "repost",
        "1",
        "u0",
    )
    assert (retweet.account.handle, retweet.account.followers, retweet.account.following) == ("one", 7, 8)
    assert (retweet.hashtags, retweet.mentions, retweet.urls, retweet.domains) == (
        ["world"],
        ["u0"],
        ["example.org/a"],
        ["example.org"],
    )
    assert retweet.time == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert (reply.kind, reply.ref_post_id, reply.ref_account.platform_id, reply.account.handle, reply.mentions) == (
        "reply",
        "2",
        "u1",
        "",
        ["u1"],
    )


def test_it_imports_jsonl_pages_with_the_line_of_each_page(tmp_path):
    tweets, users, refs = v2_tweets()
    lines = [v2_page(tweets[:2], users, refs), v2_page(tweets[2:])]
    (tmp_path / "pages.jsonl").write_text("\n".join(json.dumps(p) for p in lines) + "\n")
    source = only_source(tmp_path / "pages.jsonl")
    posts, rejected = drain(source)
    assert [(p.line, p.platform_id) for p in posts] == [(1, "2"), (1, "3")]
    assert rejected == [RejectedRecord(2, "created_at", "tweet #1 of the page: the created_at is missing")]
    assert source.rows_read == 3


def test_it_imports_jsonl_tweets_and_rejects_a_line_that_is_not_json(tmp_path):
    tweets, _, _ = v2_tweets()
    (tmp_path / "tweets.jsonl").write_text(json.dumps(tweets[0]) + "\n{not json\n" + json.dumps(tweets[1]) + "\n")
    posts, rejected = drain(only_source(tmp_path / "tweets.jsonl"))
    assert [p.line for p in posts] == [1, 3]
    assert [(r.line, r.field) for r in rejected] == [(2, "")] and rejected[0].reason.startswith("not valid JSON (")


def test_it_numbers_the_tweets_of_a_document_of_several_pages(tmp_path):
    tweets, users, refs = v2_tweets()
    source = only_source(write_json(tmp_path / "pages.json", [v2_page(tweets[:2], users, refs), v2_page(tweets[2:])]))
    posts, rejected = drain(source)
    assert [p.line for p in posts] == [1, 2]
    assert rejected == [RejectedRecord(3, "created_at", "tweet #3 (page 2, data[0]): the created_at is missing")]


def test_it_refuses_json_that_is_not_a_twitter_response(tmp_path):
    (tmp_path / "stix.json").write_text('{\n  "type": "bundle",\n  "objects": []\n}\n')
    assert refusal(tmp_path / "stix.json") == (
        "stix.json: JSON, but not Twitter API v2 JSON (expected an object with 'data', or one tweet or page per line)"
    )
    assert (
        refusal(tmp_path / "stix.json", format="ira_538") == "stix.json: the file is JSON, not FiveThirtyEight IRA CSV"
    )


def test_it_imports_a_coshare_table_one_record_per_row(tmp_path):
    text = (
        "account_id,post_id,url_id,hashtag_id,domain_id,phash_id,timestamp\n"
        "fb_1,10,u9,,d3,,1629589836.0\nfb_1,10,,h4,,p5,1629589836.0\nfb_2,,,,,,1629589836.0\n"
    )
    (tmp_path / "co.csv").write_text(text)
    source = only_source(tmp_path / "co.csv")
    posts, rejected = drain(source)
    assert FORMATS[source.format].merge_rows is True and FORMATS["ira_538"].merge_rows is False
    assert [(p.platform_id, p.urls, p.domains, p.hashtags, p.images) for p in posts] == [
        ("10", ["u9"], ["d3"], [], []),
        ("10", [], [], ["h4"], ["p5"]),
    ]
    assert posts[0].time == datetime(2021, 8, 21, 23, 50, 36, tzinfo=UTC) and posts[0].text == ""
    assert rejected == [RejectedRecord(4, "post_id", "the post_id is empty")]


S = "693785810311778304"  # a real source tweet id, so the expected time can be written down


def test_it_reads_a_hand_checked_propagation_tree(tmp_path):
    root = ("u1", S, "0.0")
    u2, u3 = ("u2", S, "1.5"), ("u3", S, "2.0")
    lines = [
        edge(("ROOT", "ROOT", "0.0"), root),  # 1: the source post
        edge(root, u2),  # 2: u2 retweets the source
        edge(u2, u3),  # 3: u3 retweets via u2
        edge(root, u2),  # 4: repeats line 2
        edge(("u9", S, "3.0"), ("u4", S, "4.0")),  # 5: unknown parent
        edge(root, ("u5", S, "-2.0")),  # 6: negative delay
        edge(u3, u3),  # 7: its own parent
        edge(u3, root),  # 8: a cycle back to the root
        "garbage",  # 9
        edge(root, ("u2", S, "5.0")),  # 10: u2 again, later: a second retweet, kept
        edge(("u2", S, "5.0"), u3),  # 11: u3 already has a parent
        edge(("u6", S, "7.0"), ("u7", S, "8.0")),  # 12: its parent's line comes next: kept
        edge(root, ("u6", S, "7.0")),  # 13
    ]
    source = only_source(tree_zip(tmp_path / "t15.zip", {S: lines}, {S: "false"}, {S: "the source text"}))
    posts, rejected = drain(source)
    assert source.format == "twitter_tree_zip" and source.rows_read == 13
    assert [p.line for p in posts] == [1, 2, 3, 10, 12, 13]
    t0 = datetime(2016, 1, 31, 13, 20, 1, 752000, tzinfo=UTC)
    source_post, via_root, via_u2, again, early, _ = posts
    assert (early.account.platform_id, early.ref_account.platform_id) == ("u7", "u6")
    assert (
        source_post.platform_id,
        source_post.account.platform_id,
        source_post.text,
        source_post.time,
        source_post.kind,
    ) == (S, "u1", "the source text", t0, "post")
    assert (via_root.kind, via_root.ref_post_id, via_root.ref_account.platform_id, via_root.time) == (
        "repost",
        S,
        "u1",
        t0 + timedelta(minutes=1.5),
    )
    assert (via_u2.account.platform_id, via_u2.ref_account.platform_id, via_u2.time) == (
        "u3",
        "u2",
        t0 + timedelta(minutes=2),
    )
    assert again.platform_id != via_root.platform_id and {p.labels["veracity"] for p in posts} == {"false"}
    field = f"tree/{S}.txt"
    assert [(r.line, r.field, r.reason) for r in rejected] == [
        (4, field, "repeats line 2"),
        (5, field, "unknown parent u9 (no line of the tree introduces it)"),
        (6, field, "negative delay -2 minutes (before the source tweet)"),
        (7, field, "node u3 is its own parent (a cycle)"),
        (8, field, "node u1 is an ancestor of its parent u3 (a cycle)"),
        (9, field, "unparsable line 'garbage' (expected ['uid', 'tweet', 'delay']->['uid', 'tweet', 'delay'])"),
        (11, field, "node u3 already has a parent (line 3)"),
    ]


def test_a_tree_rooted_at_an_earlier_tweet_keeps_its_cascade_under_the_file_id(tmp_path):
    # 8 real Twitter15 trees: the file's tweet retweets an earlier one, the ROOT line's, at a negative delay,
    # listed after some of its children. Their ROOT lines were rejected and 5,271 reposts orphaned.
    other = "693785810311778305"
    root = ("u1", other, "-97.9")
    lines = [
        edge(root, ("u2", other, "-50.0")),  # 1: before the ROOT line, after the root's time: kept
        edge(("ROOT", "ROOT", "0.0"), root),  # 2
        edge(root, ("u3", S, "0.2")),  # 3
        edge(root, ("u4", S, "-99.0")),
    ]  # 4: before the root itself
    posts, rejected = drain(only_source(tree_zip(tmp_path / "t.zip", {S: lines}, {S: "true"}, {S: "src"})))
    early, source_post, repost = posts
    t0 = datetime(2016, 1, 31, 13, 20, 1, 752000, tzinfo=UTC)
    assert (source_post.platform_id, source_post.text, source_post.labels) == (
        S,
        "src",
        {"veracity": "true", "root_tweet": other},
    )
    assert source_post.time == t0 - timedelta(minutes=97.9) and early.time == t0 - timedelta(minutes=50)
    assert {(p.ref_post_id, p.ref_account.platform_id) for p in (early, repost)} == {(S, "u1")}
    assert [(r.line, r.reason) for r in rejected] == [(4, "delay -99 minutes is before the source tweet's (-97.9)")]


# --- generic CSV and detection ----------------------------------------------------------------------


def test_it_needs_a_mapping_for_the_generic_csv(tmp_path):
    (tmp_path / "x.csv").write_text("body,when,who\nhi,2016-01-01 00:00:00,ann\n")
    assert refusal(tmp_path / "x.csv", format="generic_csv") == (
        "x.csv: the generic CSV format needs a column mapping (at least the text column)"
    )


def test_it_refuses_a_mapping_that_names_a_column_the_header_lacks(tmp_path):
    (tmp_path / "x.csv").write_text("body,when,who\nhi,2016-01-01 00:00:00,ann\n")
    mapping = {"text": "text", "time": "when", "handle": "who"}
    assert refusal(tmp_path / "x.csv", format="generic_csv", mapping=mapping) == (
        "x.csv: the column mapping names column(s) not in the header: 'text' "
        "(name a column by its header, or by its position: col1 to col3)"
    )


def test_it_imports_a_generic_csv_with_labels_and_hashed_ids(tmp_path):
    (tmp_path / "x.csv").write_text("body,when,who,stance\nhi #there,1629589836,Ann,pro\nbad,whenever,Bob,con\n")
    mapping = {"text": "body", "time": "when", "handle": "who", "label:stance": "stance"}
    source = only_source(tmp_path / "x.csv", format="generic_csv", mapping=mapping, labels={"batch": "b1"})
    posts, rejected = drain(source)
    (post,) = posts
    assert (post.account.platform_id, post.labels, post.hashtags, post.platform_id[0]) == (
        "Ann",
        {"batch": "b1", "stance": "pro"},
        ["there"],
        "h",
    )
    assert [(r.line, r.field) for r in rejected] == [(3, "when")]


SAMPLE_HEADER = [
    "author_id",
    "account_category",
    "account_type",
    "publish_date",
    "is_retweet",
    "post_type",
    "content",
    "hashtags",
    "mentions",
    "urls",
    "followers",
    "following",
]
COSHARE_HEADER = ["account_id", "post_id", "url_id", "hashtag_id", "domain_id", "phash_id", "timestamp"]


def detection_cases(tmp_path):
    tweets, users, refs = v2_tweets()
    return {
        "ira_538": write_ira(tmp_path / "ira.csv.gz", ira_rows(2)),
        "ira_538 (sample layout)": write_csv(
            tmp_path / "sample.csv",
            SAMPLE_HEADER,
            ["a", "c", "t", "2016-01-01 00:00:00", "0", "", "hi", "", "", "", "1", "2"],
        ),
        "x_io_archive": write_csv(tmp_path / "io.csv", list(XIO_COLUMNS), xio_row()),
        "coshare": write_csv(tmp_path / "co.csv", COSHARE_HEADER, ["a", "1", "", "", "", "", "1"]),
        "twitter_v2_json": write_json(tmp_path / "v2.json", v2_page(tweets, users, refs)),
        "twitter_v2_json (jsonl)": _write(tmp_path / "v2.jsonl", "".join(json.dumps(t) + "\n" for t in tweets)),
        "twitter_tree_zip": tree_zip(
            tmp_path / "t.zip", {S: [edge(("ROOT", "ROOT", "0.0"), ("u1", S, "0.0"))]}, {S: "true"}, {S: "x"}
        ),
    }


def write_csv(path, header, row):
    path.write_text(csv_text(header, [row]))
    return path


def _write(path, text):
    path.write_text(text)
    return path


def test_it_detects_every_format_from_the_content(tmp_path):
    for expected, path in detection_cases(tmp_path).items():
        assert only_source(path).format == expected.split(" ")[0], expected


def test_it_never_chooses_the_generic_csv_silently(tmp_path):
    (tmp_path / "x.csv").write_text("text,created_at,user\nhi,2016-01-01 00:00:00,ann\n")
    assert "no importer recognises the header" in refusal(tmp_path / "x.csv")


def test_it_lists_its_formats_labels_and_generic_fields():
    assert list(FORMATS) == ["ira_538", "x_io_archive", "twitter_v2_json", "generic_csv", "twitter_tree_zip", "coshare"]
    assert FORMAT_LABELS["ira_538"] == "FiveThirtyEight IRA CSV" and set(FORMAT_LABELS) == set(FORMATS)
    assert GENERIC_FIELDS[:6] == ["post_id", "account_id", "handle", "display_name", "text", "time"]


def test_it_previews_a_file_with_a_guessed_mapping(tmp_path):
    (tmp_path / "x.csv").write_text(
        "tweet_id,name,text,tweet_created\n1,ann,hi,2015-02-24 11:35:52 -0800\n2,bob,yo,2015-02-24 11:36:52 -0800\n"
    )
    result = preview(tmp_path / "x.csv", rows=1)
    assert result == {
        "name": "x.csv",
        "format": None,
        "format_label": None,
        "columns": ["tweet_id", "name", "text", "tweet_created"],
        "rows": [["1", "ann", "hi", "2015-02-24 11:35:52 -0800"]],
        "encoding": "utf-8",
        "delimiter": ",",
        "error": None,
        "guessed_mapping": {"post_id": "tweet_id", "handle": "name", "text": "text", "time": "tweet_created"},
        "quoting": "csv",
        "header": True,
    }


def test_it_previews_a_known_format_and_reports_errors_without_raising(tmp_path):
    result = preview(write_ira(tmp_path / "ira.csv.gz", ira_rows(3)), rows=2)
    assert (result["format"], result["format_label"], len(result["rows"]), result["error"]) == (
        "ira_538",
        "FiveThirtyEight IRA CSV",
        2,
        None,
    )
    (tmp_path / "empty.csv").write_bytes(b"")
    assert preview(tmp_path / "empty.csv")["error"] == "empty.csv: the file is empty"
    write_zip(tmp_path / "evil.zip", {"../x.csv": b"a"})
    assert (
        preview(tmp_path / "evil.zip")["error"]
        == "evil.zip: member '../x.csv' escapes the archive folder; the archive was refused"
    )


def test_it_previews_records_of_a_tree_zip(tmp_path):
    path = tree_zip(tmp_path / "t.zip", {S: [edge(("ROOT", "ROOT", "0.0"), ("u1", S, "0.0"))]}, {S: "true"}, {S: "src"})
    result = preview(path)
    assert (result["format"], result["rows"]) == (
        "twitter_tree_zip",
        [["1", S, "u1", "2016-01-31T13:20:01.752000+00:00", "post", "src"]],
    )


# --- real data slices (read from ../shared/data, written only to tmp_path) --------------------------


def test_it_imports_the_first_2000_rows_of_the_real_ira_file(shared_data, tmp_path):
    with gzip.open(shared_data / "ira" / "ira_dev_en.csv.gz", "rt", encoding="utf-8", newline="") as f:
        lines = list(islice(csv.reader(f), 2001))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(lines)
    (tmp_path / "ira.csv.gz").write_bytes(gzip.compress(out.getvalue().encode()))
    source = only_source(tmp_path / "ira.csv.gz")
    posts, rejected = drain(source)
    assert (source.format, len(posts), rejected, source.rows_read) == ("ira_538", 2000, [], 2000)
    first = posts[0]
    assert (first.line, first.account.platform_id, first.account.handle, first.time) == (
        2,
        "2535564756",
        "1D_Nicole_",
        datetime(2015, 5, 25, 12, 38, tzinfo=UTC),
    )
    assert first.account.labels == {"account_category": "Fearmonger", "account_type": "Koch", "region": "United States"}
    assert posts[3].urls == ["t.co/fEOsiKho7C"] and posts[3].domains == ["t.co"]
    assert {p.kind for p in posts} <= {"post", "repost", "quote"} and len({p.platform_id for p in posts}) > 1990


def test_it_imports_the_head_of_the_real_ira_sample_with_its_entity_columns(shared_data, tmp_path):
    with open(shared_data / "ira" / "ira_dev_sample_en.csv", encoding="utf-8", newline="") as f:
        (tmp_path / "sample.csv").write_text("".join(islice(f, 301)), encoding="utf-8")
    posts, rejected = drain(only_source(tmp_path / "sample.csv"))
    assert (len(posts), rejected) == (300, [])
    assert (posts[1].hashtags, posts[1].account.platform_id, posts[1].account.labels) == (
        ["mindset"],
        "Crystal1Johnson",
        {"account_category": "LeftTroll", "account_type": "left"},
    )
    assert posts[2].kind == "repost" and posts[2].account.followers == 20


def test_it_imports_a_slice_of_the_real_coshare_table(shared_data, tmp_path):
    with gzip.open(shared_data / "coortweet" / "german_elections.csv.gz", "rt", encoding="utf-8") as f:
        (tmp_path / "co.csv.gz").write_bytes(gzip.compress("".join(islice(f, 2001)).encode()))
    source = only_source(tmp_path / "co.csv.gz")
    posts, rejected = drain(source)
    assert (source.format, len(posts) + len(rejected), rejected) == ("coshare", 2000, [])
    assert (posts[0].platform_id, posts[0].account.platform_id, posts[0].urls, posts[0].domains) == (
        "129235",
        "fb_12670",
        ["23678"],
        ["3498"],
    )


def test_it_imports_real_twitter15_trees(shared_data, tmp_path):
    with zipfile.ZipFile(shared_data / "twitter15" / "twitter15.zip") as real:
        trees = [n for n in real.namelist() if "/tree/" in n and n.endswith(".txt")][:3]
        members = {n: real.read(n) for n in trees + ["twitter15/label.txt", "twitter15/source_tweets.txt"]}
    write_zip(tmp_path / "t15.zip", members)
    lines = sum(len(members[n].splitlines()) for n in trees)
    source = only_source(tmp_path / "t15.zip")
    posts, rejected = drain(source)
    assert source.rows_read == len(posts) + len(rejected) == lines
    labels = dict(reversed(line.split(":")) for line in members["twitter15/label.txt"].decode().split())
    roots = [p for p in posts if p.kind == "post"]
    assert [r.platform_id for r in roots] == [n.rsplit("/", 1)[1][:-4] for n in trees]
    assert all(r.labels == {"veracity": labels[r.platform_id]} and r.text for r in roots)
    assert len({p.platform_id for p in posts}) == len(posts)


def test_it_imports_the_real_obama_tweets_with_their_accents(shared_data):
    path = shared_data / "control" / "barackobama_tweets.csv"
    assert sniff_encoding(path.read_bytes()[:MB]).mojibake_layers == 2  # UTF-8 saved twice as Mac Roman upstream
    mapping = {"text": "text", "time": "created_at", "handle": "user"}
    posts, rejected = drain(only_source(path, format="generic_csv", mapping=mapping))
    assert (len(posts), rejected) == (3207, [])
    text = " ".join(p.text for p in posts)
    assert "están cubiertos" in text and "mañana" in text and "it’s" in text
    assert posts[0].time == datetime(2017, 10, 16, 22, 59, tzinfo=UTC) and posts[0].account.handle == "BarackObama"


def test_it_imports_the_real_airline_tweets_in_utc(shared_data):
    mapping = {
        "post_id": "tweet_id",
        "text": "text",
        "time": "tweet_created",
        "handle": "name",
        "label:sentiment": "airline_sentiment",
    }
    source = only_source(shared_data / "control" / "airline_tweets.csv", format="generic_csv", mapping=mapping)
    posts, rejected = drain(source)
    assert (len(posts), rejected) == (14640, [])
    first = posts[0]
    assert (first.platform_id, first.time, first.labels, first.mentions) == (
        "570306133677760513",
        datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC),
        {"sentiment": "neutral"},
        ["virginamerica", "dhepburn"],
    )
