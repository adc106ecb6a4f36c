"""How far a post lies from a classifier's training posts (no Django, no model code): the Mahalanobis distance of
its embedding to the nearest class mean, under one covariance shared by the classes (Lee et al., "A Simple Unified
Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018).

A classifier's score means something only for posts like those it was trained on: a post on a topic, in a style or
a language the training never met still gets a confident P(IO), because the head has to put it on one side. The
distance says how unlike the training posts it is; the training range is the 95th and 99th percentile of the
training posts' own distances, and a post beyond the 99th is marked ``unreliable``.

1. ``fit(X, y, groups)``: per-class means, and a Ledoit-Wolf covariance of the class-centred embeddings (shrunk
   towards a scaled identity: 384 dimensions from a few thousand posts would give a singular sample covariance).
2. The training range from the training posts' own distances, each measured **out of fold** (5 folds, by account
   when accounts are given): a post's distance to a summary fitted on itself is biased low (in-sample, a few
   thousand posts in 384 dimensions sit closer to their own means than new posts from the same accounts' kind do),
   so an in-sample 99th percentile would mark far more than 1 % of new, ordinary posts unreliable. The summary
   kept is fitted on all the training posts.
3. ``distances(X)``: the whitened distance to each class mean, the smallest kept.

The summary is small: the means (classes x dims) and the precision matrix (dims x dims, float32: 0.6 MB at 384).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import TextModelError

FILE = "ood.npz"
FOLDS = 5
PERCENTILES = (95, 99)
UNRELIABLE = "p99"  # beyond this, a post is marked unreliable


class MahalanobisOOD:
    """Distance to the training embeddings; scikit-learn shape (``fit`` returns self, learned state ends in ``_``)."""

    def __init__(self, folds: int = FOLDS, seed: int = 0):
        self.folds = folds
        self.seed = seed

    # -- fitting ----------------------------------------------------------------------------------
    def fit(self, X, y, groups=None) -> "MahalanobisOOD":
        """1. the summary on every post; 2. the range from out-of-fold distances (in-sample when too few posts)."""
        X, y = _check(X, y)
        self.means_, self.precision_, self.shrinkage_ = _summary(X, y)
        self._whitener = None
        own, how = self._out_of_fold(X, y, groups)
        self.range_ = {f"p{q}": float(np.percentile(own, q)) for q in PERCENTILES}
        self.fitted_on_ = {"posts": int(len(X)), "dims": int(X.shape[1]), "classes": int(len(self.means_)),
                           "range_from": how, "shrinkage": float(self.shrinkage_),
                           "median": float(np.median(own))}
        return self

    def _out_of_fold(self, X, y, groups) -> tuple[np.ndarray, str]:
        """Each post's distance to a summary fitted without it: folds by account when every class has at least
        ``folds`` accounts, else stratified folds by post, else (too few posts) in sample."""
        from sklearn.model_selection import GroupKFold, StratifiedKFold

        classes = np.unique(y)
        smallest = min(int((y == c).sum()) for c in classes)
        if groups is not None:
            groups = np.asarray(groups)
            fewest_accounts = min(len(set(groups[y == c].tolist())) for c in classes)
        if groups is not None and fewest_accounts >= self.folds:
            splits = GroupKFold(n_splits=self.folds, shuffle=True, random_state=self.seed).split(X, y, groups)
            how = f"out of fold ({self.folds} folds by account)"
        elif smallest >= self.folds:
            splits = StratifiedKFold(n_splits=self.folds, shuffle=True, random_state=self.seed).split(X, y)
            how = f"out of fold ({self.folds} folds)"
        else:
            return self.distances(X), "in sample (too few posts for folds)"
        own = np.empty(len(X))
        for fit_index, held in splits:
            means, precision, _ = _summary(X[fit_index], y[fit_index])
            own[held] = _distances(X[held], means, precision)
        return own, how

    # -- use ----------------------------------------------------------------------------------------
    def distances(self, X) -> np.ndarray:
        """Per row of ``X``: the Mahalanobis distance to the nearest class mean of the training posts."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.means_.shape[1]:
            raise TextModelError(f"embeddings must be rows of {self.means_.shape[1]} numbers, got shape {X.shape}")
        if self._whitener is None:
            self._whitener = _whitener(self.precision_)
        return _whitened_distances(X, self.means_, self._whitener)

    def unreliable(self, distances) -> np.ndarray:
        """True where a distance lies beyond the training range's 99th percentile."""
        self._check_fitted()
        return np.asarray(distances, dtype=float) > self.range_[UNRELIABLE]

    def describe(self, distances) -> dict:
        """The range and how many of these posts lie beyond each of its percentiles (shares of the posts)."""
        d = np.asarray(distances, dtype=float)
        outside = {f"outside_{k}": float((d > v).mean()) if len(d) else 0.0 for k, v in self.range_.items()}
        return {**self.range_, **outside, "posts": int(len(d)), "limit": UNRELIABLE,
                "median": float(np.median(d)) if len(d) else None}

    def report(self) -> dict:
        """What the model's metrics keep: the range and how it was fitted (JSON)."""
        self._check_fitted()
        return {**self.range_, **self.fitted_on_, "limit": UNRELIABLE, "method": "mahalanobis"}

    # -- storage ------------------------------------------------------------------------------------
    def save(self, directory) -> Path:
        self._check_fitted()
        path = Path(directory) / FILE
        np.savez_compressed(
            path, means=self.means_.astype(np.float32), precision=self.precision_.astype(np.float32),
            range=np.array([self.range_[f"p{q}"] for q in PERCENTILES]), percentiles=np.array(PERCENTILES),
        )
        return path

    @classmethod
    def load(cls, directory, report: dict | None = None) -> "MahalanobisOOD | None":
        """The summary saved in ``directory``, or None where there is none (a model trained before it existed)."""
        path = Path(directory) / FILE
        if not path.is_file():
            return None
        with np.load(path) as stored:
            self = cls()
            self.means_ = stored["means"].astype(np.float64)
            self.precision_ = stored["precision"].astype(np.float64)
            self.range_ = {f"p{int(q)}": float(v) for q, v in zip(stored["percentiles"], stored["range"])}
        self.shrinkage_ = (report or {}).get("shrinkage")
        self.fitted_on_ = {k: v for k, v in (report or {}).items() if k not in self.range_}
        self._whitener = None
        return self

    def _check_fitted(self):
        if not hasattr(self, "means_"):
            raise TextModelError("this out-of-distribution summary is not fitted: call fit() or load() first")


