"""Agreement between analysts who labelled the same items: Cohen's κ per pair (scikit-learn's) with the pair's
confusion table, and Fleiss' κ for items labelled by more than two (Fleiss 1971). Plain data in, plain data out:
no Django."""
from __future__ import annotations

import math
import warnings
from itertools import combinations


def pairwise_kappa(labels: dict[str, dict[int, str]], *, values: list[str]) -> list[dict]:
    """For each pair of analysts (``labels``: analyst → {item: label}) with items in common:
    ``{"a", "b", "items", "agreement", "kappa", "classes", "confusion"}`` (``confusion[i][j]``: items ``a`` gave
    ``classes[i]`` and ``b`` gave ``classes[j]``). κ is None where it is undefined (both gave one and the
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
            "classes": classes,
            "confusion": [[sum(x == ca and y == cb for x, y in zip(ya, yb)) for cb in classes] for ca in classes],
        })
    return rows


def fleiss_kappa(table: list[list[int]]) -> float | None:
    """Fleiss' κ of a table of counts: one row per item, one column per label, each cell the number of raters who
    gave the item that label; every row sums to the same number of raters n ≥ 2. None where it is undefined (every
    rating the same label: no chance agreement to correct)."""
    if not table:
        raise ValueError("Fleiss' kappa needs at least one item")
    raters = {sum(row) for row in table}
    if len(raters) != 1 or (n := raters.pop()) < 2 or any(c < 0 for row in table for c in row):
        raise ValueError("each item needs the same number of raters (at least 2) and counts of 0 or more")
    items = len(table)
    shares = [sum(row[j] for row in table) / (items * n) for j in range(len(table[0]))]
    observed = sum((sum(c * c for c in row) - n) / (n * (n - 1)) for row in table) / items
    chance = sum(p * p for p in shares)
    return None if math.isclose(chance, 1.0) else (observed - chance) / (1 - chance)


def fleiss_of_labels(labels: dict[int, dict[str, str]], *, values: list[str], raters: int) -> dict | None:
    """Fleiss' κ over the items (``labels``: item → {analyst: label}) that exactly ``raters`` analysts labelled:
    ``{"raters", "items", "kappa"}``, or None where no item has that many."""
    classes = list(values) + sorted({v for given in labels.values() for v in given.values()} - set(values))
    rows = [[list(given.values()).count(c) for c in classes] for given in labels.values() if len(given) == raters]
    if raters < 2 or not rows:
        return None
    return {"raters": raters, "items": len(rows), "kappa": fleiss_kappa(rows)}
