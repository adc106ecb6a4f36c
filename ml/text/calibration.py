"""Calibration and decision thresholds for a binary classifier's logits (no Django, no model code).

A class-weighted fine-tuned model's P(label 1) is not a frequency: with BCE's positive-class weight and a
few epochs it is usually over- or under-confident. Temperature scaling (Guo et al., "On Calibration of Modern
Neural Networks", 2017) divides every logit by one scalar T > 0 fitted on the validation split (L-BFGS on
the negative log-likelihood); it never changes the order of the scores, so the AUC stays, but a score of
0.8 then means "about 80 % of such posts were label 1 on validation". The threshold that flags posts is
chosen on the same validation split for a stated goal: the best F1, or the lowest threshold whose
precision reaches a target (the most posts found at that precision).

Reliability here is the positive class's: posts are binned by P(label 1) into equal-width bins; a bin's
``confidence`` is its mean P(label 1) and its ``accuracy`` the share of label 1 among its posts (what the
probability should equal). ECE = Σ bin share × |accuracy − confidence|.
"""
from __future__ import annotations

import math

import numpy as np

from .config import TextModelError

BINS = 10
GOALS = ("f1", "precision")
MIN_FLAGGED = 10  # a precision goal counts only on cuts that flag at least this many validation posts
# T outside this range is clipped there and the report says so. A barely trained model's logits sit near 0 and
# want a small T (sharpening), so the range is wide.
T_MIN, T_MAX = 1e-3, 1e3


def sigmoid(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=float)
    return np.exp(-np.logaddexp(0.0, -z))


