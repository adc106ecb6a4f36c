"""Bad propagation trees: a real Twitter15 tree from ../shared/data with a cycle, an unknown
parent and a negative delay appended is imported by the real import job; each bad line is rejected on
its own with its reason, and the propagation analysis measures the rest of the tree."""
from __future__ import annotations

import zipfile

import pytest

from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, ImportFile, Post, RejectedRow
from apps.jobs.services import job_execute

pytestmark = [pytest.mark.django_db]


def edge(parent: tuple, child: tuple) -> str:
    return f"{list(parent)}->{list(child)}"


def smallest_tree(shared) -> tuple[str, list[str], str, str]:
    """The smallest real tree labelled false: (source id, its lines, label, source text line)."""
    with zipfile.ZipFile(shared / "twitter15" / "twitter15.zip") as real:
        labels = dict(reversed(line.split(":")) for line in real.read("twitter15/label.txt").decode().split())
        trees = sorted(
            (i.file_size, i.filename) for i in real.infolist() if "/tree/" in i.filename and i.filename.endswith(".txt")
        )
        _, name = next((s, n) for s, n in trees if labels.get(n.rsplit("/", 1)[1][:-4]) == "false")
        source = name.rsplit("/", 1)[1][:-4]
        lines = real.read(name).decode().splitlines()
        text = next(
            t for t in real.read("twitter15/source_tweets.txt").decode().splitlines() if t.split("\t", 1)[0] == source
        )
    return source, lines, labels[source], text


def test_bad_lines_of_a_real_tree_are_rejected_one_by_one_and_the_rest_is_measured(
    investigation, users, shared_data, tmp_path
):
    from apps.collections.services import import_start

    source, lines, label, text = smallest_tree(shared_data)
    triple = lambda line: tuple(line.split("->")[1].strip("[]").replace("'", "").split(", "))  # noqa: E731
    root = triple(lines[0])
    leaf = triple(lines[-1])
    bad = [
        edge(leaf, root),  # the source under its own descendant
        edge(("999999999", source, "5.0"), ("777777777", source, "6.0")),  # no line introduces 999999999
        edge(root, ("888888888", source, "-3.0")),  # three minutes before the source
    ]
    path = tmp_path / "t15.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"twitter15/tree/{source}.txt", "\n".join(lines + bad) + "\n")
        archive.writestr("twitter15/label.txt", f"{label}:{source}\n")
        archive.writestr("twitter15/source_tweets.txt", text + "\n")
    job = job_execute(
        job_id=import_start(
            investigation=investigation,
            user=users["alice"],
            collection_name="bad",
            files=[{"path": str(path), "name": path.name}],
            enqueue=False,
        ).pk
    )
    assert job.status == "succeeded", job.error

    imported = ImportFile.objects.get(job=job)
    rejected = {(r.line, r.field, r.reason) for r in RejectedRow.objects.filter(import_file=imported)}
    field, n = f"tree/{source}.txt", len(lines)
    assert {r for r in rejected if r[0] > n} == {
        (n + 1, field, f"node {root[0]} is an ancestor of its parent {leaf[0]} (a cycle)"),
        (n + 2, field, "unknown parent 999999999 (no line of the tree introduces it)"),
        (n + 3, field, "negative delay -3 minutes (before the source tweet)"),
    }
    assert imported.rows_read == n + 3 and imported.stored == n + 3 - len(rejected) - imported.duplicates
    collection = Collection.objects.get(investigation=investigation, name="bad")
    assert not Account.objects.filter(collection=collection, platform_id__in=["777777777", "888888888"]).exists()

    analysis_job = job_execute(
        job_id=analysis_start(
            investigation=investigation,
            user=users["bob"],
            kind="propagation",
            collection=collection,
            params={},
            enqueue=False,
        ).pk
    )
    assert analysis_job.status == "succeeded", analysis_job.error
    (cascade,) = analysis_job.analysis.result["cascades"]
    assert cascade["platform_id"] == source and cascade["label"] == label
    assert cascade["size"] == Post.objects.filter(collection=collection).count() == imported.stored
