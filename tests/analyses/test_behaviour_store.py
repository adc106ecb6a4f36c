"""The behaviour kind reads the analysis store: the steps (and so the sequences TIES reads) are the ones the ORM rows
gave, every row unless a memory bound (ANALYSIS_ROWS_MAX) forces one, which the run's inputs, summary and page then
report; a collection deleted before its store is read fails the job cleanly."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from django.urls import reverse

from apps.analyses.behaviour_selectors import ACCOUNT_ACTIONS, behaviour_interactions
from apps.analyses.models import Analysis
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Entity, Interaction, Post
from apps.collections.services import collection_delete
from apps.collections.store import store_dir
from apps.jobs.services import job_execute
from ml.behaviour import build_sequences, interaction_frame
from ml.simulation import OperationConfig
from tests.analyses.town_data import town_import

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
SIMULATION = OperationConfig(seed=5, days=4, organic_accounts=40, operation_accounts=12, seed_accounts=2)
TINY = {"label_key": "role", "positive_values": ["operation"], "encoder": "deepset", "epochs": 1, "embedding_dim": 2,
        "graph_epochs": 1}
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


def orm_steps(collection) -> dict[str, list]:
    """The reference: the steps as the kind read them through the ORM before the store (uncapped)."""
    columns: dict[str, list] = {"account": [], "action": [], "target": [], "time": []}
    rows = Interaction.objects.filter(collection=collection).order_by("-time", "id").values_list(
        "source_account_id", "action", "target_entity__kind", "target_entity__value", "target_post_id",
        "target_account_id", "time",
    )
    for account, action, kind, value, post_ref, account_ref, time in rows:
        if action in ACCOUNT_ACTIONS:
            target = f"post:{post_ref}" if post_ref else (f"account:{account_ref}" if account_ref else "")
        else:
            target = f"{kind or action}:{value}" if value else ""
        if target:
            for key, v in zip(columns, (account, action, target, time.timestamp())):
                columns[key].append(v)
    posts = Post.objects.filter(collection=collection, kind=Post.Kind.POST, time__isnull=False).exclude(
        account__placeholder=True)
    for account, platform_id, time in posts.order_by("-time", "id").values_list("account_id", "platform_id", "time"):
        for key, v in zip(columns, (account, "post", f"post:{platform_id}", time.timestamp())):
            columns[key].append(v)
    return columns


def rows(columns) -> list[tuple]:
    return sorted(zip((int(a) for a in columns["account"]), columns["action"], columns["target"],
                      (float(t) for t in columns["time"])))


def canonical(columns) -> dict[str, list]:
    """The rows by (account, time, action, target): the ORM never defined the order of one account's steps at one
    instant (a post and its hashtags share its time), so both paths are compared in one order."""
    found = rows(columns)
    order = sorted(range(len(found)), key=lambda i: (found[i][0], found[i][3], found[i][1], found[i][2]))
    return {key: [found[i][k] for i in order] for k, key in enumerate(("account", "action", "target", "time"))}


def sequences(columns):
    return build_sequences(interaction_frame(columns["account"], columns["action"], columns["target"],
                                             columns["time"]), max_steps=16)


@pytest.fixture
def town(investigation, users, tmp_path):
    return town_import(investigation, users["bob"], tmp_path, SIMULATION)


@pytest.fixture
def loose(investigation):
    """Rows written straight into the tables (no import: the store builds its part from them), one of each case:
    Ann posts with a hashtag, a mention and a blank URL; Ben reposts her post, replies to her knowing only her
    account, quotes nothing known; a post without a time and a stand-in author's post take no step."""
    collection = Collection.objects.create(investigation=investigation, name="loose")
    ann, ben = (Account.objects.create(collection=collection, platform_id=h, handle=h, labels={"role": r})
                for h, r in (("ann", "operation"), ("ben", "resident")))
    ghost = Account.objects.create(collection=collection, platform_id="ghost", placeholder=True)

    def post(pid, account, kind="post", time=T0):
        return Post.objects.create(collection=collection, platform_id=pid, account=account, kind=kind, time=time)

    def act(post_, action, *, entity=None, target_post_id="", target_account=None):
        Interaction.objects.create(collection=collection, post=post_, source_account=post_.account, action=action,
                                   target_entity=entity, target_post_id=target_post_id,
                                   target_account=target_account, time=post_.time)

    first = post("p1", ann)
    for kind, value in (("hashtag", "maga"), ("mention", "ben"), ("url", "")):
        act(first, kind, entity=Entity.objects.create(collection=collection, kind=kind, value=value))
    act(post("p2", ben, "repost", T0 + timedelta(hours=1)), "repost", target_post_id="p1", target_account=ann)
    act(post("p3", ben, "reply", T0 + timedelta(hours=2)), "reply", target_account=ann)
    act(post("p4", ben, "quote", T0 + timedelta(hours=3)), "quote")
    post("p5", ann, time=None)
    post("p6", ghost, time=T0 + timedelta(hours=4))
    return collection, ann, ben


