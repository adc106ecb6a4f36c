"""Scoring many posts fast: each distinct text once, batches sorted by token length, an int8 mode
that stays close to fp32 and says what it costs, training on a caller's own split, and the content
benchmark's data loaders (real slices of ../shared/data, clear errors on bad rows).

Personas as in test_text: the troll farm (label 1) and the airline passengers (label 0), on a tiny BERT."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ml.text import (
    ClassifierConfig,
    EncoderClassifier,
    TextModelError,
    TrainConfig,
    save_tiny_bert,
    score_distinct,
    score_sorted,
)
from tests.ml.test_text import COMPLAINTS, SLOGANS, troll_farm_and_passengers

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
TINY_BERT = ClassifierConfig(train=TrainConfig(learning_rate=2e-3, epochs=3, batch_size=16))


@pytest.fixture(scope="module")
def posts():
    return troll_farm_and_passengers()


@pytest.fixture(scope="module")
def encoder(posts, tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    directory = save_tiny_bert(posts[0], tmp_path_factory.mktemp("tiny-bert"), layers=2, hidden=32, heads=2)
    texts, labels, _ = posts
    return EncoderClassifier(directory, TINY_BERT).fit_split(texts[:120], labels[:120], texts[120:], labels[120:])


def load_bench(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- distinct texts and token-length batches --------------------------------------------------------
def test_it_scores_each_distinct_text_once_and_gives_every_copy_its_score():
    seen, progress = [], []
    texts = ["bb", "a", "bb", "ccc", "a", "bb"]
    scores = score_distinct(lambda batch: seen.extend(batch) or [len(t) * 10 for t in batch], texts, 2, progress.append)
    assert scores.tolist() == [20, 10, 20, 30, 10, 20]
    assert sorted(seen) == ["a", "bb", "ccc"]
    assert progress[-1]["scored"] == 6 and progress[-1]["distinct"] == 3 and progress[-1]["fraction"] == 1


def test_it_sorts_batches_by_the_lengths_it_is_given():
    seen = []
    texts = ["long text, few tokens", "x", "short", "mid"]
    score_sorted(lambda batch: seen.append(batch) or [0] * len(batch), texts, 2, lengths=[1, 4, 3, 2])
    assert seen == [["long text, few tokens", "mid"], ["short", "x"]]


def test_an_empty_list_scores_to_nothing():
    assert score_distinct(lambda batch: [1.0] * len(batch), [], 4).tolist() == []


def test_distinct_scoring_matches_scoring_every_post_alone(encoder, posts):
    texts = posts[0][:40] + posts[0][:20]  # 20 texts twice
    together = encoder.probabilities(texts, batch_size=16)
    alone = np.array([encoder.probabilities([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-5)
    assert together[40:].tolist() == together[:20].tolist()


def test_batches_follow_token_counts_not_characters(encoder):
    lengths = encoder._token_lengths(["hi", "the deep state lies again #maga"])
    assert lengths[0] == 3 and lengths[1] > lengths[0]  # [CLS] hi [SEP]


# -- the int8 mode ----------------------------------------------------------------------------------
def test_int8_scores_stay_close_to_fp32(encoder, posts):
    texts, labels, _ = posts
    fp32 = encoder.probabilities(texts)
    int8 = encoder.probabilities(texts, mode="int8")
    assert not np.array_equal(fp32, int8)  # it is a different computation...
    assert np.abs(fp32 - int8).max() < 0.05  # ...that moves scores a little
    report = encoder.quantization_report(texts, labels)
    assert report["mode"] == "int8" and report["posts"] == len(texts)
    assert report["auc_change"] == pytest.approx(report["auc_int8"] - report["auc_fp32"])
    assert abs(report["auc_change"]) < 0.02 and 0 <= report["changed_predictions"] < 0.1


def test_the_default_mode_stays_exact_fp32(encoder):
    import torch

    with torch.no_grad():
        batch = encoder.tokenizer_(SLOGANS[:1], return_tensors="pt")
        direct = torch.sigmoid(encoder.model_(**batch).logits[0, 0]).item()
    assert encoder.probabilities(SLOGANS[:1])[0] == pytest.approx(direct, abs=1e-6)
    assert isinstance(encoder.model_.classifier, torch.nn.Linear)  # int8 works on a copy


def test_it_names_an_unknown_scoring_mode(encoder):
    with pytest.raises(TextModelError, match="scoring mode must be one of fp32, int8, onnx, exact, got 'fp16'"):
        encoder.probabilities(SLOGANS, mode="fp16")


def test_account_scores_say_their_mode(encoder):
    texts, _, groups = troll_farm_and_passengers(accounts=4, seed=3)
    result = encoder.score_accounts(texts, groups, mode="int8")
    assert result["mode"] == "int8" and len(result["scores"]) == len(texts)
    assert {r["account"] for r in result["accounts"][:2]} == {"troll0", "troll2"}


# -- training on a caller's split -------------------------------------------------------------------
def test_it_trains_on_exactly_the_posts_it_is_given(encoder):
    assert len(encoder.history_["train"]) == 3 * 8  # 120 posts in batches of 16, 3 epochs
    assert encoder.history_["val"] and encoder.pos_weight_ == pytest.approx(1.0)
    m = encoder.evaluate(SLOGANS + COMPLAINTS, [1] * 4 + [0] * 4)
    assert m["auc"] > 0.9


def test_it_refuses_to_train_on_one_class(encoder):
    with pytest.raises(TextModelError, match="single class"):
        EncoderClassifier(encoder.model_dir, TINY_BERT).fit_split(SLOGANS, [1, 1, 1, 1])


# -- the content benchmark's data -----------------------------------------------------------------
def test_the_benchmark_names_the_file_row_and_field_of_a_bad_label(tmp_path, monkeypatch):
    bench = load_bench("quality_content")
    (tmp_path / "constraint").mkdir()
    rows = "id,tweet,label\n1,masks work,real\n2,5g spreads it,fkae\n"
    (tmp_path / "constraint" / "Constraint_Val.csv").write_text(rows)
    monkeypatch.setattr(bench, "DATA", tmp_path)
    with pytest.raises(bench.DataError, match=r"Constraint_Val.csv, data row 2, field label: unknown label 'fkae'"):
        bench.constraint("Val")
    with pytest.raises(bench.DataError, match="Constraint_Train.csv is missing"):
        bench.constraint("Train")


def test_liar_is_made_binary_as_seed_004_does():
    if not (DATA / "liar" / "valid.tsv").exists():
        pytest.skip(f"{DATA / 'liar'} is absent")
    import csv

    import pandas as pd

    raw = pd.read_csv(DATA / "liar" / "valid.tsv", sep="\t", header=None, quoting=csv.QUOTE_NONE, usecols=[1])[1]
    frame = load_bench("quality_content").liar("valid")
    assert len(frame) == raw.isin(["true", "mostly-true", "false", "pants-fire"]).sum()
    assert frame["label"].sum() == raw.isin(["false", "pants-fire"]).sum()


def test_the_ira_benchmark_keeps_both_sides_with_their_accounts():
    if not (DATA / "ira" / "ira_dev_sample_en.csv").exists():
        pytest.skip(f"{DATA / 'ira'} is absent")
    frame = load_bench("quality_content").ira_vs_control()
    assert frame["text"].str.strip().ne("").all()
    sides = frame.groupby("label")["account"].agg(lambda a: {x.split(":")[0] for x in a})
    assert sides[1] == {"ira"} and sides[0] == {"control"}
    # the two verified control accounts are one account each, so a split by account keeps them whole
    assert {"control:BarackObama", "control:realDonaldTrump"} <= set(frame["account"])
    assert frame.groupby("label")["account"].nunique().to_dict() == {0: 7703, 1: 700}


def test_bucketed_training_batches_cover_every_post_once_with_similar_lengths():
    import torch

    from ml.text.trainer import bucketed_order

    lengths = [i % 17 for i in range(200)]
    order = bucketed_order(list(range(200)), lengths, 10, torch.Generator().manual_seed(0), chunk_batches=20)
    assert sorted(order) == list(range(200))
    batches = [order[s : s + 10] for s in range(0, 200, 10)]
    assert max(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) <= 1
    assert [lengths[b[0]] for b in batches] != sorted(lengths[b[0]] for b in batches)  # batches are shuffled
