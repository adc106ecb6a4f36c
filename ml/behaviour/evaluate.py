"""The seed's evaluation (seed 003, Tables 1–3): repeat over random account splits, and report each model's PR-AUC
gap against content alone, as the median over the repeats with the median absolute deviation.

Per repeat (``repeats`` ≥ 1; the seed's tables use several, the kind and the bench at least 5):

1. ``three_splits`` of the labelled accounts at ``seed + r`` (train-1, train-2, test; disjoint, stratified);
2. the content score: fixed per account (a stored score analysis), or ``content(train1_accounts)`` when a callable
   (a content model trained on train-1's accounts only, as the bench does); a missing value ranks as train-2's mean;
3. TIES per encoder on train-1 (a fifth of train-1, stratified, chooses the epoch), scoring every account;
4. the hybrid per encoder: ``HybridModel`` on train-2 over TIES, content and any other signals;
5. PR-AUC of each model on the test accounts; the gap = model − content alone, on the same split.

The graph embeddings read no label, so they are trained once on every edge and shared by the repeats. The PR
curves drawn are the first repeat's (its test split), for every model.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .config import MIN_PER_CLASS, BehaviourError, GraphConfig, TiesConfig
from .graph import GraphEmbedder, graph_edges
from .hybrid import HybridConfig, HybridModel, signal_frame, three_splits
from .model import TiesClassifier
from .pipeline import check_classes, label_array, ranking_metrics
from .sequences import build_sequences, interaction_frame

BASELINE = "content"
ENCODER_LABELS = {"cnn": "TIES-CNN", "rnn": "TIES-RNN", "deepset": "TIES-DeepSet"}
COLOURS = ("#7f7f7f", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def model_label(name: str) -> str:
    if name == BASELINE:
        return "content alone"
    if name.startswith("hybrid_"):
        return f"hybrid (content + {ENCODER_LABELS[name.removeprefix('hybrid_')]})"
    return ENCODER_LABELS.get(name, name)


def median_mad(values) -> tuple[float, float]:
    """The median and the median absolute deviation (unscaled, as the seed reports it)."""
    v = np.asarray(values, dtype=np.float64)
    median = float(np.median(v))
    return median, float(np.median(np.abs(v - median)))


def _epoch_rows(train: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """train-1 cut into the rows TIES fits on and a fifth (per class, at least one) that chooses its epoch."""
    rng = np.random.default_rng(seed)
    fit, val = [], []
    for cls in (0, 1):
        rows = rng.permutation(train[y[train] == cls])
        n_val = max(1, round(len(rows) * 0.2)) if len(rows) > 1 else 0
        val.append(rows[:n_val])
        fit.append(rows[n_val:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(val))


def _content_scores(content, accounts, train1_accounts) -> dict | None:
    if content is None:
        return None
    return content(list(train1_accounts)) if callable(content) else content


def _filled(values: np.ndarray, train2: np.ndarray) -> np.ndarray:
    """NaN (a missing content score) ranks as train-2's mean, else as 0."""
    seen = values[train2][~np.isnan(values[train2])]
    return np.nan_to_num(values, nan=float(seen.mean()) if len(seen) else 0.0)


