"""Active learning on a queue: Bob labels posts, retrains, and round 2 (a model fine-tuned from the queue's first
one on his labels and the first model's own) re-scores the queue, which then puts the new model's most uncertain
posts first; the round is measured on held-out labels beside round 1 on the same posts. The retrain starts from
the page's API and from ``run_analysis`` through the same service."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.audit.models import AuditEntry
from apps.jobs.services import job_execute
from apps.triage.models import TriageRound
from apps.triage.retrain import held_out_split
from apps.triage.selectors import item_next, queue_items, training_labels
from apps.triage.services import decision_record, resolution_record, retrain_start

# Embedded default only: these train models (CPU), and what they store is plain rows the PostgreSQL pass already
# covers (tests/analyses/test_post_scores.py, test_text_models.py): running them twice cost the suite about a minute.
pytestmark = pytest.mark.django_db

SMALL = {"epochs": 2, "learning_rate": 1e-3, "max_length": 32}


def label(learning, user, names):
    for name in names:
        decision_record(queue=learning["queue"], user=user, post_id=learning["posts"][name].pk,
                        value=learning["truth"][name])


def some_of_each(learning, n):
    ops = sorted(p for p, v in learning["truth"].items() if v == "operation")
    org = sorted(p for p, v in learning["truth"].items() if v == "organic")
    return ops[:n] + org[:n]


def retrain(learning, user, **params):
    job = retrain_start(queue=learning["queue"], user=user, params={**SMALL, **params}, enqueue=False)
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    learning["queue"].refresh_from_db()
    return Analysis.objects.get(job=job)


def test_a_retrain_adds_round_two_with_held_out_metrics(learning, users):
    queue = learning["queue"]
    assert list(queue.rounds.values_list("number", "analysis_id")) == [(1, learning["scoring"].pk)]
    label(learning, users["bob"], some_of_each(learning, 6))
    analysis = retrain(learning, users["bob"])

    first, second = TriageRound.objects.filter(queue=queue).order_by("number")
    assert (first.metrics["auc"], first.model) == (0.75, learning["model"])  # round 1: the first model's own figures
    assert second.number == 2 and second.analysis == analysis and queue.analysis == analysis
    assert isinstance(second.model, TextModel) and second.model.weights_dir.is_dir()
    # 12 labels, a quarter of each class held out: 2 + 2 held out, 8 trained on, plus the first model's own
    # account labels on the other 84 posts of the collection
    assert (second.labels, second.original_labels) == (8, 84)
    assert second.metrics["n"] == 4 and second.metrics["positives"] == 2
    assert 0.0 <= second.metrics["auc"] <= 1.0 and 0.0 <= second.metrics["f1"] <= 1.0
    assert second.metrics["previous"]["n"] == 4 and 0.0 <= second.metrics["previous"]["auc"] <= 1.0
    assert "held out" in second.held_out
    used = analysis.result["used"]
    assert len(used["train"]) == 8 and len(used["held_out"]) == 4
    assert not {p for p, _ in used["train"]} & {p for p, _ in used["held_out"]}  # never trained on the held-out
    assert PostScore.objects.filter(analysis=analysis).count() == queue.total == 96
    assert AuditEntry.objects.filter(action="triage.retrain", object_id=queue.pk).count() == 1


def test_the_retrained_order_differs_and_puts_the_new_models_uncertain_posts_first(learning, users):
    queue = learning["queue"]
    before = list(queue_items(queue).values_list("post_id", flat=True))
    label(learning, users["bob"], some_of_each(learning, 6))
    analysis = retrain(learning, users["bob"], epochs=3)

    scores = dict(PostScore.objects.filter(analysis=analysis).values_list("post_id", "score"))
    after = list(queue_items(queue).values_list("post_id", flat=True))
    assert after != before
    assert after == sorted(scores, key=lambda p: (abs(scores[p] - 0.5), p))  # the new model's, threshold 0.5
    # Alice has decided nothing: her next is the new model's most uncertain post
    assert item_next(queue=queue, user=users["alice"]).post_id == after[0]
    # Bob's next is the most uncertain he has not decided yet
    decided = {learning["posts"][name].pk for name in some_of_each(learning, 6)}
    assert item_next(queue=queue, user=users["bob"]).post_id == next(p for p in after if p not in decided)


def test_the_resolution_of_a_disagreement_is_the_label_training_uses(learning, users):
    queue, posts = learning["queue"], learning["posts"]
    label(learning, users["bob"], some_of_each(learning, 4))
    ops = sorted(p for p, v in learning["truth"].items() if v == "operation")
    settled, open_ = ops[10], ops[11]
    for name, bob, alice in ((settled, "organic", "operation"), (open_, "operation", "organic")):
        decision_record(queue=queue, user=users["bob"], post_id=posts[name].pk, value=bob)
        decision_record(queue=queue, user=users["alice"], post_id=posts[name].pk, value=alice)
    resolution_record(queue=queue, user=users["alice"], post_id=posts[settled].pk, value="operation")

    chosen, unresolved = training_labels(queue=queue)
    assert chosen[posts[settled].pk] == "operation" and posts[open_].pk not in chosen and unresolved == 1
    analysis = retrain(learning, users["bob"], held_out=0.05)
    used = dict(analysis.result["used"]["train"] + analysis.result["used"]["held_out"])
    assert used[posts[settled].pk] == 1  # the resolution (operation), not Bob's organic
    assert posts[open_].pk not in used  # an unresolved disagreement trains nothing
    assert analysis.result["unresolved"] == 1


def test_too_few_labels_is_a_400_naming_what_is_missing(learning, users, api_for):
    label(learning, users["bob"], some_of_each(learning, 1))
    response = api_for("bob").post(reverse("api-triage-retrain", args=[learning["queue"].pk]), {}, format="json")
    assert response.status_code == 400
    assert "Label at least 2 posts operation and 2 organic first (the queue has 1 and 1)" in response.json()["queue"][0]
    assert not TriageRound.objects.filter(number=2).exists()


def test_the_api_starts_a_retrain_job_and_lists_the_rounds(learning, users, api_for, client_for):
    queue = learning["queue"]
    label(learning, users["bob"], some_of_each(learning, 3))
    api = api_for("bob")
    response = api.post(reverse("api-triage-retrain", args=[queue.pk]), {"params": SMALL}, format="json")
    assert response.status_code == 202, response.content
    job = response.json()["job"]
    assert (job["kind"], job["status"]) == ("analysis:triage_retrain", "queued")
    assert job_execute(job_id=job["id"]).status == "succeeded"
    body = api_for("carol").get(reverse("api-triage-rounds", args=[queue.pk])).json()
    assert [r["number"] for r in body["rounds"]] == [1, 2] and body["job"]["status"] == "succeeded"
    assert body["rounds"][1]["labels"] == 4 and body["rounds"][1]["metrics"]["n"] == 2
    client = client_for("carol")
    page = client.get(reverse("triage-queue", args=[queue.pk])).content.decode()
    assert page.count('data-testid="round-row"') == 2 and 'data-round="2"' in page
    analysis = Analysis.objects.get(job_id=job["id"])
    assert f"analysis #{analysis.pk}</a> (round 2)" in page
    detail = client.get(reverse("analysis-detail", args=[analysis.pk]))
    assert detail.status_code == 200 and "round 2" in detail.content.decode()
    assert client.get(reverse("text-model-detail", args=[analysis.result["text_model_id"]])).status_code == 200


def test_run_analysis_starts_the_same_retrain(learning, users):
    queue = learning["queue"]
    label(learning, users["bob"], some_of_each(learning, 3))
    out = io.StringIO()
    call_command("run_analysis", "triage_retrain", "--investigation", learning["collection"].investigation.name,
                 "--collection", learning["collection"].name, "--param", f"queue={queue.pk}", "--param", "epochs=1",
                 "--param", "original=false", "--user", "bob", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["status"] == "succeeded" and summary["round"] == 2 and summary["original_labels"] == 0
    assert queue.rounds.get(number=2).labels == summary["labels"] == 4


def test_the_held_out_split_keeps_a_share_of_each_class():
    labels = {i: int(i < 10) for i in range(30)}
    train, held = held_out_split(labels, 0.25, seed=3)
    assert sorted(train + held) == list(range(30)) and not set(train) & set(held)
    assert sum(labels[p] for p in held) == 2 and sum(1 - labels[p] for p in held) == 5  # round(2.5), round(5.0)
    assert held_out_split(labels, 0.25, seed=3) == (train, held) != held_out_split(labels, 0.25, seed=4)


def test_a_blank_max_length_fine_tunes_at_the_first_models_own(learning, users):
    """A model trained at its own length (32 here; 128 where max_length auto chose it) is not cut back to 64."""
    label(learning, users["bob"], some_of_each(learning, 6))
    analysis = retrain(learning, users["bob"], max_length=None)
    assert analysis.params["max_length"] == learning["model"].params["max_length"] == 32
    second = TriageRound.objects.get(queue=learning["queue"], number=2)
    assert second.model.params["max_length"] == 32
