"""The parser process: batches stream from a child; an unreadable file, a crash or a killed child comes
back to the parent as an error; the child never outlives its import, even inside a daemonic worker."""
from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from apps.collections import importers, ingest
from apps.collections.ingest import IngestWriter
from apps.collections.models import Account, Collection, Entity, ImportFile, Interaction, Post
from apps.collections.pipeline import ParsedBatches, ParserCrashed
from apps.collections.services import import_start
from apps.jobs.services import job_execute
from tests.support.files import write_ira_csv


def source_of(path: Path) -> importers.Source:
    return next(importers.open_sources(path))


def truncated_gzip(tmp_path: Path) -> Path:
    whole = write_ira_csv(tmp_path / "whole.csv.gz", 20000).read_bytes()
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    return path


def is_reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_it_streams_every_row_in_batches_with_progress(tmp_path):
    source = source_of(write_ira_csv(tmp_path / "a.csv", 2500))
    with ParsedBatches(source, encode=len, batch_rows=1000) as batches:  # each batch arrives encoded as its size
        got = list(batches)
    assert [b.records for b in got] == [1000, 1000, 500]
    assert [b.rows_read for b in got] == [1000, 2000, 2500] and batches.rows_read == 2500
    assert [b.last for b in got] == [False, False, True] and got[-1].fraction == 1.0
    assert 0 < got[0].fraction < got[1].fraction < 1


def test_rejected_rows_travel_with_their_line_and_reason(tmp_path):
    good = write_ira_csv(tmp_path / "good.csv", 10).read_text().splitlines()
    path = tmp_path / "mixed.csv"
    path.write_text(
        "\n".join(good[:4] + ["1000,troll_x,text,US,English,not a date,x,1,2,3,,R,0,RightTroll,0"] + good[4:]) + "\n"
    )
    with ParsedBatches(source_of(path), encode=len, batch_rows=1000) as batches:
        (batch,) = list(batches)
    assert batch.records == 10 and [(r.line, r.field) for r in batch.rejected] == [(5, "publish_date")]


def test_an_unreadable_file_raises_its_own_message_in_the_parent(tmp_path):
    with pytest.raises(importers.ImportFileError, match=r"^cut\.csv\.gz: .*truncated"):
        with ParsedBatches(source_of(truncated_gzip(tmp_path)), encode=len, batch_rows=1000) as batches:
            for _ in batches:
                pass
    assert batches.rows_read > 1000  # what was read before the file broke off


def test_a_crash_in_the_parser_comes_back_with_its_traceback(tmp_path):
    def encode(records):
        raise ValueError("boom")

    with pytest.raises(ParserCrashed, match="a.csv: ValueError: boom") as info:
        with ParsedBatches(source_of(write_ira_csv(tmp_path / "a.csv", 10)), encode=encode, batch_rows=1000) as batches:
            list(batches)
    assert "In the parser process" in info.value.__notes__[0] and "raise ValueError" in info.value.__notes__[0]


def test_leaving_early_kills_and_reaps_the_child(tmp_path):
    source = source_of(write_ira_csv(tmp_path / "a.csv", 20000))
    with ParsedBatches(source, encode=len, batch_rows=100) as batches:
        pid = batches._pid
        next(iter(batches))
    assert is_reaped(pid)


def test_a_child_killed_from_outside_is_an_error_not_a_hang(tmp_path):
    source = source_of(write_ira_csv(tmp_path / "a.csv", 20000))
    with pytest.raises(ParserCrashed, match="the parser process died .*SIGKILL"):
        with ParsedBatches(source, encode=len, batch_rows=100) as batches:
            pid = batches._pid
            os.kill(pid, signal.SIGKILL)
            list(batches)
    assert is_reaped(pid)


def _rows_in_a_daemon(path: str, results) -> None:
    with ParsedBatches(source_of(Path(path)), encode=len, batch_rows=1000) as batches:
        results.put(sum(b.records for b in batches))


def test_it_runs_inside_a_daemonic_process_like_a_django_q2_worker(tmp_path):
    """multiprocessing forbids daemonic processes to start children; the parser process is a plain fork."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    worker = context.Process(
        target=_rows_in_a_daemon, args=(str(write_ira_csv(tmp_path / "a.csv", 2500)), results), daemon=True
    )
    worker.start()
    try:
        assert results.get(timeout=60) == 2500
    finally:
        worker.join(10)
    assert worker.exitcode == 0


def run_import(investigation, user, path: Path):
    job = import_start(
        investigation=investigation,
        user=user,
        collection_name="c",
        files=[{"path": str(path), "name": path.name}],
        enqueue=False,
    )
    return job_execute(job_id=job.pk)


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_full_id_caches_start_afresh_and_nothing_is_stored_twice(investigation, users, tmp_path, monkeypatch, settings):
    settings.MURMURATION = {**settings.MURMURATION, "INGEST_BATCH_ROWS": 50}
    monkeypatch.setattr(ingest, "ACCOUNT_CACHE_MAX", 3)
    monkeypatch.setattr(ingest, "ENTITY_CACHE_MAX", 3)
    path = write_ira_csv(tmp_path / "a.csv", 500)
    first = run_import(investigation, users["alice"], path)
    counts = (Post.objects.count(), Account.objects.count(), Entity.objects.count(), Interaction.objects.count())
    second = run_import(investigation, users["alice"], path)
    assert (first.result["stored"], second.result["stored"], second.result["duplicates"]) == (500, 0, 500)
    assert (
        Post.objects.count(),
        Account.objects.count(),
        Entity.objects.count(),
        Interaction.objects.count(),
    ) == counts
    assert counts[1] == 50 and counts[2] == Entity.objects.values("kind", "value").distinct().count()


@pytest.mark.django_db(transaction=True)
@pytest.mark.services
def test_a_parser_crash_mid_file_fails_the_job_and_keeps_nothing_of_the_file(
    investigation, users, tmp_path, monkeypatch, settings
):
    settings.MURMURATION = {**settings.MURMURATION, "INGEST_BATCH_ROWS": 100}
    encode = IngestWriter.encode

    def encode_until_line_500(self, records):  # runs in the parser process, which the fork gave this patch
        if records and records[0].line > 500:
            raise ValueError("boom")
        return encode(self, records)

    monkeypatch.setattr(IngestWriter, "encode", encode_until_line_500)
    Collection.objects.create(investigation=investigation, name="c")  # one the import created would go with it
    job = run_import(investigation, users["alice"], write_ira_csv(tmp_path / "a.csv", 1000))
    assert job.status == "failed" and "a.csv: ValueError: boom" in job.error
    import_file = ImportFile.objects.get()
    assert import_file.status == "failed" and "ValueError: boom" in import_file.error and import_file.rows_read >= 500
    assert Post.objects.count() == 0