def evaluate_models(columns: dict, labels: dict, *, content=None, signals: dict | None = None,
                    encoders=("cnn", "deepset"), repeats: int = 5, graph: GraphConfig = GraphConfig(),
                    ties: TiesConfig = TiesConfig(), hybrid: HybridConfig = HybridConfig(), seed: int = 0,
                    on_progress=None) -> dict:
    """``columns``: the interaction columns (``ml.behaviour.sequences``); ``labels``: {account: 0/1}; ``content``:
    {account: score} or a callable of train-1's accounts returning one; ``signals``: other hybrid signals
    ({name: {account: value}}). Returns the per-repeat PR-AUCs, the gap table and the first repeat's curves."""
    if repeats < 1:
        raise BehaviourError(f"repeats must be at least 1; got {repeats}")
    unknown = sorted(set(encoders) - set(ENCODER_LABELS))
    if unknown or not encoders:
        raise BehaviourError(f"encoders must be some of {', '.join(ENCODER_LABELS)}; got {list(encoders)}")
    report = on_progress or (lambda fraction, stage: None)
    frame = interaction_frame(columns["account"], columns["action"], columns["target"], columns["time"])
    seqs = build_sequences(frame, max_steps=ties.max_steps)
    accounts = seqs.accounts.tolist()
    y = label_array(accounts, labels)
    check_classes(y)
    report(0.02, f"Embedding the graph ({len(seqs.vocab):,} entities)")
    src, rel, dst, relations = graph_edges(frame, seqs.vocab)
    vectors = GraphEmbedder(graph).fit(seqs.vocab, src, rel, dst, n_relations=len(relations)).vectors_
    runs, curves, done = [], {}, 0
    for r in range(repeats):
        parts = three_splits(y, seed + r)
        if min(int(y[parts["test"]].sum()), int((y[parts["test"]] == 0).sum())) < 1:
            raise BehaviourError(f"a test split lacks a class; label at least {MIN_PER_CLASS} accounts of each")
        content_r = _content_scores(content, accounts, [accounts[i] for i in parts["train1"]])
        scores = {}
        if content_r is not None:
            values = np.array([np.nan if content_r.get(a) is None else float(content_r[a]) for a in accounts])
            scores[BASELINE] = _filled(values, parts["train2"])
        for encoder in encoders:
            report(0.05 + 0.93 * done / (repeats * len(encoders)), f"Split {r + 1}/{repeats}: {model_label(encoder)}")
            fit_rows, val_rows = _epoch_rows(parts["train1"], y, seed + r)
            model = TiesClassifier(replace(ties, encoder=encoder, seed=seed + r)).fit(
                seqs, np.maximum(y, 0), fit_rows, val_rows, vectors)
            scores[encoder] = model.predict(seqs)[0]
            given = {"ties": dict(zip(accounts, scores[encoder].tolist())), **(signals or {})}
            if content_r is not None:
                given["content"] = content_r
            table = signal_frame(accounts, given)
            stacked = HybridModel(hybrid).fit(table.iloc[parts["train2"]], y[parts["train2"]])
            scores[f"hybrid_{encoder}"] = stacked.predict_proba(table)
            done += 1
        test = parts["test"]
        metrics = {name: ranking_metrics(y[test], s[test]) for name, s in scores.items()}
        runs.append({"seed": seed + r, "test_accounts": int(len(test)), "test_positives": int(y[test].sum()),
                     "train1": int(len(parts["train1"])), "train2": int(len(parts["train2"])),
                     "pr_auc": {name: round(m["pr_auc"], 4) for name, m in metrics.items()},
                     "auc": {name: round(m["auc"], 4) for name, m in metrics.items()}})
        if r == 0:
            curves = {name: {**m["pr"], "pr_auc": round(m["pr_auc"], 4)} for name, m in metrics.items()}
            base_rate = float(y[test].mean())
    report(1.0, "Evaluation done")
    return {"models": list(runs[0]["pr_auc"]), "baseline": BASELINE if content is not None else None,
            "repeats": runs, "table": gap_table(runs, BASELINE if content is not None else None),
            "curves": curves, "base_rate": round(base_rate, 4), "accounts": len(accounts),
            "labelled": int((y >= 0).sum()), "positives": int((y == 1).sum()), "encoders": list(encoders)}


def gap_table(runs: list[dict], baseline: str | None = BASELINE) -> list[dict]:
    """One row per model: median PR-AUC (and its MAD) over the repeats; with a baseline, the median of the
    per-split gaps against it and their MAD (the baseline's own row has none)."""
    rows = []
    for name in runs[0]["pr_auc"]:
        values = [run["pr_auc"][name] for run in runs]
        median, mad = median_mad(values)
        row = {"model": name, "label": model_label(name), "median_pr_auc": round(median, 4),
               "pr_auc_mad": round(mad, 4), "median_gap": None, "gap_mad": None, "repeats": len(values)}
        if baseline and name != baseline:
            gap, gap_mad = median_mad([run["pr_auc"][name] - run["pr_auc"][baseline] for run in runs])
            row.update(median_gap=round(gap, 4), gap_mad=round(gap_mad, 4))
        rows.append(row)
    return rows


def evaluation_figure(evaluation: dict, title: str = "Precision-recall, first split's test accounts") -> dict:
    """A plotly figure (a dict): every model's PR curve on the first split, with the chance line."""
    data = [{"type": "scatter", "mode": "lines", "name": f"{model_label(name)} ({curve['pr_auc']:.3f})",
             "x": curve["recall"], "y": curve["precision"], "line": {"color": COLOURS[i % len(COLOURS)]}}
            for i, (name, curve) in enumerate(evaluation["curves"].items())]
    base = evaluation["base_rate"]
    data.append({"type": "scatter", "mode": "lines", "name": "chance", "x": [0, 1], "y": [base, base],
                 "line": {"dash": "dot", "color": "#bbbbbb"}})
    axes = {"xaxis": {"title": {"text": "recall"}, "range": [0, 1.02]},
            "yaxis": {"title": {"text": "precision"}, "range": [0, 1.02]}}
    return {"data": data, "layout": {"title": {"text": title}, **axes}}
