"""The detectors read the analysis store: the same edges as the rows read through the ORM, every row unless a
memory bound (ANALYSIS_ROWS_MAX) forces one, which the run and its page then report, and a collection deleted
mid-analysis fails the job with a clear error and saves nothing."""
from __future__ import annotations

import pandas as pd
import pytest
from django.urls import reverse

from apps.analyses.kinds.coordination import config as coordination_config
from apps.analyses.models import Analysis
from apps.analyses.selectors import coaction_frame, coaction_posts, coordination_event_frame, coordination_events
from apps.analyses.services import analysis_start
from apps.collections.models import Collection, Interaction
from apps.collections.services import collection_delete
from apps.collections.store import store_dir
from apps.jobs.services import job_execute
from tests.analyses.coordination_data import BIN_SECONDS, WINDOW, store_coordination_collection

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
TYPES = ["hashtag", "url", "mention"]


@pytest.fixture
def collection(investigation):
    collection = Collection.objects.create(investigation=investigation, name="riverton")
    store_coordination_collection(collection)
    return collection


def run(investigation, user, collection, kind="coordination", **params):
    job = analysis_start(
        investigation=investigation, user=user, kind=kind, collection=collection, params=params, enqueue=False
    )
    return job_execute(job_id=job.pk)


def edge_set(report) -> set:
    return {(e["source"], e["target"], e.get("significant"), round(e["M"], 9)) for e in report["edges"]}


def test_coordination_on_the_store_finds_the_edges_the_orm_rows_give(collection):
    from ml.coordination import influence_report

    through_orm = pd.DataFrame(coordination_events(collection=collection, entity_types=TYPES, cap=10**9))
    through_orm["time"] = pd.to_datetime(through_orm["time"], utc=True)
    from_store, bound = coordination_event_frame(collection=collection, entity_types=TYPES)
    assert bound == {"total": len(through_orm), "rows_left_out": 0, "left_out_before": None}
    key = ["account", "entity", "time", "post_id"]
    assert from_store.sort_values(key).astype(str).values.tolist() == through_orm[from_store.columns].sort_values(
        key).astype(str).values.tolist()
    config = coordination_config({"bin_seconds": BIN_SECONDS, "entity_types": TYPES, "exclude_entities": [],
                                  "min_posts": 5, "rule": "significant", "alpha": 0.05}, start=0.0)
    ours, theirs = influence_report(from_store, config), influence_report(through_orm, config)
    assert edge_set(ours) == edge_set(theirs) and len(ours["edges"]) >= 5


def test_coaction_on_the_store_reads_the_rows_the_orm_gives(collection):
    actions = ["repost", "url", "hashtag", "mention", "reply", "text"]
    through_orm = pd.DataFrame(coaction_posts(collection=collection, actions=actions, cap=10**9))
    from_store, bound = coaction_frame(collection=collection, actions=actions)
    assert bound["total"] == len(through_orm) == len(from_store) and bound["rows_left_out"] == 0

    def rows(frame):
        return sorted(
            (int(a), act, t, pd.Timestamp(when).timestamp(), int(p), text)
            for a, act, t, when, p, text in frame[["account", "action", "target", "time", "post_id", "text"]]
            .astype(object).where(frame.notna(), None).itertuples(index=False)
        )

    assert rows(from_store) == rows(through_orm)


def test_a_run_over_the_rows_bound_reports_what_it_left_out_on_its_summary_and_page(
    investigation, users, collection, settings, client_for
):
    total = Interaction.objects.filter(collection=collection, action__in=TYPES).count()
    settings.MURMURATION = {**settings.MURMURATION, "ANALYSIS_ROWS_MAX": total - 40}
    job = run(investigation, users["bob"], collection, bin_seconds=BIN_SECONDS)
    assert job.status == "succeeded", job.error
    analysis = Analysis.objects.get(job=job)
    inputs = analysis.result["inputs"]
    assert (inputs["events_read"], inputs["events_total"], inputs["events_left_out"]) == (total - 40, total, 40)
    earliest_kept = Interaction.objects.filter(collection=collection, action__in=TYPES).order_by("-time")[
        total - 41].time
    assert inputs["left_out_before"] == earliest_kept.isoformat()
    assert job.result["events_left_out"] == 40 and analysis.summary["left_out_before"] == inputs["left_out_before"]
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk])).content.decode()
    assert 'data-testid="left-out"' in page and "40 events before " in page


def test_a_run_under_the_bound_reads_every_row_and_says_nothing_was_left_out(
    investigation, users, collection, client_for
):
    job = run(investigation, users["bob"], collection, kind="coaction", window=WINDOW)
    assert job.status == "succeeded", job.error
    analysis = Analysis.objects.get(job=job)
    assert analysis.result["inputs"]["rows_left_out"] == 0
    assert analysis.result["inputs"]["rows_read"] == analysis.result["inputs"]["rows_total"]
    assert "rows_left_out" not in job.result
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk])).content.decode()
    assert 'data-testid="left-out"' not in page


def test_a_collection_deleted_while_the_network_is_computed_fails_the_job_cleanly(
    investigation, users, collection, monkeypatch
):
    import ml.coordination

    compute = ml.coordination.influence_report

    def delete_then_compute(*args, **kwargs):
        collection_delete(collection=Collection.objects.get(pk=collection.pk), user=users["alice"])
        return compute(*args, **kwargs)

    monkeypatch.setattr(ml.coordination, "influence_report", delete_then_compute)
    job = run(investigation, users["bob"], collection, bin_seconds=BIN_SECONDS)
    assert job.status == "failed"
    assert job.error == "The collection “riverton” was deleted while the analysis ran; nothing was saved."
    assert not Analysis.objects.exists() and not store_dir(collection.pk).exists()


def test_a_collection_deleted_before_its_store_is_read_fails_the_job_cleanly(
    investigation, users, collection, monkeypatch
):
    from apps.analyses.kinds import coordination

    read = coordination.coordination_event_frame

    def delete_then_read(**kwargs):
        collection_delete(collection=Collection.objects.get(pk=collection.pk), user=users["alice"])
        return read(**kwargs)

    monkeypatch.setattr(coordination, "coordination_event_frame", delete_then_read)
    job = run(investigation, users["bob"], collection, bin_seconds=BIN_SECONDS)
    assert (job.status, job.error) == (
        "failed", "The collection “riverton” was deleted while the analysis ran; nothing was saved."
    )
    assert not Analysis.objects.exists() and not store_dir(collection.pk).exists()
