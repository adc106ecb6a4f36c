"""Exact fast scoring through ONNX Runtime: the exported graph gives torch fp32's scores for every batch shape (one
post, ragged batches, posts past the max length) on a tiny BERT and a tiny GPT-2; the export is cached next to the
model's files and made again when the weights change; a graph that fails its difference check (a corrupted weight,
a failed export) never becomes the default and says why; int8 reports how far one post's score moves.

Personas as in test_text: the troll farm (label 1) and the airline passengers (label 0)."""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ml.text import (
    TINY_GPT2,
    EncoderClassifier,
    GPT2Classifier,
    TextModelError,
    load_text_model,
    onnx_runtime,
    save_tiny_bert,
)
from ml.text.scoring import change_quantiles
from tests.ml.test_text import TINY_BERT, troll_farm_and_passengers

LONG = " ".join(["the election was stolen by the people in charge"] * 12)  # far past max_length (64 tokens)


@pytest.fixture(scope="module")
def posts():
    return troll_farm_and_passengers()


@pytest.fixture(scope="module")
def encoder(posts, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    directory = save_tiny_bert(posts[0], tmp_path_factory.mktemp("tiny-bert"), layers=2, hidden=32, heads=2)
    return EncoderClassifier(directory, dataclasses.replace(TINY_BERT, train=dataclasses.replace(
        TINY_BERT.train, epochs=1))).fit(*posts)


@pytest.fixture(scope="module")
def gpt2(posts):
    config = dataclasses.replace(TINY_GPT2, train=dataclasses.replace(TINY_GPT2.train, epochs=1))
    return GPT2Classifier(config=config).fit(*posts)


@pytest.fixture(scope="module")
def saved_once(encoder, tmp_path_factory):
    """The encoder saved, its ONNX export made and checked once (beside its files) for the module."""
    directory = encoder.save(tmp_path_factory.mktemp("saved") / "model")
    assert load_text_model(directory).scoring_mode("exact") == "onnx"
    return directory


@pytest.fixture
def saved(saved_once, tmp_path):
    """A copy of the saved encoder with its ONNX cache, loaded: each test may change it."""
    return load_text_model(shutil.copytree(saved_once, tmp_path / "model"))


def without_export(model):
    """The model with its cached export removed: the next exact scoring exports and checks again."""
    shutil.rmtree(Path(model.model_dir) / onnx_runtime.SUBDIR)
    return model


# -- the graph matches torch fp32 on every batch shape ----------------------------------------------------------
@pytest.mark.parametrize("name", ["encoder", "gpt2"])
def test_exact_mode_gives_torchs_scores_for_every_batch_shape(name, request, posts):
    model = request.getfixturevalue(name)
    texts = [posts[0][i] for i in np.random.default_rng(0).permutation(40)] + ["a", LONG, "", LONG + " and more"]
    reference = np.array([model.probabilities([t])[0] for t in texts])  # torch fp32, one post at a time
    assert model.scoring_mode("exact", texts) == "onnx"
    for batch_size in (1, 3, len(texts)):  # one post at a time, batches of similar length, all at once
        exact = model.probabilities(texts, batch_size=batch_size, mode="exact")
        assert np.abs(exact - reference).max() <= 1e-5, batch_size
    status = model.exact_status()
    assert status["default"] and status["reason"] is None and status["max_abs_diff"] <= onnx_runtime.TOLERANCE
    assert status["posts"] == onnx_runtime.PROBES + status["caller_posts"] and status["caller_posts"] > 0


@pytest.mark.parametrize("name", ["encoder", "gpt2"])
def test_the_graph_builds_masks_from_the_batch_not_from_the_export_example(name, request):
    """The trap the export avoids: a mask frozen at the example's shape would move a short post's logit when it is
    padded beside a long one (a ragged batch at the max length)."""
    model = request.getfixturevalue(name)
    scorer = model._onnx_engine().scorer
    texts = ["lovely crew on the morning flight", LONG, "x"]
    alone = [scorer.run(model._batch([t], with_lm_labels=False)) for t in texts]
    padded = scorer.run(model._batch(texts, with_lm_labels=False))
    assert padded[0].shape == (3,) and padded[1].shape[0] == 3
    for i in range(3):
        assert padded[0][i] == pytest.approx(alone[i][0][0], abs=1e-5)
        assert np.abs(padded[1][i] - alone[i][1][0]).max() < 1e-4  # the vector the out-of-distribution check reads


def test_account_scores_and_embeddings_say_the_mode_that_ran(encoder, posts):
    texts, _, groups = posts
    result = encoder.score_accounts(texts[:60], groups[:60], mode="exact")
    assert result["mode"] == "onnx"
    torch_result = encoder.score_accounts(texts[:60], groups[:60], mode="fp32")
    assert np.abs(np.array(result["scores"]) - torch_result["scores"]).max() <= 1e-5
    assert np.abs(encoder.embeddings(texts[:20], mode="exact") - encoder.embeddings(texts[:20])).max() < 1e-4


# -- the cache next to the model's files ------------------------------------------------------------------------
def test_the_export_is_cached_next_to_the_model_and_reused(saved, monkeypatch):
    assert saved.scoring_mode("exact") == "onnx"
    directory = Path(saved.model_dir) / onnx_runtime.SUBDIR
    report = json.loads((directory / onnx_runtime.REPORT).read_text())
    assert (directory / onnx_runtime.GRAPH).is_file() and report["max_abs_diff"] <= onnx_runtime.TOLERANCE

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_runtime, "export", no_export)
    again = load_text_model(saved.model_dir)
    assert again.scoring_mode("exact") == "onnx" and again.exact_status()["fingerprint"] == report["fingerprint"]


