"""Scores an analyst can trust (issue 16, items 4 and 6): a trained classifier stores the temperature and the
threshold chosen on its validation split, its page draws the reliability diagram and says which threshold
flags posts and for what goal, scoring stores calibrated probabilities and flags at that threshold, a model
trained before calibration keeps working (T = 1, 0.5, said so), and every model page names its split."""
from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.services import analysis_start
from apps.collections.models import Collection, Post
from apps.jobs.services import job_execute
from tests.analyses.text_data import store_labelled_collection, texts

# Embedded default only: these train models (CPU), and what they store is plain rows the PostgreSQL pass already
# covers (tests/analyses/test_post_scores.py, test_text_models.py): running them twice cost the suite about a minute.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from ml.text import save_tiny_bert

    return str(save_tiny_bert(texts() * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2))


@pytest.fixture
def collection(investigation):
    """24 accounts, so the validation split (about a tenth of the training accounts) holds both classes; a
    fifth of the posts' veracity labels flipped, so no model separates them and T has something to fit."""
    collection = store_labelled_collection(investigation, accounts=12, posts=10)
    posts = list(Post.objects.filter(collection=collection).order_by("id"))
    for post in posts[::5]:
        post.labels = {"veracity": "true" if post.labels["veracity"] == "false" else "false"}
    Post.objects.bulk_update(posts[::5], ["labels"])
    return collection


def run(investigation, users, collection, kind, params):
    job = analysis_start(
        investigation=investigation, user=users["bob"], kind=kind, collection=collection, params=params, enqueue=False
    )
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return job


def train(investigation, users, collection, tiny_bert, **extra) -> TextModel:
    params = {"label_source": "post_label", "label_key": "veracity", "positive_values": "false", "base_dir": tiny_bert,
              "epochs": 3, "learning_rate": 1e-3, **extra}
    return TextModel.objects.get(job=run(investigation, users, collection, "train_classifier", params))


def test_training_stores_t_and_the_f1_threshold_and_scoring_applies_them(investigation, users, collection, tiny_bert,
                                                                         client_for):
    from ml.text import load_text_model
    from ml.text.calibration import sigmoid

    model = train(investigation, users, collection, tiny_bert)
    report = model.metrics["calibration"]
    assert report["fitted"] and report["posts"] == model.split["val"]["posts"] > 0
    assert 0 < report["positives"] < report["posts"]  # both classes: T and the threshold could be fitted
    assert len(report["bins_after"]) == 10 and sum(b["count"] for b in report["bins_after"]) == report["posts"]
    assert report["test"]["posts"] == model.metrics["n"]
    chosen = report["threshold"]
    # T was fitted (the noisy labels leave the validation posts inseparable) and lowered the validation NLL.
    assert not report["separable"] and report["temperature"] != 1.0
    assert report["nll_after"] < report["nll_before"]
    assert chosen["goal"] == "f1" and model.params["threshold_goal"] == "f1"
    # The held-out metrics are taken at the chosen threshold, on calibrated scores.
    assert model.metrics["threshold"] == chosen["threshold"]

    # The weights on disk carry T and the threshold: their scores are sigmoid(logit / T).
    analysis = Analysis.objects.get(job=model.job)
    test = analysis.result["test"]
    held_out = dict(Post.objects.filter(pk__in=test["post_id"]).values_list("id", "text"))
    classifier = load_text_model(model.weights_dir)
    assert (classifier.temperature_, classifier.decision_threshold) == (report["temperature"], chosen["threshold"])
    raw = classifier.logits([held_out[pk] for pk in test["post_id"]])
    assert sigmoid(raw / report["temperature"]).tolist() == pytest.approx(test["scores"], abs=1e-6)

    # The model page: split type and the threshold sentence in the headline, the reliability diagram's bins.
    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk]))
    headline = page.content.decode()
    sentence = f"threshold {chosen['threshold']:.2f} chosen on validation for F1 (F1 {chosen['f1']:.2f} there)"
    assert f">{sentence}</span>." in headline
    assert 'on a held-out <strong data-testid="split-type">account-disjoint</strong> split' in headline
    figure = page.context["figures"]["reliability"]
    assert figure["data"][1]["y"] == [b["accuracy"] for b in report["test"]["bins_after"] if b["count"]]
    assert f"T = {report['temperature']:.2f}" in headline

    # Scoring flags at the model's threshold and stores calibrated probabilities.
    scored = Analysis.objects.get(job=run(investigation, users, collection, "score", {"model": model.pk}))
    result = scored.result
    assert (result["threshold"], result["threshold_from"], result["temperature"]) == (
        chosen["threshold"], "model", report["temperature"])
    stored = dict(PostScore.objects.filter(analysis=scored).values_list("post_id", "score"))
    texts_ = dict(Post.objects.filter(pk__in=stored).values_list("id", "text"))
    ids = sorted(stored)
    calibrated = sigmoid(classifier.logits([texts_[pk] for pk in ids]) / report["temperature"])
    assert [stored[pk] for pk in ids] == pytest.approx(calibrated.tolist(), abs=1e-6)
    assert result["above_threshold"] == int((calibrated >= chosen["threshold"]).sum())
    page = client_for("carol").get(reverse("analysis-detail", args=[scored.pk])).content.decode()
    assert f"Posts are flagged at or above <strong>{chosen['threshold']:.2f}</strong>: the model's {sentence}." in page

    # An analyst's own threshold is said to be theirs.
    mine = Analysis.objects.get(job=run(investigation, users, collection, "score", {"model": model.pk,
                                                                                   "threshold": 0.97}))
    assert (mine.result["threshold"], mine.result["threshold_from"]) == (0.97, "analyst")
    page = client_for("carol").get(reverse("analysis-detail", args=[mine.pk])).content.decode()
    assert "set by the analyst for this scoring (the model's own: threshold" in page


