"""Importers on hostile and real-world files: one bad byte costs one row, memory stays bounded, NULs and
long values never reach the database or a job's error, and rounded IRA ids do not merge authors."""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import resource
from pathlib import Path

import pytest

from apps.collections.importers import Limits, open_sources, preview
from apps.collections.importers.encoding import sniff_encoding
from apps.collections.importers.ira import FULL_COLUMNS
from apps.collections.models import Account, Collection, ImportFile, Post
from apps.collections.services import import_start
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.collections.importer_files import drain, ira_rows

NON_ASCII = ["Peña dice “sí”", "Straße", "café crème", "Ελλάδα", "日本語のツイート", "naïve — résumé"]


def only(path: Path, **kw):
    (source,) = list(open_sources(path, **kw))
    return source


def ira_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FULL_COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def texts_rows(texts: list[str]) -> list[list[str]]:
    rows = ira_rows(len(texts))
    content = FULL_COLUMNS.index("content")
    for row, text in zip(rows, texts):
        row[content] = text
    return rows


# -- one bad byte costs one row ----------------------------------------------------------------------
def test_one_invalid_byte_rejects_its_row_and_keeps_the_encoding_of_the_others(tmp_path):
    data = ira_bytes(texts_rows([*NON_ASCII, "BADBYTE here"])).replace(b"BADBYTE", b"bad \xff byte")
    path = tmp_path / "ira.csv"
    path.write_bytes(data)
    assert sniff_encoding(data).name.startswith("utf-8")
    posts, rejected = drain(only(path))
    assert sorted(p.text for p in posts) == sorted(NON_ASCII)
    assert [(r.line, r.field) for r in rejected] == [(8, "content")]
    assert "0xFF" in rejected[0].reason


def test_a_nul_byte_rejects_its_row_naming_the_field(tmp_path):
    data = ira_bytes(texts_rows([*NON_ASCII, "NULHERE"])).replace(b"NULHERE", b"nul \x00 here")
    path = tmp_path / "ira.csv"
    path.write_bytes(data)
    posts, rejected = drain(only(path))
    assert sorted(p.text for p in posts) == sorted(NON_ASCII)
    assert [(r.line, r.field) for r in rejected] == [(8, "content")] and "NUL" in rejected[0].reason


def test_a_nul_escaped_in_json_rejects_its_tweet(tmp_path):
    tweets = [{"id": str(i), "text": t, "author_id": "1", "created_at": "2020-01-01T00:00:00Z"}
              for i, t in enumerate(["fine", "bad \u0000 text"])]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in tweets) + "\n")
    posts, rejected = drain(only(path))
    assert [p.text for p in posts] == ["fine"] and [(r.line, r.field) for r in rejected] == [(2, "text")]


