"""Every importer under hypothesis: small real slices of ../shared/data (read at test time, never kept),
mutated with random bytes, truncations, other encodings, NULs, huge fields, hostile values and corrupt or
exploding containers (gzip, zip, gzip in zip, compressed bombs).

Three properties:
1. Never a crash: reading an upload yields records or raises ImportFileError (the file is refused with a
   message that names it and can be stored); nothing else escapes, and every post can be stored (no NUL,
   no lone surrogate, no text over the field limit, an aware time or none).
2. Never past the memory bound: the peak Python allocation (tracemalloc) of opening an upload stays under
   SNIFF_BOUND (it reads a 1 MiB sample whatever the file), and that of reading its records under
   ``memory_bound(limits)``, what the documented limits (limits.py) let a reader hold at once, with a
   margin; a bomb expanding to 32 MiB must not be held.
3. Every row accounted for: an import job's rows read = stored + duplicates + rejected, per file and in
   all, equal to what the parser yields; a refused file fails the job with its message and keeps nothing.

Bounded and repeatable: fixed example counts, ``derandomize=True`` and no example database, so every run
tries the same inputs (about 40 s on two cores). A failure notes the seed, the mutations and the container.
The regressions at the end are the inputs the fuzz found, each kept as a plain test.
"""
from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import tracemalloc
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from apps.collections.importers import ImportFileError, Limits, PostRecord, RejectedRecord, open_sources
from apps.collections.importers.encoding import SAMPLE_BYTES
from apps.collections.importers.ira import FULL_COLUMNS
from apps.collections.importers.records import nul_field
from apps.collections.importers.x_io import COLUMNS as XIO_COLUMNS
from apps.collections.models import ImportFile, Post, RejectedRow
from apps.collections.services import import_start
from apps.jobs.services import job_execute, job_text
from tests.collections.importer_files import understate_sizes
from tests.conftest import SHARED_DATA

FUZZ_LIMITS = Limits(max_field_chars=2_000, max_unzipped_bytes=2 * 2**20, max_document_chars=256 * 1024)
# What the import job reads under the settings `import_settings` gives (services builds its Limits from them).
JOB_LIMITS = Limits(max_field_chars=2_000, max_unzipped_bytes=2 * 2**20)
# Bombs need room to expand: the line and document limits must stop them, not the expansion limit.
BOMB_LIMITS = Limits(max_field_chars=2_000, max_unzipped_bytes=64 * 2**20, max_document_chars=256 * 1024)
BOMB_BYTES = 32 * 2**20  # past memory_bound(BOMB_LIMITS): a reader that held a bomb whole would fail
SEED_ROWS = 12
# Sniffing reads the first 1 MiB whatever the limits; charset_normalizer's guess of a code page works on it
# at up to about 90 times its size (91 MiB measured: a mostly-ASCII sample with a few stray bytes).
SNIFF_BOUND = 128 * SAMPLE_BYTES