def test_changed_weights_export_and_check_again(saved):
    import torch

    saved.scoring_mode("exact")
    before = saved.exact_status()["fingerprint"]
    with torch.no_grad():
        saved.model_.classifier.bias += 0.5  # the model changes in place (as a fine-tune on it would)
    saved.save(saved.model_dir)
    again = load_text_model(saved.model_dir)
    assert again.scoring_mode("exact") == "onnx"
    after = json.loads((Path(saved.model_dir) / onnx_runtime.SUBDIR / onnx_runtime.REPORT).read_text())
    assert after["fingerprint"] == again.exact_status()["fingerprint"] != before
    texts = ["build the wall", "lost my bag, please help"]
    assert np.abs(again.probabilities(texts, mode="exact") - again.probabilities(texts)).max() <= 1e-5


def test_a_model_never_saved_does_not_write_into_its_base_model(encoder):
    encoder.scoring_mode("exact")
    assert onnx_runtime.cache_directory(encoder) is None
    assert not (Path(encoder.model_dir) / onnx_runtime.SUBDIR).exists()


# -- a failing check keeps torch --------------------------------------------------------------------------------
def corrupting(original):
    """An export that writes the graph, then moves one weight (the classifier's bias) by 0.01."""
    import onnx
    from onnx import numpy_helper

    def export(classifier, path):
        path = original(classifier, path)
        graph = onnx.load(str(path))
        bias = next(t for t in graph.graph.initializer if t.name.endswith("classifier.bias"))
        bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias) + np.float32(0.01), bias.name))
        onnx.save(graph, str(path))
        return path

    return export


def test_a_graph_that_fails_its_check_never_becomes_the_default(saved, monkeypatch):
    monkeypatch.setattr(onnx_runtime, "export", corrupting(onnx_runtime.export))
    without_export(saved)
    texts = ["build the wall", "lost my bag, please help", LONG]
    assert saved.scoring_mode("exact", texts) == "fp32"
    status = saved.exact_status()
    assert not status["default"] and status["max_abs_diff"] > onnx_runtime.TOLERANCE
    assert "differ from torch fp32 by up to" in status["reason"] and "tolerance 0.0001" in status["reason"]
    result = saved.score_accounts(texts, ["a", "b", "c"], mode="exact")
    assert result["mode"] == "fp32"
    assert result["scores"] == pytest.approx(saved.probabilities(texts).tolist(), abs=1e-12)  # torch's own
    with pytest.raises(TextModelError, match="ONNX Runtime is refused for this model: ONNX Runtime's scores differ"):
        saved.probabilities(texts, mode="onnx")
    # the refusal is recorded next to the model: a new process does not trust the graph either
    assert load_text_model(saved.model_dir).scoring_mode("exact") == "fp32"


def test_the_tolerance_decides_each_time(saved, monkeypatch):
    saved.scoring_mode("exact")
    diff = saved.exact_status()["max_abs_diff"]
    monkeypatch.setattr(onnx_runtime, "TOLERANCE", diff / 2 if diff > 0 else -1.0)
    assert saved.scoring_mode("exact") == "fp32" and "tolerance" in saved.exact_status()["reason"]


def test_a_failed_export_says_why_and_scores_with_torch(saved, monkeypatch):
    def broken(classifier, path):
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnx_runtime, "export", broken)
    without_export(saved)
    assert saved.scoring_mode("exact") == "fp32"
    assert saved.exact_status()["reason"] == "the ONNX export failed: RuntimeError: unsupported operator"


def test_an_unknown_mode_is_named(encoder):
    with pytest.raises(TextModelError, match="scoring mode must be one of fp32, int8, onnx, exact, got 'fp16'"):
        encoder.probabilities(["x"], mode="fp16")


# -- int8: how far one post moves -------------------------------------------------------------------------------
def test_change_quantiles_are_the_median_p99_and_max_of_the_moves():
    before = np.zeros(101)
    after = np.linspace(0, 1, 101)[::-1]
    moved = change_quantiles(before, after)
    assert moved == {"posts": 101, "median": 0.5, "p99": pytest.approx(0.99), "max": 1.0}
    assert change_quantiles([], [])["max"] is None


def test_int8_reports_the_per_post_change_beside_the_auc_change(encoder, posts):
    texts, labels, _ = posts
    report = encoder.quantization_report(texts, labels)
    moved = report["per_post_change"]
    direct = np.abs(encoder.probabilities(texts, mode="int8") - encoder.probabilities(texts))
    assert moved["posts"] == len(texts) and moved["max"] == pytest.approx(direct.max())
    assert moved["median"] == pytest.approx(np.median(direct)) and 0 < moved["median"] <= moved["p99"] <= moved["max"]
