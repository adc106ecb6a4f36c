"""A kind's follow-ups (``Kind.follow_ups``): a text classifier trained with ``score_after`` queues the scoring
of its collection with the model it made, through ``analysis_start`` (its checks, its job, its audit entry);
a follow-up that its checks refuse is reported in the first job's summary and does not fail it."""
from __future__ import annotations

import pytest

from apps.analyses.kinds.train_classifier import TrainClassifier
from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.services import analysis_start
from apps.audit.models import AuditEntry
from apps.collections.models import Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.analyses.text_data import store_labelled_collection, texts

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from ml.text import save_tiny_bert

    return str(save_tiny_bert(texts() * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2))


def train(investigation, users, collection, tiny_bert, **extra) -> Job:
    params = {"label_source": "account_label", "label_key": "account_category",
              "positive_values": "RightTroll,LeftTroll", "base_dir": tiny_bert, "epochs": 1,
              "learning_rate": 1e-3, "batch_size": 32, **extra}
    job = analysis_start(investigation=investigation, user=users["bob"], kind="train_classifier",
                         collection=collection, params=params, enqueue=False)
    job = job_execute(job_id=job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    return job


def test_score_after_queues_the_scoring_of_the_collection_with_the_new_model(investigation, users, tiny_bert):
    collection = store_labelled_collection(investigation, accounts=4, posts=6)
    job = train(investigation, users, collection, tiny_bert, score_after=True)
    model = TextModel.objects.get(job=job)
    [follow] = job.result["follow_ups"]
    queued = Job.objects.get(pk=follow["job_id"])
    assert follow["kind"] == "score" and queued.status == Job.Status.QUEUED
    assert queued.kind == "analysis:score" and queued.created_by == users["bob"]
    assert queued.params["collection_id"] == collection.pk and queued.params["params"]["model"] == model.pk
    assert AuditEntry.objects.filter(action="analysis.start", object_id=queued.pk).exists()
    # The worker runs it: every post of the collection is scored by the model just trained.
    assert job_execute(job_id=queued.pk).status == Job.Status.SUCCEEDED
    scored = Analysis.objects.get(job=queued)
    assert scored.result["model"] == model.pk
    assert PostScore.objects.filter(analysis=scored).count() == Post.objects.filter(collection=collection).count()


def test_without_score_after_nothing_follows(investigation, users, tiny_bert):
    collection = store_labelled_collection(investigation, accounts=4, posts=6)
    job = train(investigation, users, collection, tiny_bert)
    assert "follow_ups" not in job.result
    assert not Job.objects.filter(kind="analysis:score").exists()


def test_a_refused_follow_up_is_reported_and_the_model_is_kept(investigation, users, tiny_bert, monkeypatch):
    monkeypatch.setattr(TrainClassifier, "follow_ups", lambda self, analysis: [("score", {"model": 10**9})])
    collection = store_labelled_collection(investigation, accounts=4, posts=6)
    job = train(investigation, users, collection, tiny_bert, score_after=True)
    [follow] = job.result["follow_ups"]
    assert follow["kind"] == "score" and "model" in follow["error"] and "job_id" not in follow
    assert TextModel.objects.filter(job=job).exists()
    assert not Job.objects.filter(kind="analysis:score").exists()
