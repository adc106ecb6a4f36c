"""Significance: a Poisson test of a co-activity count against its expectation, and Benjamini–Hochberg q-values.

Why Poisson: under independence each pair's count is a sum of many rare Bernoulli trials (one per
time bin or post), so a Poisson with the summed expectation is accurate and vectorises."""
from __future__ import annotations

import numpy as np
from scipy import stats


def poisson_pvalues(observed: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """P(X >= observed) for X ~ Poisson(expected); 1 where nothing was observed."""
    observed = np.asarray(observed, dtype=float)
    expected = np.maximum(np.asarray(expected, dtype=float), 1e-300)
    p = np.ones(observed.shape)
    hit = observed > 0
    p[hit] = stats.poisson.sf(observed[hit] - 1, expected[hit])
    return p


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
