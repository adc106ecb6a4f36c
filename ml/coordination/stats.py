"""Significance: a Poisson test of a co-activity count against its expectation, and Benjamini–Hochberg q-values.

Why Poisson: under independence each pair's count is a sum of many rare Bernoulli trials (one per
time bin or post), so a Poisson with the summed expectation is accurate and vectorises.

At scale most pairs cannot reach p <= alpha, and the exact tail costs ~50 ns a pair: `poisson_candidates`
finds the few that can from one table lookup per pair (P(X >= c) <= alpha exactly when the expectation is
at most gammaincinv(c, alpha)), so the tail is computed only there."""
from __future__ import annotations

import numpy as np
from scipy import special


def poisson_pvalues(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """P(X >= observed) for X ~ Poisson(expected); 1 where nothing was observed.

    special.pdtrc is what scipy.stats.poisson.sf evaluates, without the per-call argument checks."""
    observed = np.asarray(observed, dtype=float)
    expected = np.maximum(np.asarray(expected, dtype=float), 1e-300)
    p = np.ones(observed.shape)
    hit = observed > 0
    p[hit] = special.pdtrc(observed[hit] - 1, expected[hit])
    return p


def poisson_limits(max_count: int, alpha: float) -> np.ndarray:
    """limits[c] = the largest expectation at which a count of c still has P(X >= c) <= alpha
    (with a little slack: a superset, the exact test follows); limits[0] = -1 (p = 1)."""
    limits = np.full(int(max_count) + 1, -1.0)
    if max_count >= 1:
        counts = np.arange(1, int(max_count) + 1, dtype=float)
        limits[1:] = special.gammaincinv(counts, alpha) * (1 + 1e-6) + 1e-12
    return limits


def poisson_candidates(observed: np.ndarray, expected: np.ndarray, alpha: float) -> np.ndarray:
    """Mask of the pairs whose Poisson p-value can be <= alpha; every other pair has p > alpha."""
    observed = np.asarray(observed)
    if observed.size == 0:
        return np.zeros(observed.shape, bool)
    # Counts are whole numbers (exact in float32 up to 2**24): truncation is exact and one pass cheaper than rint.
    counts = observed.astype(np.int32 if observed.max() < 2**31 else np.int64)
    return (
        poisson_limits(max(int(counts.max()), 0), alpha)[
            np.maximum(counts, 0, out=counts) if counts.min() < 0 else counts
        ]
        >= expected
    )


def bh_qvalues(p: np.ndarray, n_tests: int) -> np.ndarray:
    """Benjamini–Hochberg q-values for the given p-values out of n_tests in all.

    The tests not passed in (pairs with no co-activity, or pre-filtered with p > alpha) rank after
    these, so q-values at or below alpha are exact; above alpha they are an upper-bounded guess."""
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p.copy()
    n_tests = max(int(n_tests), p.size)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n_tests / np.arange(1, p.size + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty_like(p)
    q[order] = np.minimum(ranked, 1.0)
    return q
