"""The full influence model for a small set of accounts: A, the network matrix D and H (docs/methods.md §influence
model, paper §2).

Site i picks a determining site j with probability d_ij, then draws its next status from row
s_j[k−1] of A_ji. Given A (maximum likelihood, as in the paper), D is the maximum-likelihood
mixture weight of each row: for site i,

    log L(d_i) = Σ_k log Σ_j d_ij · A_ji[s_j[k−1], s_i[k]]

which EM maximises exactly (it is concave in d_i): responsibilities, then their means. The
`influence-model` package instead maximises Σ_k P_k / (x·B_k) per (i, j) alone, over only the
first observation (a `[:1]` slice where `[1:]` was meant); that objective grows as x → 0, so every
d_ij lands on the lower bound and D comes back as the identity with rows that need not sum to 1.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.checks import check_range


def transition_matrices(X: np.ndarray) -> np.ndarray:
    """A[i, j] = the 2×2 ML matrix of j's status at k given i's at k−1, for all pairs at once.

    Rows with no observations are zeros, exactly as the `influence-model` package leaves them."""
    X = np.asarray(X, dtype=np.float32)
    prev, nxt = X[:, :-1], X[:, 1:]
    c11 = (prev @ nxt.T).astype(float)  # float32 products of 0/1 are exact counts (below 2**24 steps), at half the cost
    c10 = prev.sum(1, dtype=float)[:, None] - c11
    c01 = nxt.sum(1, dtype=float)[None, :] - c11
    c00 = (X.shape[1] - 1) - c11 - c10 - c01
    counts = np.stack([np.stack([c00, c01], -1), np.stack([c10, c11], -1)], -2)
    totals = counts.sum(-1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


def _site_likelihoods(X: np.ndarray, A: np.ndarray, i: int) -> np.ndarray:
    """L[k, j] = A_ji[s_j[k−1], s_i[k]]: how well each site j explains site i's next status."""
    n = X.shape[0]
    return A[np.arange(n)[None, :], i, X[:, :-1].T, X[i, 1:, None]]


def network_matrix(X: np.ndarray, A: np.ndarray, *, max_iter: int = 500, tol: float = 1e-8):
    """Row-wise EM for D; returns (D, log-likelihood, iterations of the slowest row)."""
    X = np.asarray(X, dtype=int)
    n = X.shape[0]
    D, loglik, worst = np.zeros((n, n)), 0.0, 0
    for i in range(n):  # one loop over sites, each a vectorised EM over all T and n
        L = np.maximum(_site_likelihoods(X, A, i), 1e-12)
        d = np.full(n, 1.0 / n)
        for step in range(max_iter):
            updated = d * (L.T @ (1.0 / (L @ d))) / L.shape[0]
            change = np.abs(updated - d).max()
            d = updated
            if change < tol:
                break
        D[i], loglik, worst = d, loglik + np.log(L @ d).sum(), max(worst, step + 1)
    return D, float(loglik), worst


def influence_matrix(D: np.ndarray, A: np.ndarray) -> np.ndarray:
    """H = D' ⊗ {A_ij}: block (i, j) is d_ji · A_ij (the generalised Kronecker product)."""
    n = D.shape[0]
    return (D.T[:, :, None, None] * A).transpose(0, 2, 1, 3).reshape(2 * n, 2 * n)


@dataclass(frozen=True)
class InfluenceModelConfig:
    max_iter: int = 500
    tol: float = 1e-8
    max_sites: int = 500       # the EM is O(n² T) per iteration: meant for a selected few hundred

    def __post_init__(self):
        check_range("max_iter", self.max_iter, 1, None)
        check_range("tol", self.tol, 0, None, low_open=True)
        check_range("max_sites", self.max_sites, 2, None)


class InfluenceModel:
    """InfluenceModel(config).fit(X) with X (sites × time) binary; learns A_, D_, H_, influence_."""

    def __init__(self, config: InfluenceModelConfig = InfluenceModelConfig()):
        self.config = config

    def fit(self, X: np.ndarray, labels=None):
        X = np.asarray(X)
        if X.ndim != 2 or not 2 <= X.shape[0] <= self.config.max_sites:
            raise ValueError(f"X must be sites × time with 2 <= sites <= max_sites={self.config.max_sites}, "
                             f"got shape {X.shape}")
        check_range("X time steps", X.shape[1], 2, None)
        self.A_ = transition_matrices(X)
        self.D_, self.log_likelihood_, self.n_iter_ = network_matrix(
            X, self.A_, max_iter=self.config.max_iter, tol=self.config.tol)
        self.H_ = influence_matrix(self.D_, self.A_)
        # How often the others pick site j as their determining site: the influence it exerts.
        self.influence_ = self.D_.sum(0) - np.diag(self.D_)
        self.labels_ = np.arange(X.shape[0]) if labels is None else np.asarray(labels)
        return self

    def top_influencers(self, k: int = 10) -> list:
        order = np.argsort(-self.influence_)[:k]
        return [{"account": _plain(self.labels_[i]), "influence": float(self.influence_[i])} for i in order]


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