def test_a_precision_goal_is_stored_and_stated(investigation, users, collection, tiny_bert, client_for):
    model = train(investigation, users, collection, tiny_bert, threshold_goal="precision", target_precision=0.95)
    chosen = model.metrics["calibration"]["threshold"]
    assert (chosen["goal"], chosen["target_precision"]) == ("precision", 0.95)
    assert chosen["precision"] >= 0.95 if chosen["reached"] else chosen["precision"] < 0.95
    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk])).content.decode()
    figures = f"precision {chosen['precision']:.2f} on {chosen['flagged']} flagged posts, recall {chosen['recall']:.2f}"
    said = f"({figures} there)" if chosen["reached"] else f"(not reached there: the best was {figures})"
    assert f"threshold {chosen['threshold']:.2f} chosen on validation for precision ≥ 0.95 {said}" in page
    start = client_for("bob").get(reverse("text-model-score", args=[model.pk])).content.decode()
    assert "the model&#x27;s own: threshold" in start or "the model's own: threshold" in start


def test_the_training_form_refuses_a_target_precision_out_of_range(investigation, users, collection, tiny_bert):
    with pytest.raises(ValidationError) as caught:
        analysis_start(investigation=investigation, user=users["bob"], kind="train_classifier", collection=collection,
                       params={"label_key": "account_category", "positive_values": "RightTroll",
                               "threshold_goal": "precision", "target_precision": 0.3})
    assert caught.value.message_dict["target_precision"] == ["target_precision must be in [0.5, 0.999]; got 0.3."]
    with pytest.raises(ValidationError) as caught:
        analysis_start(investigation=investigation, user=users["bob"], kind="train_classifier", collection=collection,
                       params={"label_key": "account_category", "positive_values": "RightTroll",
                               "threshold_goal": "recall"})
    assert "threshold_goal must be one of f1, precision" in caught.value.message_dict["threshold_goal"][0]


def old_model(investigation, tiny_bert) -> TextModel:
    """A model as one trained before calibration was stored: weights whose manifest has no calibration, metrics
    without it, and the fixed threshold 0.5."""
    from ml.text import EncoderClassifier
    from ml.text.storage import MANIFEST

    row = TextModel.objects.create(
        investigation=investigation, name="old", kind="encoder", base_model=tiny_bert,
        params={"label_source": "account_label"}, metrics={"n": 10, "positives": 5, "auc": 0.9, "f1": 0.8,
                                                           "threshold": 0.5},
        split={"account_disjoint": True, "train": {"posts": 40, "positives": 20, "accounts": 8},
               "val": {"posts": 0, "positives": 0, "accounts": 0},
               "test": {"posts": 10, "positives": 5, "accounts": 2}},
    )
    classifier = EncoderClassifier(tiny_bert)
    classifier._build([])
    classifier.save(row.weights_dir)
    manifest = json.loads((row.weights_dir / MANIFEST).read_text())
    del manifest["calibration"]
    (row.weights_dir / MANIFEST).write_text(json.dumps(manifest))
    return row