# -- bounded memory on compressed bombs ----------------------------------------------------------------
def one_long_line_gz(path: Path, prefix: bytes, filler: bytes, total: int, suffix: bytes) -> Path:
    chunk = filler * (1 << 20)
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(prefix)
        for _ in range(total // len(chunk)):
            out.write(chunk)
        out.write(suffix)
    return path


def peak_rss_growth_mb(work) -> tuple[float, object]:
    """Run `work()` in a forked child; (its peak RSS above its start, in MB, and what it returned)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            result = work()
        except BaseException as exc:  # noqa: BLE001
            result = f"{type(exc).__name__}: {exc}"[:500]
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - start) / 1024
        os.write(writer, json.dumps([growth, result]).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    growth, result = json.loads(data)
    return growth, result


LONG = 300 * (1 << 20)  # a 300 MB line: enough to show it is never held whole


@pytest.fixture(scope="module")
def csv_bomb(tmp_path_factory) -> Path:
    header = ira_bytes(texts_rows(["first"]))
    tail = ira_bytes(texts_rows(["after the long line"])).split(b"\n", 1)[1]
    return one_long_line_gz(tmp_path_factory.mktemp("bomb") / "bomb.csv.gz", header + b"x,", b"a", LONG, b"\n" + tail)


@pytest.fixture(scope="module")
def jsonl_bomb(tmp_path_factory) -> Path:
    good = json.dumps({"id": "1", "text": "hi", "author_id": "1", "created_at": "2020-01-01T00:00:00Z"}).encode()
    prefix = good + b"\n" + b'{"id": "2", "author_id": "1", "created_at": "2020-01-01T00:00:00Z", "text": "'
    path = tmp_path_factory.mktemp("bomb") / "bomb.jsonl.gz"
    return one_long_line_gz(path, prefix, b"a", LONG, b'"}\n' + good + b"\n")


def summary(path: Path, limits: Limits) -> list:
    posts, rejected = drain(only(path, limits=limits))
    return [[p.text for p in posts], [[r.line, r.field, r.reason[:300]] for r in rejected]]


def test_a_gzipped_csv_with_one_huge_line_rejects_that_line_in_bounded_memory(csv_bomb):
    growth, result = peak_rss_growth_mb(lambda: summary(csv_bomb, Limits(max_field_chars=100_000)))
    assert isinstance(result, list), result
    texts, rejected = result
    assert texts == ["first", "after the long line"]
    assert [r[0] for r in rejected] == [3] and "longer than" in rejected[0][2]
    assert growth < 100, f"the parser grew by {growth:.0f} MB"


def test_a_gzipped_jsonl_with_one_huge_line_rejects_that_line_in_bounded_memory(jsonl_bomb):
    growth, result = peak_rss_growth_mb(lambda: summary(jsonl_bomb, Limits(max_field_chars=100_000)))
    assert isinstance(result, list), result
    texts, rejected = result
    assert texts == ["hi", "hi"] and [r[0] for r in rejected] == [2]
    assert growth < 100, f"the parser grew by {growth:.0f} MB"


def test_the_preview_of_a_bomb_reads_a_bounded_prefix(jsonl_bomb, csv_bomb):
    for bomb in (jsonl_bomb, csv_bomb):
        growth, result = peak_rss_growth_mb(lambda: preview(bomb, limits=Limits(max_field_chars=100_000)))
        assert isinstance(result, dict), result
        assert growth < 100, f"the preview of {bomb.name} grew by {growth:.0f} MB"


# -- jobs: NUL, long errors, a failed import's new collection --------------------------------------------
def run_import(investigation, user, path: Path, collection="c", **kw) -> Job:
    files = [{"path": str(path), "name": path.name}]
    job = import_start(investigation=investigation, user=user, collection_name=collection, files=files, enqueue=False,
                       **kw)
    return job_execute(job_id=job.pk)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_costs_its_row_on_every_database(investigation, users, tmp_path):
    path = tmp_path / "ira.csv"
    path.write_bytes(ira_bytes(texts_rows(["one", "NULHERE", "three"])).replace(b"NULHERE", b"t\x00wo"))
    job = run_import(investigation, users["alice"], path)
    assert job.status == "succeeded", job.error
    assert (job.result["stored"], job.result["rejected"]) == (2, 1)
    assert sorted(Post.objects.values_list("text", flat=True)) == ["one", "three"]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_failure_quoting_a_huge_header_with_nuls_is_stored_short(investigation, users, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"col\x00" + b"h" * 1_000_000 + b",other\nx,y\n")
    job = run_import(investigation, users["alice"], path, collection="new one")
    assert job.status == "failed"
    assert "\x00" not in job.error and len(job.error) <= 4000
    assert all("\x00" not in f.error and len(f.error) <= 4000 for f in ImportFile.objects.all())


@pytest.mark.django_db(transaction=True)
def test_a_failed_import_removes_the_collection_it_created(investigation, users, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(b"nothing,known\nx,y\n")
    job = run_import(investigation, users["alice"], path, collection="brand new")
    assert job.status == "failed"
    assert not Collection.objects.filter(name="brand new").exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_import_keeps_a_collection_that_existed(investigation, users, tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "odd.csv"
    good.write_bytes(ira_bytes(texts_rows(["one"])))
    bad.write_bytes(b"nothing,known\nx,y\n")
    assert run_import(investigation, users["alice"], good, collection="kept").status == "succeeded"
    assert run_import(investigation, users["alice"], bad, collection="kept").status == "failed"
    assert Collection.objects.filter(name="kept").exists() and Post.objects.count() == 1


# -- rounded IRA ids -------------------------------------------------------------------------------------
ROUNDED = "889000000000000000"


def ira_rows_of_id(shared_data: Path, author_id: str, out: Path) -> tuple[Path, set[str]]:
    handles = set()
    with gzip.open(shared_data / "ira" / "ira_dev_en.csv.gz", "rt", newline="", encoding="utf-8") as src, \
            open(out, "w", newline="", encoding="utf-8") as dst:
        reader, writer = csv.reader(src), csv.writer(dst)
        header = next(reader)
        writer.writerow(header)
        at, author = header.index("external_author_id"), header.index("author")
        for row in reader:
            if row[at] == author_id:
                writer.writerow(row)
                handles.add(row[author])
    return out, handles


def test_authors_sharing_a_rounded_id_stay_apart(shared_data, tmp_path):
    path, handles = ira_rows_of_id(shared_data, ROUNDED, tmp_path / "shared.csv")
    assert len(handles) == 49
    source = only(path)
    posts, rejected = drain(source)
    by_account = {}
    for p in posts:
        by_account.setdefault(p.account.platform_id, set()).add(p.account.handle)
    assert len(by_account) == 49 and all(len(h) == 1 for h in by_account.values())
    assert source.notes() == {"shared_author_ids": 1, "authors_sharing_ids": 49}


@pytest.mark.django_db(transaction=True)
def test_the_import_summary_says_how_many_ids_were_shared(investigation, users, shared_data, tmp_path):
    path, handles = ira_rows_of_id(shared_data, ROUNDED, tmp_path / "shared.csv")
    job = run_import(investigation, users["alice"], path)
    assert job.status == "succeeded", job.error
    assert job.result["files"][0]["notes"] == {"shared_author_ids": 1, "authors_sharing_ids": 49}
    assert Account.objects.filter(observed=True).count() == 49
