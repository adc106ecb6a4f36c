"""The import job end to end in-process: real importers, real writer, accounting, failure semantics."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from apps.collections.models import Account, Collection, ImportFile, Interaction, Post, RejectedRow
from apps.collections.services import import_start
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.support.files import write_ira_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


def run_import(investigation, user, *paths: Path, collection="c", **kw) -> Job:
    files = [{"path": str(p), "name": p.name} for p in paths]
    job = import_start(
        investigation=investigation, user=user, collection_name=collection, files=files, enqueue=False, **kw
    )
    return job_execute(job_id=job.pk)


def ira_slice(shared_data: Path, out: Path, rows: int) -> Path:
    with (
        gzip.open(shared_data / "ira" / "ira_dev_en.csv.gz", "rt", newline="", encoding="utf-8") as src,
        open(out, "w", newline="", encoding="utf-8") as dst,
    ):
        reader, writer = csv.reader(src), csv.writer(dst)
        for i, row in enumerate(reader):
            if i > rows:
                break
            writer.writerow(row)
    return out


def test_a_real_ira_slice_imports_with_every_row_accounted_for(investigation, users, shared_data, tmp_path):
    job = run_import(
        investigation, users["alice"], ira_slice(shared_data, tmp_path / "ira.csv", 2000), collection="IRA"
    )
    assert job.status == "succeeded", job.error
    r = job.result
    assert r["rows_read"] == 2000 and r["rows_read"] == r["stored"] + r["duplicates"] + r["rejected"]
    collection = Collection.objects.get(pk=r["collection_id"])
    assert collection.stats["posts"] == Post.objects.filter(collection=collection).count() == r["stored"]
    assert sum(n for _, n in collection.stats["posts_per_day"]) == r["stored"]
    categories = collection.stats["labels"]["account"]["account_category"]
    assert sum(categories.values()) == Account.objects.filter(collection=collection, observed=True).count()
    assert job.provenance["inputs"][0]["posts"] == r["stored"]


def test_reimporting_the_same_file_adds_nothing(investigation, users, tmp_path):
    source = write_ira_csv(tmp_path / "a.csv", 500)
    first = run_import(investigation, users["alice"], source)
    counts = (Post.objects.count(), Interaction.objects.count(), Account.objects.count())
    second = run_import(investigation, users["alice"], source)
    assert (second.result["stored"], second.result["duplicates"]) == (0, 500)
    assert (Post.objects.count(), Interaction.objects.count(), Account.objects.count()) == counts
    assert first.result["stored"] == 500


def test_garbage_rows_are_rejected_with_line_and_field_and_the_rest_lands(investigation, users, tmp_path):
    good = write_ira_csv(tmp_path / "good.csv", 300).read_text().splitlines()
    lines = good[:101] + ["1000,troll_x,text,US,English,not a date,x,1,2,3,,R,0,RightTroll,0"] + good[101:]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n")
    job = run_import(investigation, users["alice"], path)
    assert job.status == "succeeded"
    assert (job.result["rows_read"], job.result["stored"], job.result["rejected"]) == (301, 300, 1)
    row = RejectedRow.objects.get()
    assert (row.line, row.field) == (102, "publish_date")


def test_an_unreadable_file_fails_the_job_and_leaves_nothing_of_itself(investigation, users, tmp_path):
    good = write_ira_csv(tmp_path / "good.csv", 200)
    whole = write_ira_csv(tmp_path / "whole.csv.gz", 20000).read_bytes()
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    job = run_import(investigation, users["alice"], good, truncated, collection="mixed")
    assert job.status == "failed"
    assert "truncated.csv.gz" in job.error and "truncated" in job.error
    files = {f.name: f for f in ImportFile.objects.all()}
    assert (files["good.csv"].status, files["good.csv"].stored) == ("done", 200)
    assert files["truncated.csv.gz"].status == "failed"
    assert Post.objects.count() == 200 and not Post.objects.filter(import_file=files["truncated.csv.gz"]).exists()
    assert Collection.objects.get(name="mixed").stats["posts"] == 200


def test_labels_chosen_at_upload_land_on_the_rows(investigation, users, tmp_path):
    job = run_import(
        investigation, users["alice"], write_ira_csv(tmp_path / "a.csv", 50), labels={"source": "takedown"}
    )
    collection = Collection.objects.get(pk=job.result["collection_id"])
    assert collection.stats["labels"]["post"] == {"source": {"takedown": 50}}


def test_a_file_no_importer_recognises_fails_with_its_columns_named(investigation, users, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("foo,bar\n1,2\n")
    job = run_import(investigation, users["alice"], path)
    assert job.status == "failed" and job.error.startswith("odd.csv: no importer recognises the header")
    assert "foo, bar" in job.error