def fuzz_settings(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def memory_bound(limits: Limits) -> int:
    """What reading the records may hold at once, in bytes, with a margin: the sample's text kept for the
    header (up to 4 bytes a character), a few physical lines of up to ``line_limit`` characters, and one JSON
    document or tree file of up to ``document_limit`` characters with what is parsed from it. Nothing here
    grows with the file."""
    return 8 * SAMPLE_BYTES + 8 * 4 * limits.line_limit + 40 * limits.document_limit


# -- seeds: a dozen real rows of each format, read at test time -------------------------------------------
@dataclass(frozen=True)
class Seed:
    name: str  # the upload's name (a zip member's, when zipped)
    data: bytes = b""  # the file (a Twitter15 zip has `members` instead)
    format: str | None = None  # None: detected, as an upload without a chosen format
    mapping: dict | None = None
    members: tuple[tuple[str, bytes], ...] = ()


def csv_rows(path: Path, rows: int, encoding: str = "utf-8") -> list[list[str]]:
    """The header and the first `rows` rows of a real CSV file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding=encoding) as f:
        return list(itertools.islice(csv.reader(f), rows + 1))


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode(encoding)


def csv_seed(name: str, path: Path, format: str | None = None, mapping: dict | None = None,
             encoding: str = "utf-8") -> Seed:
    # latin-1 maps bytes to characters one to one: a file's own encoding survives the round trip
    return Seed(name, csv_bytes(csv_rows(path, SEED_ROWS, encoding), encoding), format, mapping)


def xio_seed() -> Seed:
    """An information-operations archive layout holding real airline tweets."""
    header, *rows = csv_rows(SHARED_DATA / "control" / "airline_tweets.csv", SEED_ROWS)
    at = {c: header.index(c) for c in ("tweet_id", "name", "text", "tweet_created")}
    out = [list(XIO_COLUMNS)]
    for row in rows:
        values = {
            "tweetid": row[at["tweet_id"]], "userid": f"u_{row[at['name']]}", "user_screen_name": row[at["name"]],
            "tweet_text": row[at["text"]], "tweet_time": row[at["tweet_created"]][:19], "is_retweet": "False",
            "tweet_language": "en", "follower_count": "12", "hashtags": "[]",
        }
        out.append([values.get(c, "") for c in XIO_COLUMNS])
    return Seed("xio.csv", csv_bytes(out))


def tweets() -> list[dict]:
    """Real COVID-19 posts as Twitter API v2 tweets (the texts are real, the ids and authors made up)."""
    _, *rows = csv_rows(SHARED_DATA / "constraint" / "Constraint_Train.csv", SEED_ROWS)
    out = []
    for i, text, _label in rows:
        n = int(i)
        tweet = {"id": str(1300000000000000000 + n), "text": text, "author_id": str(7 + n % 3), "lang": "en",
                 "created_at": f"2020-08-{1 + n % 28:02d}T12:{n % 60:02d}:00.000Z"}
        if n % 4 == 0:
            tweet["referenced_tweets"] = [{"type": "retweeted", "id": "1300000000000000001"}]
        out.append(tweet)
    return out


def page(data: list[dict]) -> dict:
    users = [{"id": str(u), "username": f"user{u}", "name": f"User {u}", "public_metrics": {"followers_count": u}}
             for u in (7, 8, 9)]
    return {"data": data, "includes": {"users": users, "tweets": data[:1]}, "meta": {"result_count": len(data)}}


def tree_seed() -> Seed:
    """The two smallest Twitter15 trees with their label and source-tweet lines."""
    with zipfile.ZipFile(SHARED_DATA / "twitter15" / "twitter15.zip") as archive:
        infos = sorted((i for i in archive.infolist() if "/tree/" in i.filename and i.file_size),
                       key=lambda i: i.file_size)[:2]
        ids = [Path(i.filename).stem for i in infos]
        members = {f"twitter15/tree/{tid}.txt": archive.read(info) for tid, info in zip(ids, infos)}
        for base in ("label.txt", "source_tweets.txt"):
            lines = archive.read(f"twitter15/{base}").decode().splitlines()
            kept = [f"{line}\n" for line in lines if any(tid in line for tid in ids)]
            members[f"twitter15/{base}"] = "".join(kept).encode()
    return Seed("twitter15.zip", members=tuple(members.items()))


AIRLINE = {"post_id": "tweet_id", "handle": "name", "text": "text", "time": "tweet_created",
           "label:sentiment": "airline_sentiment"}
SEED_MAKERS = {
    "ira_full": lambda: csv_seed("ira.csv", SHARED_DATA / "ira" / "ira_dev_en.csv.gz"),
    "ira_sample": lambda: csv_seed("ira_sample.csv", SHARED_DATA / "ira" / "ira_dev_sample_en.csv"),
    "coshare": lambda: csv_seed("coshare.csv", SHARED_DATA / "coortweet" / "german_elections.csv.gz"),
    "x_io": xio_seed,
    "generic_airline": lambda: csv_seed("airline.csv", SHARED_DATA / "control" / "airline_tweets.csv", "generic_csv",
                                        AIRLINE),
    "generic_mojibake": lambda: csv_seed(  # UTF-8 saved as Mac Roman twice over (see encoding.py)
        "obama.csv", SHARED_DATA / "control" / "barackobama_tweets.csv", "generic_csv",
        {"handle": "user", "text": "text", "time": "created_at", "label:url": "url"}, encoding="latin-1",
    ),
    "v2_jsonl": lambda: Seed("tweets.jsonl", "".join(json.dumps(t) + "\n" for t in tweets()).encode()),
    "v2_document": lambda: Seed("page.json", json.dumps(page(tweets()), indent=1).encode()),
    "v2_pages": lambda: Seed("pages.jsonl", "".join(json.dumps(page(tweets()[i::2])) + "\n" for i in (0, 1)).encode()),
    "twitter_tree": tree_seed,
}


class Seeds(dict):
    def __repr__(self) -> str:  # what a failing example prints for the fixture: not the seeds' bytes
        return "<seeds>"


@pytest.fixture(scope="module")
def seeds() -> Seeds:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: the importer fuzz builds its seeds from ../shared/data")
    return Seeds((name, make()) for name, make in SEED_MAKERS.items())


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


# -- mutations: plain data (what a failing example notes), applied to a seed's bytes ----------------------
HOSTILE_VALUES = (
    "", " ", "\\u0000", "\\ud800", "\\udfff", "\x00", "\udcff", "\r", "\u2028", "\ufeff", "'", '"', "''", "ROOT", "->",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00", "0001-01-01 00:00:00 +0100", "9999-12-31 23:59:59 -1400",
    "Mon Jan 01 00:00:00 +1400 0001", "12/31/99 99:99", "-99999999999", "1e400", "NaN", "Infinity", "9" * 40,
    "-" + "9" * 40, "0x1F", "null", "true", "[]", "{}", "[[[[[[[[", '{"data": 1}', "𝕏" * 30,
)
TOKEN_EDGES = b",;\t|\"'\n\r[]{}:"
position = st.floats(0, 1)
op = st.one_of(
    st.tuples(st.just("truncate"), position),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=24)),
    st.tuples(st.just("overwrite"), position, st.binary(min_size=1, max_size=24)),
    st.tuples(st.just("delete"), position, st.integers(1, 200)),
    st.tuples(st.just("nul"), position),
    st.tuples(st.just("huge"), position, st.sampled_from(["field", "line", "sample"]),
              st.sampled_from(["a", "é", "😀", '"', ",", " "])),
    st.tuples(st.just("value"), position, st.sampled_from(HOSTILE_VALUES) | st.text(max_size=40)),
    st.tuples(st.just("repeat_line"), position, st.integers(1, 3)),
    st.tuples(st.just("newlines"), st.sampled_from([b"\r\n", b"\r", b"\n\n"])),
    st.tuples(st.just("delimiter"), st.sampled_from([b";", b"\t", b"|"])),
)
uploads = {
    "name": st.sampled_from(sorted(SEED_MAKERS)),
    "ops": st.lists(op, max_size=4),
    "encoding": st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "cp1252", "mojibake", "latin-1"]),
    "container": st.sampled_from(["plain", "plain", "gzip", "zip", "gzip_in_zip"]),  # a tree zip stays a zip
    "broken": st.none() | st.tuples(st.sampled_from(["cut", "flip"]), position, st.binary(min_size=1, max_size=4)),
    "member": st.integers(0, 3),  # which member of a tree zip the mutations go to
}


def at(data: bytes, where: float) -> int:
    return min(int(where * len(data)), len(data))


def mutate(data: bytes, ops: list[tuple], limits: Limits) -> bytes:
    sizes = {"field": limits.max_field_chars + 1, "line": limits.line_limit + 1, "sample": SAMPLE_BYTES + 1}
    for kind, *args in ops:
        i = at(data, args[0]) if args and isinstance(args[0], float) else 0
        if kind == "truncate":
            data = data[:i]
        elif kind == "insert":
            data = data[:i] + args[1] + data[i:]
        elif kind == "overwrite":
            data = data[:i] + args[1] + data[i + len(args[1]):]
        elif kind == "delete":
            data = data[:i] + data[i + args[1]:]
        elif kind == "nul":
            data = data[:i] + b"\x00" + data[i:]
        elif kind == "huge":
            data = data[:i] + (args[2] * sizes[args[1]]).encode() + data[i:]
        elif kind == "value":
            data = replace_token(data, i, args[1].encode("utf-8", "surrogatepass"))
        elif kind == "repeat_line":
            data = repeat_line(data, args[0], args[1])
        elif kind == "newlines":
            data = data.replace(b"\n", args[0])
        elif kind == "delimiter":
            data = data.replace(b",", args[0])
    return data


def replace_token(data: bytes, i: int, value: bytes) -> bytes:
    """The cell, JSON value or part of a tree edge around position i, replaced."""
    start, end = i, i
    while start > 0 and data[start - 1] not in TOKEN_EDGES:
        start -= 1
    while end < len(data) and data[end] not in TOKEN_EDGES:
        end += 1
    return data[:start] + value + data[end:]


def repeat_line(data: bytes, where: float, times: int) -> bytes:
    """A line said again: a duplicate to account for."""
    lines = data.splitlines(keepends=True)
    if lines:
        i = min(int(where * len(lines)), len(lines) - 1)
        lines[i + 1:i + 1] = [lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n"] * times
    return b"".join(lines)


def encode(data: bytes, encoding: str) -> bytes:
    if encoding == "utf-8":
        return data
    text = data.decode("utf-8", "replace")
    if encoding == "mojibake":  # UTF-8 read as Windows-1252 and saved as Mac Roman (the twitter-ratio files)
        return text.encode("utf-8").decode("cp1252", "replace").encode("mac_roman", "replace")
    return text.encode(encoding, "replace")


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, body in members.items():
            archive.writestr(member, body)
    return out.getvalue()


def pack(name: str, data: bytes, container: str) -> tuple[str, bytes]:
    if container == "gzip":
        return f"{name}.gz", gzip.compress(data, compresslevel=1)
    if container == "zip":
        return f"{Path(name).stem}.zip", zipped({f"data/{name}": data})
    if container == "gzip_in_zip":
        return f"{Path(name).stem}.zip", zipped({f"data/{name}.gz": gzip.compress(data, compresslevel=1)})
    return name, data


def corrupt(data: bytes, broken: tuple | None) -> bytes:
    if broken is None:
        return data
    kind, where, payload = broken
    i = at(data, where)
    return data[:i] if kind == "cut" else data[:i] + payload + data[i + len(payload):]


def upload(s: Seed, ops, encoding: str, container: str, broken, member: int, limits: Limits) -> tuple[str, bytes]:
    """(name, bytes) of the upload an example describes."""
    if s.members:
        members = dict(s.members)
        target = sorted(members)[member % len(members)]
        members[target] = mutate(encode(members[target], encoding), ops, limits)
        return s.name, corrupt(zipped(members), broken)
    name, data = pack(s.name, mutate(encode(s.data, encoding), ops, limits), container)
    return name, data if container == "plain" else corrupt(data, broken)


def written(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


# -- the parser's side ------------------------------------------------------------------------------------
@dataclass
class Parsed:
    posts: int = 0
    rejected: int = 0
    refused: str | None = None  # the ImportFileError message, where the file was refused
    sniff_peak: int = 0  # bytes: tracemalloc's peak while the upload is opened (sniffed)
    peak: int = 0  # bytes: tracemalloc's peak while its records are read


def parse(path: Path, *, name: str, format: str | None = None, mapping: dict | None = None,
          limits: Limits = FUZZ_LIMITS) -> Parsed:
    """Read an upload as the import job does, checking every record; only ImportFileError may escape."""
    result = Parsed()
    tracemalloc.start()
    try:
        try:
            sources = list(open_sources(path, name=name, format=format, mapping=mapping, limits=limits))
        finally:
            result.sniff_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
        for source in sources:
            n = 0
            for record in source.records():
                n += 1
                if isinstance(record, PostRecord):
                    assert_storable(record, limits)
                    result.posts += 1
                else:
                    assert isinstance(record, RejectedRecord), record
                    assert record.line >= 0 and isinstance(record.field, str) and record.reason, record
                    result.rejected += 1
            assert source.rows_read == n, f"{source.name}: rows_read {source.rows_read}, records {n}"
    except ImportFileError as exc:
        result.refused = str(exc)
        assert result.refused.startswith(name), f"a refusal should name the file: {exc}"
        result.refused.encode("utf-8")  # it becomes the job's error: a lone surrogate could not be saved
    finally:
        result.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert result.sniff_peak <= SNIFF_BOUND, f"opening the upload held {result.sniff_peak / 2**20:.1f} MiB"
    return result


def assert_storable(record: PostRecord, limits: Limits) -> None:
    assert record.platform_id and record.account.platform_id, record
    assert nul_field(record) is None, record
    assert record.time is None or isinstance(record.time, datetime) and record.time.tzinfo is not None, record
    assert len(record.text) <= limits.max_field_chars, f"line {record.line}: a {len(record.text):,}-character text"
    a, ref = record.account, record.ref_account
    values = [record.platform_id, record.text, record.language, record.kind, record.ref_post_id, a.platform_id,
              a.handle, a.display_name, ref.platform_id if ref is not None else "", *record.hashtags, *record.urls,
              *record.domains, *record.mentions, *record.images,
              *(f"{k}{v}" for k, v in {**record.labels, **a.labels}.items())]
    for value in values:
        assert isinstance(value, str), (record.line, value)
        value.encode("utf-8")  # a lone surrogate (an undecodable byte kept by surrogateescape) cannot be stored


@fuzz_settings(800)
@given(**uploads)
def test_no_upload_crashes_the_parser_or_passes_the_memory_bound(seeds, tmp, name, ops, encoding, container, broken,
                                                                 member):
    note(f"seed={name!r} ops={ops!r} encoding={encoding!r} container={container!r} broken={broken!r} member={member}")
    s = seeds[name]
    upload_name, data = upload(s, ops, encoding, container, broken, member, FUZZ_LIMITS)
    parsed = parse(written(tmp, upload_name, data), name=upload_name, format=s.format, mapping=s.mapping)
    assert parsed.peak <= memory_bound(FUZZ_LIMITS), f"reading the records held {parsed.peak / 2**20:.1f} MiB"


# -- the import job: every row accounted for --------------------------------------------------------------
@pytest.fixture
def import_settings(settings):
    settings.MURMURATION = {**settings.MURMURATION, "MAX_FIELD_CHARS": JOB_LIMITS.max_field_chars,
                            "MAX_UNZIPPED_BYTES": JOB_LIMITS.max_unzipped_bytes, "INGEST_BATCH_ROWS": 5,
                            "MAX_REJECTED_KEPT": 3}  # several batches a file, and rejected rows past those kept
    return settings


imports = itertools.count()


@fuzz_settings(100)
@given(**uploads)
def test_every_row_of_an_import_is_stored_a_duplicate_or_rejected(
        seeds, tmp, db, investigation, users, import_settings, name, ops, encoding, container, broken, member):
    note(f"seed={name!r} ops={ops!r} encoding={encoding!r} container={container!r} broken={broken!r} member={member}")
    s = seeds[name]
    upload_name, data = upload(s, ops, encoding, container, broken, member, JOB_LIMITS)
    path = written(tmp, upload_name, data)
    expected = parse(path, name=upload_name, format=s.format, mapping=s.mapping, limits=JOB_LIMITS)
    job = import_start(investigation=investigation, user=users["bob"], collection_name=f"fuzz {next(imports)}",
                       files=[{"path": str(path), "name": upload_name}], format=s.format, mapping=s.mapping,
                       enqueue=False)
    job = job_execute(job_id=job.pk)
    if expected.refused:
        assert (job.status, job.error) == ("failed", job_text(expected.refused))
        assert not Post.objects.filter(import_file__job=job).exists()
        return
    assert job.status == "succeeded", job.error[:2000]
    r = job.result
    assert r["rows_read"] == r["stored"] + r["duplicates"] + r["rejected"], r
    assert (r["stored"] + r["duplicates"], r["rejected"]) == (expected.posts, expected.rejected), (r, expected)
    for f in r["files"]:
        assert f["rows_read"] == f["stored"] + f["duplicates"] + f["rejected"], f
        import_file = ImportFile.objects.get(job=job, name=f["file"])
        assert (import_file.rows_read, import_file.stored, import_file.rejected) == (
            f["rows_read"], f["stored"], f["rejected"])
        posts = Post.objects.filter(import_file=import_file).count()
        # a co-share row repeating a post with a new entity counts as stored, adding no post
        assert posts == f["stored"] if f["format"] != "coshare" else posts <= f["stored"], (posts, f)
        assert RejectedRow.objects.filter(import_file=import_file).count() == min(f["rejected"], 3)


# -- compressed bombs --------------------------------------------------------------------------------------
BOMBS = {  # kind: its container (the fuzz above tries every container; a bomb costs a second to build)
    "csv_long_line": "gzip", "csv_long_quoted_field": "zip", "jsonl_long_line": "gzip_in_zip",
    "json_document": "gzip", "tree_line": "zip", "tree_label": "zip",
}
TREE_ID = "576513463738109954"
TREE_ROOT = f"['ROOT', 'ROOT', '0.0']->['1', '{TREE_ID}', '0.0']\n".encode()
TREE_LABEL = f"true:{TREE_ID}\n".encode()


def bomb_content(kind: str, size: int) -> tuple[str, bytes]:
    """(member name, decompressed content): a valid start, then one line or document of `size` bytes."""
    header = ",".join(FULL_COLUMNS).encode() + b"\n"
    good = b"1,troll,hello,US,English,2016-10-01 12:00:00,,1,2,3,,Right,0,RightTroll,0\n"
    tweet = b'{"id": "1", "text": "hi", "author_id": "1", "created_at": "2020-01-01T00:00:00Z"}\n'
    contents = {
        "csv_long_line": ("bomb.csv", header + good + b"2,troll," + b"a" * size + b"\n" + good),
        # a quoted field spanning lines: the csv module's own limit stops it
        "csv_long_quoted_field": ("bomb.csv", header + good + b'2,troll,"' + b"a\n" * (size // 2) + b'"\n' + good),
        "jsonl_long_line": ("bomb.jsonl", tweet + b'{"id": "2", "text": "' + b"a" * size + b'"}\n' + tweet),
        "json_document": ("bomb.json", b'{"data": [' + b'{"id": "1", "text": "hi"}, ' * (size // 26) + b"{}]}"),
        "tree_line": (f"twitter15/tree/{TREE_ID}.txt",
                      TREE_ROOT + b"['2', '3', '1.0']->['4', '5', '" + b"9" * size + b"']\n" + TREE_ROOT),
        "tree_label": ("twitter15/label.txt", TREE_LABEL + b"x" * size),
    }
    return contents[kind]


def bomb(kind: str, container: str) -> tuple[str, bytes]:
    member, content = bomb_content(kind, BOMB_BYTES)
    if kind.startswith("tree"):
        tree = {f"twitter15/tree/{TREE_ID}.txt": TREE_ROOT, "twitter15/label.txt": TREE_LABEL}
        return "twitter15.zip", zipped({**tree, member: content})
    return pack(member, content, container)


@pytest.mark.parametrize("kind", BOMBS)
def test_a_compressed_bomb_is_read_in_bounded_memory(tmp, kind):
    name, data = bomb(kind, BOMBS[kind])
    parsed = parse(written(tmp, name, data), name=name, limits=BOMB_LIMITS)
    assert parsed.peak <= memory_bound(BOMB_LIMITS), (
        f"{kind}: reading held {parsed.peak / 2**20:.1f} MiB of a {BOMB_BYTES / 2**20:.0f} MiB bomb "
        f"(bound {memory_bound(BOMB_LIMITS) / 2**20:.1f} MiB)"
    )
    assert parsed.refused or parsed.rejected, f"{kind}: the over-long part was neither refused nor rejected"


@pytest.mark.parametrize("container", ["gzip", "zip", "lying_zip"])
def test_a_bomb_past_the_expansion_limit_is_refused(tmp, container):
    limits = Limits(max_field_chars=2_000, max_unzipped_bytes=2**20)
    rows = [[str(i), f"troll_{i % 7}", "x" * 1_500, "US", "English", "2016-10-01 12:00:00"] + [""] * 9
            for i in range(2_000)]
    content = csv_bytes([list(FULL_COLUMNS), *rows])
    name, data = pack("rows.csv", content, "zip" if container == "lying_zip" else container)
    path = written(tmp, name, data)
    if container == "lying_zip":
        understate_sizes(path, 100_000)
    parsed = parse(path, name=name, limits=limits)
    assert parsed.refused, f"{container}: {parsed.posts:,} rows of {len(content):,} bytes read past a 1 MiB limit"
    assert parsed.peak <= memory_bound(limits)


# -- regressions: the inputs the fuzz found, each once -----------------------------------------------------
def member_broken(data: bytes, how: str) -> bytes:
    """A zip whose first member fails when read: its CRC wrong in both headers, or its local header naming
    another file than the directory does."""
    data = bytearray(data)
    if how == "crc":
        for signature, offset in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
            i = data.find(signature) + offset
            data[i:i + 4] = bytes(b ^ 0xFF for b in data[i:i + 4])
    else:
        data[30] ^= 0x01  # the first byte of the first member's name, in its local header only
    return bytes(data)


@pytest.mark.parametrize("how", ["crc", "local_header"])
@pytest.mark.parametrize("kind", ["csv", "tree"])
def test_a_corrupt_zip_member_refuses_the_upload_and_is_no_crash(tmp, kind, how):
    if kind == "csv":
        members = {"a.csv": b"account_id,post_id,timestamp\nu1,p1,1629589836\n"}
    else:
        members = {"twitter15/label.txt": TREE_LABEL, f"twitter15/tree/{TREE_ID}.txt": TREE_ROOT}
    parsed = parse(written(tmp, "upload.zip", member_broken(zipped(members), how)), name="upload.zip")
    assert parsed.refused and "zip member is corrupt" in parsed.refused, parsed


def test_a_zip_whose_member_name_is_flagged_utf8_but_is_not_is_refused(tmp):
    data = zipped({"café.csv": b"account_id,post_id,timestamp\nu1,p1,1629589836\n"})
    data = data.replace("café".encode(), b"caf\xff\xfe")  # in both headers, same length: still flagged UTF-8
    parsed = parse(written(tmp, "up.zip", data), name="up.zip")
    assert parsed.refused and "not a readable zip archive" in parsed.refused, parsed


def test_a_zip_of_an_unknown_version_is_refused(tmp):
    data = bytearray(zipped({"a.csv": b"account_id,post_id,timestamp\nu1,p1,1629589836\n"}))
    data[data.find(b"PK\x01\x02") + 6] = 64  # "version needed to extract": 6.4, past what zipfile reads
    parsed = parse(written(tmp, "up.zip", bytes(data)), name="up.zip")
    assert parsed.refused and "not a readable zip archive" in parsed.refused, parsed


def test_a_time_an_offset_moves_off_the_calendar_rejects_its_row(tmp):
    times = ["2020-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"]
    tweets = [{"id": str(i), "text": "hi", "author_id": "7", "created_at": t} for i, t in enumerate(times)]
    parsed = parse(written(tmp, "t.jsonl", "".join(json.dumps(t) + "\n" for t in tweets).encode()), name="t.jsonl")
    assert (parsed.posts, parsed.rejected, parsed.refused) == (1, 2, None)


def test_a_file_whose_lines_end_in_cr_alone_is_read(tmp):
    rows = [["1", "troll", f"post {i}", "US", "English", f"2016-10-01 12:{i:02d}:00"] + [""] * 9 for i in range(5)]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r").writerows([list(FULL_COLUMNS), *rows])
    parsed = parse(written(tmp, "mac.csv", out.getvalue().encode()), name="mac.csv")
    assert (parsed.posts, parsed.rejected, parsed.refused) == (5, 0, None)


def test_a_tree_named_past_any_tweet_id_rejects_its_lines(tmp):
    late = str(((datetime(9999, 12, 1) - datetime(1970, 1, 1)).days * 86_400_000 - 1288834974657) << 22)
    members = {
        "twitter15/label.txt": b"true:99999999999999999999999\n",
        "twitter15/tree/99999999999999999999999.txt": b"['ROOT', 'ROOT', '0.0']->['1', '2', '0.0']\n",
        # a time late in year 9999, then a delay past its end
        f"twitter15/tree/{late}.txt": f"['ROOT', 'ROOT', '0.0']->['1', '{late}', '0.0']\n"
                                      f"['1', '{late}', '0.0']->['3', '4', '99999999.0']\n".encode(),
    }
    parsed = parse(written(tmp, "trees.zip", zipped(members)), name="trees.zip")
    assert (parsed.posts, parsed.rejected, parsed.refused) == (1, 2, None)


def test_a_source_tweet_text_over_the_field_limit_rejects_its_root_line(tmp):
    text = "a" * (FUZZ_LIMITS.max_field_chars + 1)
    members = {"twitter15/label.txt": TREE_LABEL, f"twitter15/tree/{TREE_ID}.txt": TREE_ROOT,
               "twitter15/source_tweets.txt": f"{TREE_ID}\t{text}\n".encode()}
    parsed = parse(written(tmp, "trees.zip", zipped(members)), name="trees.zip")
    assert (parsed.posts, parsed.rejected, parsed.refused) == (0, 1, None)


def import_of(path: Path, investigation, user):
    job = import_start(investigation=investigation, user=user, collection_name=path.name,
                       files=[{"path": str(path), "name": path.name}], enqueue=False)
    return job_execute(job_id=job.pk)


def test_an_undecodable_byte_or_lone_surrogate_anywhere_in_a_tweet_rejects_only_that_tweet(
        tmp, db, investigation, users):
    lines = [  # UTF-8 texts, so that the file is read as UTF-8 and the one bad byte stays one
        '{"id": "1", "text": "café crème", "author_id": "7", "created_at": "2020-01-01T00:00:00Z"}'.encode(),
        '{"id": "2", "text": "Straße", "author_id": "\\ud800", "created_at": "2020-01-01T00:00:00Z"}'.encode(),
        b'{"id": "3", "text": "hi", "author_id": "7", "author": {"id": "7", "username": "bad \xff byte"},'
        b' "created_at": "2020-01-01T00:00:00Z"}',
        b'{"id": "4", "text": "hi", "author_id": "7", "created_at": "\\udfff 2020", "lang": "en"}',
    ]
    job = import_of(written(tmp, "tweets.jsonl", b"\n".join(lines) + b"\n"), investigation, users["bob"])
    assert job.status == "succeeded", job.error
    assert (job.result["stored"], job.result["rejected"]) == (1, 3)
    assert sorted(RejectedRow.objects.values_list("field", flat=True)) == ["author_id", "created_at", "username"]


def test_a_rejected_row_naming_a_column_with_an_undecodable_byte_is_stored(tmp, db, investigation, users):
    header = ",".join([*FULL_COLUMNS, "ex\udcfftra"]).encode("utf-8", "surrogateescape")
    rows = [["1", "troll", text, "US", "English", "2016-10-01 12:00:00"] + [""] * 9 + [extra]
            for text, extra in (("café", "x"), ("Straße", "y"), ("hello", "nul\x00"))]
    data = header + b"\n" + "".join(",".join(row) + "\n" for row in rows).encode()
    job = import_of(written(tmp, "ira.csv", data), investigation, users["bob"])
    assert job.status == "succeeded", job.error
    assert (job.result["stored"], job.result["rejected"]) == (2, 1)
    assert list(RejectedRow.objects.values_list("field", flat=True)) == ["ex\\udcfftra"]


def test_an_unrecognised_header_with_an_undecodable_byte_fails_the_job_with_its_message(tmp, db, investigation, users):
    data = "café x,b_d,c\ncafé,x,y\nStraße,z,w\n".encode().replace(b"_", b"\xff")
    job = import_of(written(tmp, "odd.csv", data), investigation, users["bob"])
    assert job.status == "failed" and "b\\udcffd" in job.error, job.error