def test_a_model_trained_before_calibration_scores_with_t_1_and_0_5_and_says_so(investigation, users, collection,
                                                                               tiny_bert, client_for):
    from ml.text import load_text_model

    model = old_model(investigation, tiny_bert)
    classifier = load_text_model(model.weights_dir)
    assert (classifier.temperature_, classifier.decision_threshold) == (1.0, 0.5)
    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk]))
    assert page.status_code == 200 and "reliability" not in page.context["figures"]
    text = page.content.decode()
    assert "Not calibrated: the model was trained before calibration was added" in text
    assert "threshold 0.50 by default, not chosen on validation" in text

    scored = Analysis.objects.get(job=run(investigation, users, collection, "score", {"model": model.pk}))
    assert (scored.result["threshold"], scored.result["temperature"]) == (0.5, 1.0)
    scores = np.array(list(PostScore.objects.filter(analysis=scored).values_list("score", flat=True)))
    assert scored.result["above_threshold"] == int((scores >= 0.5).sum())
    assert "Scores are not calibrated (T = 1)" in client_for("carol").get(
        reverse("analysis-detail", args=[scored.pk])).content.decode()
    # A score analysis stored before thresholds were chosen renders too.
    scored.result = {k: v for k, v in scored.result.items() if k not in ("threshold_from", "temperature",
                                                                         "calibration")}
    scored.save(update_fields=["result"])
    page = client_for("carol").get(reverse("analysis-detail", args=[scored.pk]))
    assert page.status_code == 200 and "Scored before thresholds were chosen on validation" in page.content.decode()


def test_authorship_leads_with_the_time_ordered_test_accuracy(investigation, users, client_for):
    from apps.analyses.kinds.authorship import summary
    from tests.support.authorship import TARGET, authorship_rows, store_authorship_collection

    collection = Collection.objects.create(investigation=investigation, name="garden-and-news")
    store_authorship_collection(collection, authorship_rows())
    job = run(investigation, users, collection, "authorship", {"account": TARGET, "cv_folds": 3, "curves": False})
    analysis = Analysis.objects.get(job=job)
    chosen = analysis.result["methods"][analysis.result["chosen"]]
    # The command's JSON line and the API list it first (PostgreSQL's jsonb keeps no key order, so ask the kind).
    assert list(summary(analysis.result))[:4] == ["account", "split", "test_accuracy", "cv_accuracy"]
    assert (analysis.summary["split"], analysis.summary["test_accuracy"]) == ("time-ordered", chosen["test_accuracy"])
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk])).content.decode()
    assert f"Time-ordered test accuracy {chosen['test_accuracy']:.3f}</strong>" in page
    assert "time-ordered split" in page
    listed = client_for("carol").get(reverse("investigation-detail", args=[investigation.pk])).content.decode()
    assert f"time-ordered test {chosen['test_accuracy']:.3f} · CV {chosen['cv_accuracy']:.3f}" in listed


def test_every_model_page_names_its_split(investigation, client_for):
    from apps.analyses.kinds.train_classifier import split_type

    part = {"posts": 10, "positives": 5, "accounts": 4}
    assert split_type({"account_disjoint": True, "train": part, "test": part}) == "account-disjoint"
    assert split_type({"account_disjoint": False, "train": part, "test": part}) == "random"
    one_each = {"posts": 10, "positives": 5, "accounts": 10}  # a text-only import: one stand-in author per post
    assert split_type({"account_disjoint": True, "train": one_each, "test": one_each}).endswith("random in effect)")
    lm = TextModel.objects.create(investigation=investigation, name="lm", kind="lm", base_model="tiny GPT-2",
                                  metrics={"held_out_perplexity": 42.0},
                                  split={"train_posts": 60, "held_out_posts": 30})
    page = client_for("carol").get(reverse("lm-detail", args=[lm.pk])).content.decode()
    assert 'on a <strong data-testid="split-type">random</strong> split of the posts (30 held out' in page


def test_a_temperature_at_its_bound_is_a_warning_on_the_model_page(investigation, client_for):
    from ml.text.calibration import calibrate

    # Confidently wrong more often than right (a whole source it gets backwards): the best temperature flattens
    # every score to 0.5, i.e. T → ∞.
    labels = np.array([0, 1] * 100)
    wrong = np.arange(200) % 5 < 3
    report = calibrate(np.where(wrong, 8.0 * (1 - 2 * labels), 8.0 * (2 * labels - 1)), labels)
    assert report["clipped"] and report["temperature"] == 1000.0
    model = TextModel.objects.create(investigation=investigation, name="lost", kind="encoder", base_model="x",
                                     metrics={"auc": 0.5, "threshold": report["threshold"]["threshold"],
                                              "calibration": report},
                                     split={"account_disjoint": True})
    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk]))
    assert 'data-testid="calibration-clipped"' in page.content.decode()
    assert "flattens every score towards 0.5" in page.content.decode()
    assert page.context["figures"]["reliability"]["data"][1]["name"].startswith("after T = 1000.00")
