"""The analysis store (Parquet beside the rows): written at ingest and equal to the database, appends add new
files only, a failed import leaves none, deleting a collection removes it, and collections from before the store
are built from their rows on first read."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from apps.collections.importers.records import AccountRecord, PostRecord
from apps.collections.ingest import IngestWriter
from apps.collections.models import Account, Collection, ImportFile, Interaction, Post
from apps.collections.services import collection_delete, import_start
from apps.collections.store import StoreSink, file_part, store_dir, store_read, store_ready
from apps.jobs.services import job_execute
from ml import columnar
from tests.support.files import write_ira_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

T0 = datetime(2016, 10, 1, 12, 0, tzinfo=timezone.utc)
POST_COLUMNS = ["id", "account", "time", "kind", "platform_id", "ref_post", "ref_account", "placeholder", "text"]
INTERACTION_COLUMNS = ["post", "account", "action", "target", "target_post", "target_account", "time"]


def run_import(investigation, user, *paths, collection="c"):
    files = [{"path": str(p), "name": p.name} for p in paths]
    job = import_start(investigation=investigation, user=user, collection_name=collection, files=files, enqueue=False)
    return job_execute(job_id=job.pk)


def seconds(value):
    return None if value is None else round(value.timestamp(), 6)


def stored_rows(collection, parts=None):
    """The store's rows as sets of tuples, read from the part files themselves (no rebuild)."""
    folder = store_dir(collection.pk)
    parts = columnar.parts_present(folder) if parts is None else parts
    posts = columnar.read(folder, "posts", parts, POST_COLUMNS).to_pylist()
    interactions = columnar.read(folder, "interactions", parts, INTERACTION_COLUMNS).to_pylist()
    return (
        sorted(tuple(seconds(v) if k == "time" else v for k, v in row.items()) for row in posts),
        sorted(tuple(seconds(v) if k == "time" else v for k, v in row.items()) for row in interactions),
    )


def database_rows(collection):
    placeholders = set(Account.objects.filter(placeholder=True).values_list("id", flat=True))
    posts = [
        (pk, account, seconds(time), kind, platform_id, ref_post, ref_account, account in placeholders, text)
        for pk, account, time, kind, platform_id, ref_post, ref_account, text in Post.objects.filter(
            collection=collection
        ).values_list("id", "account_id", "time", "kind", "platform_id", "ref_post_id", "ref_account_id", "text")
    ]
    interactions = [
        (*row[:6], seconds(row[6]))
        for row in Interaction.objects.filter(collection=collection).values_list(
            "post_id", "source_account_id", "action", "target_entity__value", "target_post_id", "target_account_id",
            "time",
        )
    ]
    return sorted(posts), sorted(interactions)


def part_files(collection) -> dict[str, int]:
    """{file name: inode} of every committed part file of the collection's store."""
    folder = store_dir(collection.pk)
    return {
        f"{table}/{p.name}": p.stat().st_ino
        for table in columnar.TABLES
        for p in (folder / table).glob("*.parquet")
    }


def test_an_import_writes_the_store_equal_to_the_database_rows(investigation, users, tmp_path):
    job = run_import(investigation, users["alice"], write_ira_csv(tmp_path / "a.csv", 300))
    assert job.status == "succeeded", job.error
    collection = Collection.objects.get()
    import_file = ImportFile.objects.get()
    assert columnar.parts_present(store_dir(collection.pk)) == {file_part(import_file.pk)}
    posts, interactions = stored_rows(collection)
    assert (posts, interactions) == database_rows(collection)
    assert len(posts) == 300 and len(interactions) >= 900  # a hashtag, a mention, a url and its domain each


def test_a_second_upload_adds_new_files_and_leaves_the_first_ones_untouched(investigation, users, tmp_path):
    run_import(investigation, users["alice"], write_ira_csv(tmp_path / "a.csv", 200, seed=1))
    collection = Collection.objects.get()
    before = part_files(collection)
    job = run_import(investigation, users["alice"], write_ira_csv(tmp_path / "b.csv", 300, seed=2))
    assert job.status == "succeeded", job.error
    after = part_files(collection)
    assert {k: v for k, v in after.items() if k in before} == before  # same files, never rewritten
    second = file_part(ImportFile.objects.get(name="b.csv").pk)
    assert set(after) - set(before) == {f"posts/{second}.parquet", f"interactions/{second}.parquet"}
    assert stored_rows(collection) == database_rows(collection)


