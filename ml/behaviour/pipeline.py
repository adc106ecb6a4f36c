"""The whole behaviour model on plain columns: sequences, graph embeddings, TIES trained on account labels with
account-disjoint splits, held-out metrics, and a score and an embedding for every account."""
from __future__ import annotations

import time as clock

import numpy as np

from .config import MIN_PER_CLASS, BehaviourError, GraphConfig, TiesConfig
from .graph import GraphEmbedder, graph_edges
from .model import TiesClassifier
from .sequences import account_entity, build_sequences, interaction_frame

SPLIT = (0.6, 0.2, 0.2)  # train, validation (the epoch kept), test (the figures reported)
CURVE_POINTS = 200


def account_splits(labels: np.ndarray, seed: int, fractions=SPLIT) -> dict[str, np.ndarray]:
    """Rows of labelled accounts (label 0 or 1; -1: unlabelled) split by class, so each part holds both classes;
    an account is in one part only."""
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for cls in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        n_val = max(1, round(len(rows) * fractions[1]))
        n_test = max(1, round(len(rows) * fractions[2]))
        parts["test"].append(rows[:n_test])
        parts["val"].append(rows[n_test : n_test + n_val])
        parts["train"].append(rows[n_test + n_val :])
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}


def ranking_metrics(y_true, y_score) -> dict:
    """AUC, PR-AUC (average precision) and the precision-recall curve (at most CURVE_POINTS points)."""
    from sklearn import metrics as skm

    y_true, y_score = np.asarray(y_true, dtype=int), np.asarray(y_score, dtype=float)
    precision, recall, _ = skm.precision_recall_curve(y_true, y_score)
    keep = np.unique(np.linspace(0, len(precision) - 1, min(len(precision), CURVE_POINTS)).round().astype(int))
    return {
        "n": int(len(y_true)), "positives": int(y_true.sum()),
        "auc": float(skm.roc_auc_score(y_true, y_score)),
        "pr_auc": float(skm.average_precision_score(y_true, y_score)),
        "pr": {"precision": [round(float(v), 4) for v in precision[keep]],
               "recall": [round(float(v), 4) for v in recall[keep]]},
    }


def label_array(accounts, labels: dict) -> np.ndarray:
    """1/0 for accounts in ``labels`` (True/False or 1/0), -1 for the rest."""
    return np.array([int(bool(labels[a])) if a in labels else -1 for a in accounts], dtype=np.int64)


def check_classes(y: np.ndarray) -> None:
    positives, negatives = int((y == 1).sum()), int((y == 0).sum())
    if min(positives, negatives) < MIN_PER_CLASS:
        raise BehaviourError(
            f"training needs at least {MIN_PER_CLASS} labelled accounts with interactions in each class; "
            f"got {positives} positive and {negatives} negative"
        )


def train_behaviour(columns: dict, labels: dict, graph: GraphConfig = GraphConfig(), ties: TiesConfig = TiesConfig(),
                    on_progress=None) -> dict:
    """1. the interaction frame and per-account sequences; 2. graph embeddings on every edge (no labels read);
    3. account-disjoint splits of the labelled accounts; 4. TIES; 5. held-out metrics; scores for every account.

    ``columns``: account, action, target, time (see ``ml.behaviour.sequences``); ``labels``: {account: 0/1}.
    ``on_progress(fraction, stage)``. Returns plain data plus ``embeddings`` (n × hidden) in ``accounts`` order."""
    report = on_progress or (lambda fraction, stage: None)
    started = clock.perf_counter()
    frame = interaction_frame(columns["account"], columns["action"], columns["target"], columns["time"])
    seqs = build_sequences(frame, max_steps=ties.max_steps)
    y = label_array(seqs.accounts, labels)
    check_classes(y)
    splits = account_splits(y, ties.seed)
    report(0.05, f"Embedding the graph ({len(seqs.vocab):,} entities, {len(frame):,} edges)")
    src, rel, dst, relations = graph_edges(frame, seqs.vocab)
    embedder = GraphEmbedder(graph).fit(
        seqs.vocab, src, rel, dst, n_relations=len(relations),
        on_epoch=lambda e, n, loss: report(0.05 + 0.35 * e / n, f"Graph embeddings: epoch {e}/{n}, loss {loss:.4f}"),
    )
    model = TiesClassifier(ties).fit(
        seqs, np.maximum(y, 0), splits["train"], splits["val"], embedder.vectors_,
        on_epoch=lambda e, n, h: report(0.4 + 0.55 * e / n, f"TIES: epoch {e}/{n}, validation loss {h['val_loss']:.4f}"
                                        ),
    )
    report(0.96, "Scoring every account")
    scores, embeddings = model.predict(seqs)
    split_of = np.full(len(seqs), "", dtype=object)
    for name, rows in splits.items():
        split_of[rows] = name
    return {
        "accounts": seqs.accounts.tolist(), "scores": scores, "embeddings": embeddings, "labels": y,
        # each account's own row of the graph embeddings (as trained, before any fine-tuning inside TIES)
        "graph_embeddings": embedder.vectors_[[seqs.vocab.index[account_entity(a)] for a in seqs.accounts]],
        "split": split_of.tolist(), "steps": seqs.steps, "kept_steps": seqs.mask.sum(1),
        "metrics": {"test": ranking_metrics(y[splits["test"]], scores[splits["test"]]),
                    "val": ranking_metrics(y[splits["val"]], scores[splits["val"]]),
                    "train_accounts": int(len(splits["train"]))},
        "graph": {"entities": seqs.vocab.counts(), "edges": int(len(src)), "relations": relations,
                  "losses": [round(v, 5) for v in embedder.losses_], "seconds": round(embedder.seconds_, 2)},
        "ties": {"history": model.history_, "best_epoch": model.best_epoch_, "finetuned": model.finetuned_,
                 "seconds": round(model.seconds_, 2)},
        "seconds": round(clock.perf_counter() - started, 2),
    }


def pr_figure(metrics: dict, title: str = "Precision-recall on the held-out accounts") -> dict:
    """A plotly figure (a dict) of ``ranking_metrics``'s curve, with the chance line."""
    base = metrics["positives"] / max(metrics["n"], 1)
    return {
        "data": [
            {"type": "scatter", "mode": "lines", "name": f"TIES (PR-AUC {metrics['pr_auc']:.3f})",
             "x": metrics["pr"]["recall"], "y": metrics["pr"]["precision"], "line": {"color": "#1f77b4"}},
            {"type": "scatter", "mode": "lines", "name": "chance", "x": [0, 1], "y": [base, base],
             "line": {"dash": "dash", "color": "#7f7f7f"}},
        ],
        "layout": {"title": {"text": title}, "xaxis": {"title": {"text": "recall"}, "range": [0, 1.02]},
                   "yaxis": {"title": {"text": "precision"}, "range": [0, 1.02]}},
    }
