"""The ingest writer on hand-built records: accounting, dedup, merge rows, purge (both backends)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from apps.collections.importers.records import AccountRecord, PostRecord
from apps.collections.ingest import IngestWriter, import_file_purge
from apps.collections.models import Account, Collection, Entity, ImportFile, Interaction, Post

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

T0 = datetime(2016, 10, 1, 12, 0, tzinfo=timezone.utc)


def post(pid: str, account: str, text: str = "", minutes: int = 0, **kw) -> PostRecord:
    return PostRecord(
        line=1,
        platform_id=pid,
        account=AccountRecord(platform_id=account, handle=account.lower()),
        text=text,
        time=T0 + timedelta(minutes=minutes),
        **kw,
    )


@pytest.fixture
def collection(investigation):
    return Collection.objects.create(investigation=investigation, name="IRA slice")


def writer_for(collection, name="a.csv", **kw):
    import_file = ImportFile.objects.create(collection=collection, name=name)
    return IngestWriter(collection=collection, import_file=import_file, **kw), import_file


def batch():
    return [
        post(
            "1",
            "A",
            "#MAGA rally https://www.example.com/x",
            hashtags=["maga"],
            urls=["example.com/x"],
            domains=["example.com"],
        ),
        post("2", "A", "#maga again", minutes=5, hashtags=["maga"], mentions=["bob"]),
        post(
            "3",
            "B",
            "RT: rally",
            minutes=6,
            kind="repost",
            ref_post_id="99",
            ref_account=AccountRecord(platform_id="Z"),
        ),
    ]


def test_it_stores_posts_accounts_entities_and_interactions(collection):
    writer, _ = writer_for(collection)
    assert writer.write_batch(batch()) == (3, 0)
    assert Post.objects.filter(collection=collection).count() == 3
    assert sorted(Account.objects.filter(collection=collection).values_list("platform_id", "observed")) == [
        ("A", True),
        ("B", True),
        ("Z", False),
    ]
    assert sorted(Entity.objects.filter(collection=collection).values_list("kind", "value")) == [
        ("domain", "example.com"),
        ("hashtag", "maga"),
        ("mention", "bob"),
        ("url", "example.com/x"),
    ]
    repost = Interaction.objects.get(action="repost")
    assert (repost.source_account.platform_id, repost.target_account.platform_id, repost.target_post_id) == (
        "B",
        "Z",
        "99",
    )
    assert Interaction.objects.filter(action="hashtag", target_entity__value="maga").count() == 2
    assert Post.objects.get(platform_id="2").time == T0 + timedelta(minutes=5)


def test_it_adds_nothing_when_the_same_rows_come_again(collection):
    writer, _ = writer_for(collection)
    writer.write_batch(batch())
    again, _ = writer_for(collection, "again.csv")
    assert again.write_batch(batch()) == (0, 3)
    assert Post.objects.count() == 3 and Interaction.objects.count() == 6


def test_it_counts_repeats_inside_one_batch_as_duplicates(collection):
    writer, _ = writer_for(collection)
    assert writer.write_batch([*batch(), post("1", "A", "same id again")]) == (3, 1)


def test_merge_rows_add_a_repeated_posts_new_entities_once(collection):
    writer, _ = writer_for(collection, merge_rows=True)
    rows = [post("p1", "fb_1", hashtags=["h1"]), post("p1", "fb_1", urls=["u9"]), post("p1", "fb_1", hashtags=["h1"])]
    assert writer.write_batch(rows) == (2, 1)
    assert sorted(Interaction.objects.values_list("action", "target_entity__value")) == [
        ("hashtag", "h1"),
        ("url", "u9"),
    ]
    assert writer.write_batch(rows) == (0, 3)


def test_a_stub_account_is_filled_in_when_it_posts(collection):
    writer, _ = writer_for(collection)
    writer.write_batch(batch())
    later = post("4", "Z", "now Z posts", minutes=9)
    later.account.followers = 42
    writer.write_batch([later])
    z = Account.objects.get(collection=collection, platform_id="Z")
    assert (z.observed, z.followers, z.handle) == (True, 42, "z")


def test_upload_labels_land_on_accounts_and_posts(collection):
    writer, _ = writer_for(collection, labels={"source": "takedown-2018"})
    writer.write_batch(batch())
    assert Account.objects.get(platform_id="A").labels == {"source": "takedown-2018"}
    assert Post.objects.get(platform_id="1").labels == {"source": "takedown-2018"}


def test_purge_removes_one_file_whole_and_keeps_the_others(collection):
    first, _ = writer_for(collection, "first.csv")
    first.write_batch(batch())
    second, second_file = writer_for(collection, "second.csv")
    second.write_batch([post("10", "C", "#new", hashtags=["new"]), post("11", "A", "@carl", mentions=["carl"])])
    import_file_purge(import_file=second_file)
    assert sorted(Post.objects.values_list("platform_id", flat=True)) == ["1", "2", "3"]
    assert not Account.objects.filter(platform_id="C").exists()
    assert not Entity.objects.filter(value__in=["new", "carl"]).exists()
    assert Interaction.objects.count() == 6