def _check(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(logits, dtype=float).reshape(-1)
    y = np.asarray(labels, dtype=int).reshape(-1)
    if len(z) != len(y):
        raise TextModelError(f"got {len(z)} logits but {len(y)} labels")
    if not np.isfinite(z).all():
        raise TextModelError("logits must be finite numbers")
    return z, y


def negative_log_likelihood(logits, labels, temperature: float = 1.0) -> float:
    """Mean binary cross-entropy of sigmoid(logits / temperature), computed stably."""
    z, y = _check(logits, labels)
    z = z / temperature
    return float(np.mean(np.logaddexp(0.0, z) - y * z)) if len(z) else math.nan


def fit_temperature(logits, labels, max_iter: int = 100) -> dict:
    """The scalar T > 0 that minimises the NLL of sigmoid(logits / T) on these posts.

    L-BFGS (strong-Wolfe line search) on log T, so T stays positive; starts at T = 1. Returns
    {"temperature", "clipped", "separable"}: ``clipped`` when the optimum lies outside [T_MIN, T_MAX];
    ``separable`` when the model separates these posts perfectly: the NLL then falls without end as T → 0
    (scores pushed to 0 and 1), so T stays 1 rather than sharpen on a split too easy to calibrate on."""
    import torch

    z, y = _check(logits, labels)
    if len(set(y.tolist())) < 2:
        raise TextModelError("fitting a temperature needs both classes among the posts")
    if _separable(z, y):
        return {"temperature": 1.0, "clipped": False, "separable": True}
    z_t, y_t = torch.tensor(z, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    # Tight tolerances: a barely trained model's logits sit near 0, where the NLL is flat in T.
    optimizer = torch.optim.LBFGS([log_t], lr=0.5, max_iter=max_iter, tolerance_grad=1e-12, tolerance_change=1e-15,
                                  line_search_fn="strong_wolfe")
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(z_t / log_t.exp(), y_t)
        loss.backward()
        return loss

    optimizer.step(closure)
    raw = float(log_t.detach().exp())
    temperature = min(max(raw, T_MIN), T_MAX) if math.isfinite(raw) else T_MAX
    return {"temperature": temperature, "clipped": not (T_MIN <= raw <= T_MAX), "separable": False}


def _separable(z: np.ndarray, y: np.ndarray) -> bool:
    """Every label-1 logit above every label-0 logit."""
    return bool(z[y == 1].min() > z[y == 0].max())


def reliability_bins(probabilities, labels, bins: int = BINS) -> list[dict]:
    """Equal-width bins of P(label 1): {low, high, count, confidence, accuracy}; an empty bin has None
    for both means. A score of exactly 1 falls in the last bin."""
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    y = np.asarray(labels, dtype=int).reshape(-1)
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        count = int(inside.sum())
        rows.append({
            "low": b / bins,
            "high": (b + 1) / bins,
            "count": count,
            "confidence": float(p[inside].mean()) if count else None,
            "accuracy": float(y[inside].mean()) if count else None,
        })
    return rows


def expected_calibration_error(probabilities, labels, bins: int = BINS) -> float:
    """Σ over bins of (posts in bin / posts) × |share of label 1 − mean P(label 1)|."""
    rows = reliability_bins(probabilities, labels, bins)
    total = sum(r["count"] for r in rows)
    if not total:
        return math.nan
    return float(sum(r["count"] / total * abs(r["accuracy"] - r["confidence"]) for r in rows if r["count"]))


def _sweep(p: np.ndarray, y: np.ndarray) -> dict:
    """For each distinct score s (highest first), the counts when posts with score >= s are flagged."""
    scores = np.unique(p)[::-1]
    order = np.argsort(-p, kind="stable")
    flagged_at = np.searchsorted(-p[order], -scores, side="right")  # posts with score >= s
    tp = np.concatenate([[0], np.cumsum(y[order])])[flagged_at]
    fp = flagged_at - tp
    positives = int(y.sum())
    precision = tp / np.maximum(flagged_at, 1)
    recall = tp / max(positives, 1)
    f1 = np.where(tp > 0, 2 * tp / np.maximum(flagged_at + positives, 1), 0.0)
    return {"scores": scores, "flagged": flagged_at, "tp": tp, "fp": fp, "precision": precision, "recall": recall,
            "f1": f1}


def choose_threshold(
    probabilities, labels, goal: str = "f1", target_precision: float = 0.9, min_flagged: int = MIN_FLAGGED
) -> dict:
    """The threshold (flag posts with P >= threshold) chosen on these posts for `goal`.

    1. Every distinct score is a candidate cut: the posts at or above it are flagged.
    2. "f1": the cut with the best F1 (the highest such cut on ties). "precision": the lowest cut whose
       precision reaches `target_precision`, i.e. the most posts found at that precision, among the cuts that
       flag at least `min_flagged` posts (or as many as there are positives, if fewer): a precision of 1.0 on
       two flagged posts says nothing. When none reaches it, the cut with the best precision among those
       (``reached`` False says so).
    3. The threshold sits midway between the chosen cut's score and the next lower score, so every post of
       this split stays on the same side while new posts near the cut are not decided by one example.
    """
    if goal not in GOALS:
        raise TextModelError(f"threshold goal must be one of {', '.join(GOALS)}, got {goal!r}")
    if not 0 < target_precision < 1:
        raise TextModelError(f"target_precision must be in (0, 1), got {target_precision!r}")
    p = np.asarray(probabilities, dtype=float).reshape(-1)
    y = np.asarray(labels, dtype=int).reshape(-1)
    if len(p) != len(y) or len(set(y.tolist())) < 2:
        raise TextModelError("choosing a threshold needs as many scores as labels and both classes")
    sweep = _sweep(p, y)
    reached = True
    if goal == "f1":
        k = int(np.argmax(sweep["f1"]))
    else:
        enough = sweep["flagged"] >= min(max(min_flagged, 1), int(y.sum()))
        ok = np.flatnonzero(enough & (sweep["precision"] >= target_precision))
        reached = bool(len(ok))
        # Highest precision when the target is out of reach; among equals, the most posts found.
        best = np.where(enough, sweep["precision"], -1.0)
        k = int(ok[-1]) if reached else int(np.flatnonzero(best == best.max())[-1])
    scores = sweep["scores"]
    threshold = (scores[k] + scores[k + 1]) / 2 if k + 1 < len(scores) else scores[k]
    return {
        "goal": goal,
        "target_precision": float(target_precision) if goal == "precision" else None,
        "reached": reached,
        "threshold": float(threshold),
        "f1": float(sweep["f1"][k]),
        "precision": float(sweep["precision"][k]),
        "recall": float(sweep["recall"][k]),
        "flagged": int(sweep["flagged"][k]),
        "posts": int(len(p)),
        "positives": int(y.sum()),
    }


def calibrate(logits, labels, *, goal: str = "f1", target_precision: float = 0.9, bins: int = BINS) -> dict:
    """Temperature, reliability before and after it, and the threshold for `goal`, all on these (validation)
    posts: the report a model stores beside its metrics."""
    z, y = _check(logits, labels)
    fitted = fit_temperature(z, y)
    t = fitted["temperature"]
    before, after = sigmoid(z), sigmoid(z / t)
    return {
        "fitted": True,
        "temperature": t,
        "clipped": fitted["clipped"],
        "separable": fitted["separable"],
        "posts": int(len(z)),
        "positives": int(y.sum()),
        "nll_before": negative_log_likelihood(z, y),
        "nll_after": negative_log_likelihood(z, y, t),
        "ece_before": expected_calibration_error(before, y, bins),
        "ece_after": expected_calibration_error(after, y, bins),
        "bins_before": reliability_bins(before, y, bins),
        "bins_after": reliability_bins(after, y, bins),
        "threshold": choose_threshold(after, y, goal, target_precision),
    }


def not_calibrated(reason: str, threshold: float = 0.5) -> dict:
    """What a model stores when its validation split cannot calibrate it: T = 1 and a fixed threshold."""
    return {"fitted": False, "reason": reason, "temperature": 1.0,
            "threshold": {"goal": "fixed", "threshold": float(threshold), "reached": True}}


def held_out_reliability(logits, labels, temperature: float, bins: int = BINS) -> dict:
    """ECE and bins before and after `temperature` on posts it was not fitted on (the test split)."""
    z, y = _check(logits, labels)
    before, after = sigmoid(z), sigmoid(z / temperature)
    return {
        "posts": int(len(z)),
        "ece_before": expected_calibration_error(before, y, bins),
        "ece_after": expected_calibration_error(after, y, bins),
        "bins_before": reliability_bins(before, y, bins),
        "bins_after": reliability_bins(after, y, bins),
    }
