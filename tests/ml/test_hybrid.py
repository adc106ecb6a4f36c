"""ml.behaviour.hybrid and .evaluate: each account's contributions add up to its logit; a missing signal is imputed
with train-2's mean and carried by an explicit indicator; a label with one class is refused; the splits are
account-disjoint; the evaluation returns the gap table (median gap and MAD against content alone) on tiny data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.behaviour import BehaviourError, GraphConfig, TiesConfig
from ml.behaviour.evaluate import evaluate_models, evaluation_figure, gap_table, median_mad
from ml.behaviour.hybrid import MISSING, HybridModel, fit_hybrid, signal_frame, three_splits


def accounts_and_signals(n=80, seed=0):
    """Positives have higher TIES and content scores; a third of the content scores are missing."""
    rng = np.random.default_rng(seed)
    accounts = [f"a{i}" for i in range(n)]
    y = (np.arange(n) % 4 == 0).astype(int)
    ties = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.15, n), 0.01, 0.99)
    content = np.clip(0.4 + 0.2 * y + rng.normal(0, 0.2, n), 0.01, 0.99)
    labels = dict(zip(accounts, y.tolist()))
    signals = {
        "content": {a: float(c) for i, (a, c) in enumerate(zip(accounts, content)) if i % 3},
        "degree": {a: float(rng.integers(0, 5) + 4 * y[i]) for i, a in enumerate(accounts)},
    }
    return accounts, labels, dict(zip(accounts, ties.tolist())), signals


def test_contributions_add_up_to_the_logit():
    accounts, labels, ties, signals = accounts_and_signals()
    built = fit_hybrid(ties, labels, signals, seed=3)
    total = built["intercept"] + built["contributions"].sum(axis=1).to_numpy()
    assert np.allclose(total, built["logit"], atol=1e-9)
    assert np.allclose(built["intercept"] + built["by_signal"].sum(axis=1).to_numpy(), built["logit"], atol=1e-9)
    assert np.allclose(built["probability"], 1 / (1 + np.exp(-built["logit"])))
    features = [c["feature"] for c in built["coefficients"]]
    assert features == ["ties", "content", "degree", "content" + MISSING]  # only content is ever missing
    assert built["metrics"]["test"]["auc"] > 0.8 and built["missing"]["content"] == len(accounts) // 3 + 1
    # an account with its content imputed gets nothing from the content value itself, only from the indicator
    row = accounts.index("a0")
    assert np.isnan(built["signals"].loc["a0", "content"])
    assert built["contributions"].loc["a0", "content"] == pytest.approx(0.0, abs=1e-12)
    assert built["contributions"].loc["a0", "content" + MISSING] != 0.0
    assert built["by_signal"].iloc[row]["content"] == pytest.approx(
        built["contributions"].iloc[row]["content"] + built["contributions"].iloc[row]["content" + MISSING])


def test_the_splits_are_three_disjoint_parts_with_both_classes():
    y = np.array([1] * 20 + [0] * 60 + [-1] * 10)
    parts = three_splits(y, seed=1)
    rows = np.concatenate(list(parts.values()))
    assert len(rows) == len(set(rows)) == 80 and not set(rows) & set(range(80, 90))
    assert all(0 < y[p].sum() < len(p) for p in parts.values())
    assert [len(parts[k]) for k in ("train1", "train2", "test")] == [48, 16, 16]


def test_the_behaviour_runs_split_is_kept_so_ties_never_trains_the_regression():
    accounts, labels, ties, signals = accounts_and_signals()
    split = {a: ("train" if i % 5 < 3 else "val" if i % 5 == 3 else "test") for i, a in enumerate(accounts)}
    built = fit_hybrid(ties, labels, signals, ties_split=split)
    assert built["splits_from"] == "behaviour"
    for account, part in zip(built["accounts"], built["split"]):
        assert part == {"train": "train1", "val": "train2", "test": "test"}[split[account]]


def test_a_label_with_one_class_is_refused():
    accounts, _, ties, signals = accounts_and_signals()
    with pytest.raises(BehaviourError, match="one class only in the labelled accounts with interactions"):
        fit_hybrid(ties, {a: 1 for a in accounts}, signals)
    frame = signal_frame(accounts[:10], {"ties": ties})
    with pytest.raises(BehaviourError, match=r"one class only in train-2 \(0 positive, 10 negative"):
        HybridModel().fit(frame, np.zeros(10))


def test_no_accounts_with_interactions_is_refused():
    with pytest.raises(BehaviourError, match="no account has interactions"):
        fit_hybrid({}, {"a": 1, "b": 0})


def test_median_and_mad():
    assert median_mad([0.1, 0.2, 0.4]) == pytest.approx((0.2, 0.1))
    runs = [{"pr_auc": {"content": 0.5, "cnn": 0.4, "hybrid_cnn": 0.6}},
            {"pr_auc": {"content": 0.6, "cnn": 0.4, "hybrid_cnn": 0.65}},
            {"pr_auc": {"content": 0.4, "cnn": 0.5, "hybrid_cnn": 0.5}}]
    table = {row["model"]: row for row in gap_table(runs)}
    assert table["content"]["median_gap"] is None
    assert table["cnn"]["median_gap"] == pytest.approx(-0.1) and table["cnn"]["gap_mad"] == pytest.approx(0.1)
    assert table["hybrid_cnn"]["median_gap"] == pytest.approx(0.1) and table["hybrid_cnn"]["gap_mad"] == 0.0


def tiny_interactions(n=40, seed=0):
    """Operators (every fourth account) repost one seed post within seconds and push one hashtag; residents post."""
    rng = np.random.default_rng(seed)
    columns = {"account": [], "action": [], "target": [], "time": []}
    labels = {}
    for i in range(n):
        account, operator = f"u{i}", i % 4 == 0
        labels[account] = int(operator)
        for k in range(6):
            when = 1e9 + k * 3600 + (rng.uniform(0, 30) if operator else rng.uniform(0, 86_400))
            action, target = ("repost", "post:seed") if operator else ("post", f"post:{i}-{k}")
            for key, value in zip(columns, (account, action, target, when)):
                columns[key].append(value)
            tag = "hashtag:dam" if operator else f"hashtag:t{rng.integers(0, 20)}"
            for key, value in zip(columns, (account, "hashtag", tag, when)):
                columns[key].append(value)
    return columns, labels


def test_the_evaluation_returns_the_gap_table_on_tiny_data():
    columns, labels = tiny_interactions()
    rng = np.random.default_rng(1)
    content = {a: float(np.clip(0.45 + 0.1 * y + rng.normal(0, 0.2), 0, 1)) for a, y in labels.items()}
    seen = []

    def content_model(train_accounts):
        seen.append(set(train_accounts))
        return content

    out = evaluate_models(columns, labels, content=content_model, encoders=("cnn", "deepset"), repeats=5,
                          graph=GraphConfig(dim=4, epochs=1), ties=TiesConfig(epochs=2, hidden=8), seed=0)
    assert [r["model"] for r in out["table"]] == ["content", "cnn", "hybrid_cnn", "deepset", "hybrid_deepset"]
    assert len(out["repeats"]) == 5 and len({r["seed"] for r in out["repeats"]}) == 5
    assert len(seen) == 5 and all(len(s) == out["repeats"][0]["train1"] for s in seen)
    rows = {r["model"]: r for r in out["table"]}
    for name in ("cnn", "hybrid_cnn", "deepset", "hybrid_deepset"):
        gaps = [r["pr_auc"][name] - r["pr_auc"]["content"] for r in out["repeats"]]
        assert rows[name]["median_gap"] == pytest.approx(np.median(gaps), abs=1e-4)
        assert rows[name]["gap_mad"] == pytest.approx(np.median(np.abs(np.array(gaps) - np.median(gaps))), abs=1e-4)
    figure = evaluation_figure(out)
    assert len(figure["data"]) == 6 and figure["data"][0]["name"].startswith("content alone")
    assert all(0 <= v <= 1 for v in figure["data"][1]["y"])


def test_the_evaluation_refuses_unknown_encoders():
    columns, labels = tiny_interactions(n=20)
    with pytest.raises(BehaviourError, match="encoders must be some of"):
        evaluate_models(columns, labels, encoders=("gru",))


def test_signal_frame_marks_missing_values():
    frame = signal_frame(["a", "b"], {"ties": {"a": 0.2, "b": 0.9}, "content": {"a": 0.5}})
    assert isinstance(frame, pd.DataFrame) and np.isnan(frame.loc["b", "content"]) and frame.loc["a", "ties"] == 0.2
    with pytest.raises(BehaviourError, match="unknown signal"):
        signal_frame(["a"], {"vibes": {"a": 1}})
