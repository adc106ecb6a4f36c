"""Which mode scored a score analysis: the default ("exact") scores through ONNX Runtime where its export matched torch
fp32, stores torch's scores to 1e-4 and says so; a graph that fails its check leaves the scoring on torch and the page
says why; the post page names the mode of each stored score; int8 shows how far one post's score moves; the command
scores in the mode it is asked. Bob edits the investigation, Carol views it."""
from __future__ import annotations

import json
import random
import shutil
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.services import analysis_start
from apps.collections.models import Post
from apps.jobs.services import job_execute
from ml.text import onnx_runtime
from tests.analyses.text_data import CONTROL, TROLL, store_labelled_collection, texts
from tests.ml.test_onnx_runtime import corrupting

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A tiny BERT classifier trained once for the module, with its int8 report (as the training job stores it)."""
    from apps.analyses.kinds.train_classifier import _classifier
    from ml.text import save_tiny_bert

    base = save_tiny_bert(texts() * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2)
    rng = random.Random(0)
    rows = [(f"{rng.choice(TROLL if a < 6 else CONTROL)} {rng.choice(TROLL if a < 6 else CONTROL)} {j}", int(a < 6))
            for a in range(12) for j in range(8)]
    params = {"model": "encoder", "base_dir": str(base), "epochs": 2, "batch_size": 16, "learning_rate": 1e-3,
              "max_length": 64, "seed": 0}
    classifier = _classifier(params).fit_split(*zip(*rows))
    directory = classifier.save(tmp_path_factory.mktemp("weights") / "classifier")
    (directory / "int8.json").write_text(json.dumps(classifier.quantization_report(*zip(*rows))))
    return directory


@pytest.fixture
def collection(investigation):
    return store_labelled_collection(investigation, accounts=4, posts=6)


@pytest.fixture
def model(investigation, users, weights) -> TextModel:
    int8 = json.loads((weights / "int8.json").read_text())
    model = TextModel.objects.create(investigation=investigation, name="tiny troll detector", kind="encoder",
                                     base_model="tiny BERT", params={"max_length": 64}, metrics={"int8": int8},
                                     created_by=users["bob"])
    shutil.copytree(weights, model.weights_dir)
    return model


def score(investigation, users, collection, model, **params) -> Analysis:
    job = analysis_start(investigation=investigation, user=users["bob"], kind="score", collection=collection,
                         params={"model": model.pk, **params}, enqueue=False)
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return Analysis.objects.get(job=job)


def stored_against_torch(analysis, model) -> float:
    """The largest |Δ| between the stored scores and torch fp32's scores of the same posts."""
    from ml.text import load_text_model

    rows = list(PostScore.objects.filter(analysis=analysis).select_related("post").order_by("post_id"))
    torch_scores = load_text_model(model.weights_dir).probabilities([r.post.text for r in rows], mode="fp32")
    return float(np.abs(np.array([r.score for r in rows]) - torch_scores).max())


def test_the_default_scores_through_onnx_runtime_with_torchs_scores(
    investigation, users, collection, model, client_for
):
    analysis = score(investigation, users, collection, model)
    result = analysis.result
    assert (result["mode_requested"], result["mode"]) == ("exact", "onnx")
    check = result["exact_check"]
    assert check["default"] and check["reason"] is None and check["max_abs_diff"] <= 1e-4 == check["tolerance"]
    assert stored_against_torch(analysis, model) <= 1e-4
    assert (model.weights_dir / onnx_runtime.SUBDIR / onnx_runtime.GRAPH).is_file()  # cached beside the weights
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk])).content.decode()
    assert "scored by <strong>ONNX Runtime fp32</strong>" in page and "matched torch fp32 within" in page


def test_a_failing_check_scores_with_torch_and_the_page_says_why(
    investigation, users, collection, model, client_for, monkeypatch
):
    monkeypatch.setattr(onnx_runtime, "export", corrupting(onnx_runtime.export))
    analysis = score(investigation, users, collection, model)
    result = analysis.result
    assert (result["mode_requested"], result["mode"]) == ("exact", "fp32")
    assert not result["exact_check"]["default"] and result["exact_check"]["max_abs_diff"] > 1e-4
    assert stored_against_torch(analysis, model) <= 1e-6  # torch's own scores
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk])).content.decode()
    assert "scored by <strong>torch fp32</strong>" in page
    assert "ONNX Runtime was refused: ONNX Runtime&#x27;s scores differ from torch fp32 by up to" in page


def test_the_post_page_names_the_mode_of_each_stored_score(investigation, users, collection, model, client_for):
    exact = score(investigation, users, collection, model)
    int8 = score(investigation, users, collection, model, mode="int8")
    post = Post.objects.filter(collection=collection).order_by("id").first()
    page = client_for("carol").get(reverse("text-model-post", args=[model.pk, post.pk]))
    modes = [m.strip() for m in page.content.decode().split('data-testid="stored-mode">')[1:]]
    assert sorted(m.split("<")[0].strip() for m in modes) == ["ONNX Runtime fp32", "torch int8"]
    assert (exact.result["mode"], int8.result["mode"]) == ("onnx", "int8")


def test_int8_shows_how_far_one_posts_score_moves(investigation, users, collection, model, client_for):
    moved = model.metrics["int8"]["per_post_change"]
    assert 0 < moved["median"] <= moved["p99"] <= moved["max"]
    analysis = score(investigation, users, collection, model, mode="int8")
    assert analysis.result["mode_report"]["per_post_change"] == moved
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk])).content.decode()
    assert "scored by <strong>torch int8</strong>" in page
    assert f"one post's score moves by {moved['median']:.4f} at the median, {moved['p99']:.3f}" in page
    form = client_for("bob").get(reverse("text-model-score", args=[model.pk])).content.decode()
    assert f"one post&#x27;s score moves by {moved['median']:.4f} at the median" in form


def test_the_command_scores_in_the_mode_it_is_asked(investigation, users, collection, model):
    users["alice"].is_superuser = True
    users["alice"].save()
    args = ["--investigation", investigation.name, "--collection", collection.name, "--user", "alice"]
    for mode, scored_by in (("fp32", "fp32"), ("exact", "onnx")):
        out = StringIO()
        call_command("run_analysis", "score", *args, f"--param=model={model.pk}", f"--param=mode={mode}", stdout=out)
        line = json.loads(out.getvalue().strip().splitlines()[-1])
        assert Analysis.objects.get(pk=line["analysis"]).result["mode"] == scored_by
