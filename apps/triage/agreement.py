"""Agreement between analysts who labelled the same items: Cohen's κ per pair (scikit-learn's). Plain
data in, plain data out: no Django."""
from __future__ import annotations

import math
import warnings
from itertools import combinations


def pairwise_kappa(labels: dict[str, dict[int, str]], *, values: list[str]) -> list[dict]:
    """For each pair of analysts (``labels``: analyst → {item: label}) with items in common:
    ``{"a", "b", "items", "agreement", "kappa"}``. κ is None where it is undefined (both gave one and the
    same label to every common item); ``values`` fixes the label order (labels outside it are added)."""
    from sklearn.metrics import cohen_kappa_score

    rows = []
    for a, b in combinations(sorted(labels), 2):
        common = sorted(labels[a].keys() & labels[b].keys())
        if not common:
            continue
        ya, yb = [labels[a][i] for i in common], [labels[b][i] for i in common]
        classes = list(values) + sorted({*ya, *yb} - set(values))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the undefined case warns; it is reported as None instead
            kappa = float(cohen_kappa_score(ya, yb, labels=classes))
        rows.append({
            "a": a,
            "b": b,
            "items": len(common),
            "agreement": sum(x == y for x, y in zip(ya, yb)) / len(common),
            "kappa": None if math.isnan(kappa) else kappa,
        })
    return rows