def run(investigation, collection, user, **params):
    job = analysis_start(investigation=investigation, user=user, kind="behaviour", collection=collection,
                         params=params, enqueue=False)
    return job_execute(job_id=job.pk)


def test_the_store_gives_the_steps_and_the_sequences_the_orm_rows_gave(town):
    through_orm = orm_steps(town)
    from_store, bound = behaviour_interactions(collection=town)
    assert bound == {"total": len(through_orm["account"]), "rows_left_out": 0, "left_out_before": None}
    assert rows(from_store) == rows(through_orm)
    assert {"post", "repost", "quote", "reply", "hashtag", "mention", "url", "domain"} <= set(from_store["action"])
    ours, theirs = sequences(canonical(from_store)), sequences(canonical(through_orm))
    for field in ("accounts", "actions", "sources", "targets", "misc", "mask", "steps"):
        assert np.array_equal(getattr(ours, field), getattr(theirs, field)), field
    assert ours.vocab.index == theirs.vocab.index and ours.mask.sum() > 100


def test_rows_written_straight_into_the_tables_give_each_case_its_step(loose):
    collection, ann, ben = loose
    from_store, bound = behaviour_interactions(collection=collection)
    at = T0.timestamp()
    assert rows(from_store) == sorted([
        (ann.pk, "hashtag", "hashtag:maga", at), (ann.pk, "mention", "mention:ben", at),
        (ann.pk, "post", "post:p1", at),
        (ben.pk, "repost", "post:p1", at + 3600), (ben.pk, "reply", f"account:{ann.pk}", at + 7200),
    ])
    assert rows(from_store) == rows(orm_steps(collection)) and bound["total"] == 5
    assert from_store["account"].dtype == np.int64 and from_store["time"].dtype == np.float64


def test_a_run_over_the_rows_bound_says_what_it_left_out_on_its_summary_and_page(
    investigation, users, town, settings, client_for
):
    job = run(investigation, town, users["bob"], **TINY)
    assert job.status == "succeeded", job.error
    inputs = Analysis.objects.get(job=job).result["inputs"]
    total = len(orm_steps(town)["account"])
    assert (inputs["interactions_read"], inputs["interactions_total"], inputs["rows_left_out"]) == (total, total, 0)
    assert "rows_left_out" not in job.result
    page = client_for("carol").get(reverse("analysis-detail", args=[Analysis.objects.get(job=job).pk]))
    assert page.status_code == 200 and 'data-testid="left-out"' not in page.content.decode()

    limit = total - 30
    settings.MURMURATION = {**settings.MURMURATION, "ANALYSIS_ROWS_MAX": limit}
    kept, bound = behaviour_interactions(collection=town)
    latest = sorted(orm_steps(town)["time"], reverse=True)
    assert sorted(kept["time"], reverse=True) == latest[:limit] and bound["rows_left_out"] == 30
    job = run(investigation, town, users["bob"], **TINY)
    assert job.status == "succeeded", job.error
    analysis = Analysis.objects.get(job=job)
    inputs = analysis.result["inputs"]
    assert (inputs["interactions_read"], inputs["interactions_total"], inputs["rows_left_out"]) == (limit, total, 30)
    assert datetime.fromisoformat(inputs["left_out_before"]).timestamp() == latest[limit - 1]
    assert job.result["rows_left_out"] == 30 and job.result["left_out_before"] == inputs["left_out_before"]
    assert job.provenance["inputs"][0]["rows_left_out"] == 30
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk])).content.decode()
    assert 'data-testid="left-out"' in page and "30 interactions before " in page


def test_a_collection_deleted_before_its_store_is_read_fails_the_job_cleanly(investigation, users, loose,
                                                                             monkeypatch):
    from apps.analyses import behaviour_selectors

    collection = loose[0]
    read = behaviour_selectors.behaviour_interactions

    def delete_then_read(**kwargs):
        collection_delete(collection=Collection.objects.get(pk=collection.pk), user=users["alice"])
        return read(**kwargs)

    monkeypatch.setattr(behaviour_selectors, "behaviour_interactions", delete_then_read)
    job = run(investigation, collection, users["bob"], **TINY)
    assert (job.status, job.error) == (
        "failed", "The collection “loose” was deleted while the analysis ran; nothing was saved."
    )
    assert not Analysis.objects.exists() and not store_dir(collection.pk).exists()