def _check(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=int).reshape(-1)
    if X.ndim != 2 or len(X) != len(y):
        raise TextModelError(f"need one embedding row per label; got shape {X.shape} for {len(y)} labels")
    if len(X) < 3:
        raise TextModelError("an out-of-distribution summary needs at least 3 posts")
    if not np.isfinite(X).all():
        raise TextModelError("embeddings must be finite numbers")
    return X, y


def _summary(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(class means, precision matrix, shrinkage): Ledoit-Wolf on the class-centred rows."""
    from sklearn.covariance import LedoitWolf

    labels = np.unique(y)
    means = np.stack([X[y == c].mean(axis=0) for c in labels])
    centred = X - means[np.searchsorted(labels, y)]
    lw = LedoitWolf(assume_centered=True).fit(centred)
    return means, lw.precision_, float(lw.shrinkage_)


def _whitener(precision: np.ndarray) -> np.ndarray:
    """W with W Wᵀ = precision, so ‖(x − μ) W‖ is the Mahalanobis distance (symmetric square root: robust to a
    float32 round trip that can leave the stored matrix a hair from positive definite)."""
    values, vectors = np.linalg.eigh((precision + precision.T) / 2)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _whitened_distances(X: np.ndarray, means: np.ndarray, whitener: np.ndarray) -> np.ndarray:
    z, centres = X @ whitener, means @ whitener
    squared = (z**2).sum(axis=1)[:, None] - 2 * z @ centres.T + (centres**2).sum(axis=1)[None, :]
    return np.sqrt(np.clip(squared.min(axis=1), 0.0, None))


def _distances(X: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    return _whitened_distances(X, means, _whitener(precision))
