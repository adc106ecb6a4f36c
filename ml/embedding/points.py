"""What goes on the map and how good it is: a reproducible sample under the cap, accounts as the mean of
their posts, and the two measures the tests and the bench read (kNN accuracy of labels in 2-D, and how many of
each point's nearest neighbours the map keeps)."""
from __future__ import annotations

import numpy as np

from .config import EmbeddingError


def sample_indices(n: int, cap: int, seed: int) -> np.ndarray:
    """Sorted indices of at most ``cap`` of ``n`` items, uniformly without replacement; the same (n, cap, seed)
    always gives the same sample."""
    if cap < 1:
        raise EmbeddingError(f"the cap must be at least 1; got {cap}")
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=cap, replace=False))


def sample_per_group(groups, cap: int, seed: int) -> np.ndarray:
    """Sorted indices keeping at most ``cap`` items of each group (a reproducible sample within the larger ones)."""
    groups = np.asarray(groups)
    rng = np.random.default_rng(seed)
    keep = []
    for value in np.unique(groups):
        members = np.flatnonzero(groups == value)
        keep.append(members if len(members) <= cap else rng.choice(members, size=cap, replace=False))
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=np.int64)


def account_means(vectors, accounts) -> tuple[list, np.ndarray, np.ndarray]:
    """(account ids in first-seen order, their mean vectors, posts per account) from post vectors and their accounts."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) != len(accounts):
        raise EmbeddingError(f"{len(accounts)} accounts for vectors of shape {vectors.shape}")
    index: dict = {}
    rows = np.fromiter((index.setdefault(a, len(index)) for a in accounts), dtype=np.int64, count=len(vectors))
    keys = list(index)
    counts = np.bincount(rows, minlength=len(keys)).astype(np.int64)
    sums = np.zeros((len(keys), vectors.shape[1]))
    np.add.at(sums, rows, vectors)
    return keys, (sums / np.maximum(counts, 1)[:, None]).astype(np.float32), counts


def _neighbours(x: np.ndarray, k: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x, return_distance=False)[:, 1:]


def knn_accuracy(xy, labels, k: int = 10) -> float:
    """Share of points whose label is the majority label of their ``k`` nearest neighbours in 2-D
    (leave-one-out): near 1 when the map keeps the groups apart, near the largest group's share when not."""
    labels = np.asarray(labels)
    near = labels[_neighbours(np.asarray(xy, dtype=np.float64), k)]
    values, codes = np.unique(labels, return_inverse=True)
    votes = np.stack([(near == v).sum(1) for v in values], axis=1)
    return float((votes.argmax(1) == codes).mean())


def knn_preservation(high, low, k: int = 10, sample: int | None = 10_000, seed: int = 0) -> float:
    """Mean share of each point's ``k`` nearest neighbours in ``high`` that are among its ``k`` nearest in ``low``
    (on a sample of at most ``sample`` points, whose neighbours are searched among all)."""
    from sklearn.neighbors import NearestNeighbors

    high, low = np.asarray(high, dtype=np.float32), np.asarray(low, dtype=np.float64)
    picked = sample_indices(len(high), sample or len(high), seed)
    near_high = NearestNeighbors(n_neighbors=k + 1).fit(high).kneighbors(high[picked], return_distance=False)
    near_low = NearestNeighbors(n_neighbors=k + 1).fit(low).kneighbors(low[picked], return_distance=False)
    kept = [len(set(a[1:]) & set(b[1:])) for a, b in zip(near_high, near_low)]
    return float(np.mean(kept) / k)