def test_a_failed_import_leaves_no_store_file(investigation, users, tmp_path, monkeypatch, settings):
    settings.MURMURATION = {**settings.MURMURATION, "INGEST_BATCH_ROWS": 100}
    write = IngestWriter.write
    temporary = []

    def write_then_fail(self, batch):  # two batches reach the store's temporary files, then the writer fails
        temporary.append(sorted(p.name for p in store_dir(self.collection_id).rglob(".tmp-*")))
        if len(temporary) > 2:
            raise RuntimeError("disk on fire")
        return write(self, batch)

    monkeypatch.setattr(IngestWriter, "write", write_then_fail)
    Collection.objects.create(investigation=investigation, name="c")  # one the import created would go with it
    job = run_import(investigation, users["alice"], write_ira_csv(tmp_path / "a.csv", 500))
    assert job.status == "failed" and "disk on fire" in job.error
    assert len(temporary[2]) == 2 and Post.objects.count() == 0  # posts and interactions were being written
    leftovers = [p for p in store_dir(ImportFile.objects.get().collection_id).rglob("*") if p.is_file()]
    assert leftovers == []


def test_deleting_a_collection_removes_its_store(investigation, users, tmp_path):
    run_import(investigation, users["alice"], write_ira_csv(tmp_path / "a.csv", 100))
    collection = Collection.objects.get()
    folder = store_dir(collection.pk)
    assert columnar.parts_present(folder)
    collection_delete(collection=collection, user=users["alice"])
    assert not folder.exists()


def post(pid: str, account: str, minutes: int = 0, **kw) -> PostRecord:
    return PostRecord(line=1, platform_id=pid, account=AccountRecord(platform_id=account, handle=account.lower()),
                      text=f"post {pid}", time=T0 + timedelta(minutes=minutes), **kw)


def test_the_writer_stores_reposts_and_merged_co_share_rows_as_the_database_does(investigation):
    collection = Collection.objects.create(investigation=investigation, name="hand-made")
    import_file = ImportFile.objects.create(collection=collection, name="co.csv", status=ImportFile.Status.DONE)
    writer = IngestWriter(collection=collection, import_file=import_file, merge_rows=True)
    writer.sink = StoreSink(collection_id=collection.pk, import_file_id=import_file.pk)
    writer.write_batch([
        post("1", "A", hashtags=["maga"], urls=["example.com/x"], domains=["example.com"]),
        post("2", "B", 6, kind="repost", ref_post_id="1", ref_account=AccountRecord(platform_id="A")),
        post("3", "C", 7, kind="reply", ref_post_id="99", ref_account=AccountRecord(platform_id="Z")),
    ])
    writer.write_batch([post("1", "A", urls=["example.com/y"])])  # a co-share row adds a link to post 1
    writer.sink.commit()
    posts, interactions = stored_rows(collection)
    assert (posts, interactions) == database_rows(collection)
    assert ("url", "example.com/y") in {(row[2], row[3]) for row in interactions}
    assert {(row[2], row[4]) for row in interactions if row[2] in ("repost", "reply")} == {("repost", "1"),
                                                                                          ("reply", "99")}


def test_a_collection_without_a_store_is_built_from_its_rows_on_first_read(investigation, users, tmp_path):
    run_import(investigation, users["alice"], write_ira_csv(tmp_path / "a.csv", 150))
    collection = Collection.objects.get()
    columnar.folder_remove(store_dir(collection.pk))  # as before the store existed
    Post.objects.create(collection=collection, platform_id="loose", account=Account.objects.first(), text="x",
                        time=T0)  # and a row no import wrote
    folder, parts = store_ready(collection)
    assert set(parts) == columnar.parts_present(folder)
    assert file_part(ImportFile.objects.get().pk) in parts and any(p.startswith("loose-") for p in parts)
    assert stored_rows(collection) == database_rows(collection)
    assert store_read(collection, "posts", ["id"]).num_rows == 151


def test_a_new_loose_row_replaces_the_loose_part(investigation):
    collection = Collection.objects.create(investigation=investigation, name="fixture")
    account = Account.objects.create(collection=collection, platform_id="1", handle="a")
    Post.objects.create(collection=collection, platform_id="p1", account=account, text="one", time=T0)
    _, first = store_ready(collection)
    Post.objects.create(collection=collection, platform_id="p2", account=account, text="two", time=T0)
    folder, second = store_ready(collection)
    assert first != second and columnar.parts_present(folder) == set(second)
    assert sorted(store_read(collection, "posts", ["text"])["text"].to_pylist()) == ["one", "two"]
    post = Post.objects.get(platform_id="p1")
    Interaction.objects.create(collection=collection, post=post, source_account=account, action="hashtag",
                               target_post_id="", time=T0)  # a row on an existing post: the part is rebuilt too
    assert store_read(collection, "interactions", ["post"])["post"].to_pylist() == [post.pk]
