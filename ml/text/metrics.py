"""Held-out metrics as plain data: curves, areas, and the counts at one threshold."""
from __future__ import annotations

import math

import numpy as np

from .config import TextModelError


def _finite(values) -> list:
    # roc_curve's first threshold is +inf; JSON has no infinity.
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def classification_metrics(y_true, y_score, threshold: float = 0.5) -> dict:
    """ROC and AUC, precision-recall and average precision, and at `threshold`: F1, precision, recall,
    MCC, accuracy and the confusion matrix ([[tn, fp], [fn, tp]]). Scores are P(label 1)."""
    from sklearn import metrics as skm

    y_true = np.asarray(y_true, dtype=int)
    y_score = np.asarray(y_score, dtype=float)
    if len(y_true) != len(y_score):
        raise TextModelError(f"got {len(y_true)} labels but {len(y_score)} scores")
    if len(set(y_true.tolist())) < 2:
        raise TextModelError("metrics need both classes among the held-out labels")
    y_pred = (y_score >= threshold).astype(int)
    fpr, tpr, roc_thresholds = skm.roc_curve(y_true, y_score)
    precision, recall, pr_thresholds = skm.precision_recall_curve(y_true, y_score)
    tn, fp, fn, tp = skm.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel().tolist()
    return {
        "n": int(len(y_true)), "positives": int(y_true.sum()), "threshold": float(threshold),
        "auc": float(skm.roc_auc_score(y_true, y_score)),
        "average_precision": float(skm.average_precision_score(y_true, y_score)),
        "f1": float(skm.f1_score(y_true, y_pred, zero_division=0)),
        "precision": float(skm.precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(skm.recall_score(y_true, y_pred, zero_division=0)),
        "mcc": float(skm.matthews_corrcoef(y_true, y_pred)),
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp, "matrix": [[tn, fp], [fn, tp]]},
        "roc": {"fpr": _finite(fpr), "tpr": _finite(tpr), "thresholds": _finite(roc_thresholds)},
        "pr": {"precision": _finite(precision), "recall": _finite(recall), "thresholds": _finite(pr_thresholds)},
    }
