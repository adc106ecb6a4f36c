"""Vectors to 2-D with openTSNE (Poličar et al., 2024; FFT-accelerated interpolation, Linderman et al., 2019).

PCA initialisation keeps the global layout reproducible and meaningful (Kobak and Berens, 2019); FFT
gradients make each iteration linear in the points. Progress goes out through ``on_step`` every
``callbacks_every`` iterations, through openTSNE's own callbacks.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .config import EmbeddingError, MapConfig

MIN_POINTS = 5
ANNOY_FROM = 1_000  # points; openTSNE searches exactly below (and takes no Annoy settings there)
THREADS_FROM = 10_000  # points; below, one thread is faster (200 points on 2 busy cores: 1.4 s vs 7.4 s)


@dataclass(frozen=True)
class Projection:
    xy: np.ndarray  # (n, 2)
    perplexity: float  # the one used: lowered on small maps
    kl_divergence: float | None
    seconds: dict


def effective_perplexity(perplexity: float, n: int) -> float:
    """t-SNE needs about 3 x perplexity neighbours per point: on small maps the perplexity comes down."""
    return float(min(perplexity, max(1.0, (n - 1) / 3)))


def grid_intervals(n: int) -> int:
    """The FFT grid's minimum intervals per dimension: openTSNE's 50 fits large maps, whose extent sets the grid
    anyway; a small map's extent is small, and the fixed 50-interval grid then costs most of the time (200 points:
    5.3 s at 50, 0.7 s at 10, measured on 2 cores) while an interval stays about one unit wide either way."""
    return int(min(50, max(10, n // 100)))


def threads(n_jobs: int, n: int) -> int:
    if n_jobs:
        return n_jobs
    return 1 if n < THREADS_FROM else -1


def reduce(vectors: np.ndarray, dims: int, seed: int) -> np.ndarray:
    """PCA to ``dims`` components when the vectors are wider and there are enough of them; else as they are."""
    n, width = vectors.shape
    if dims <= 0 or width <= dims or n <= dims:
        return vectors
    from sklearn.decomposition import PCA

    return PCA(n_components=dims, random_state=seed).fit_transform(vectors).astype(np.float32)


class _Reporter:
    """openTSNE calls this every ``callbacks_every`` iterations of each phase; it reports the overall fraction."""

    def __init__(self, on_step: Callable | None, phases: list[tuple[str, int]]):
        self.on_step, self.phases, self.phase = on_step, phases, 0
        self.total = sum(n for _, n in phases)
        self.kl = None

    def optimization_about_to_start(self):
        self.started = getattr(self, "started", -1) + 1
        self.phase = self.started

    def __call__(self, iteration: int, error: float, embedding) -> bool:
        self.kl = float(error)
        done = sum(n for _, n in self.phases[: self.phase]) + iteration
        if self.on_step is not None:
            self.on_step({"phase": self.phases[self.phase][0], "iteration": done, "total_iterations": self.total,
                          "fraction": done / self.total, "kl_divergence": self.kl})
        return False


def project(vectors, config: MapConfig = MapConfig(), on_step: Callable | None = None) -> Projection:
    """1. Check the vectors; 2. PCA to ``pca_dims``; 3. perplexity-based affinities on approximate nearest
    neighbours; 4. early exaggeration, then the normal phase. ``on_step`` gets {"phase", "iteration",
    "total_iterations", "fraction", "kl_divergence"}; the phase "affinities" comes once, before the iterations."""
    from openTSNE import TSNE

    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or len(x) < MIN_POINTS:
        raise EmbeddingError(f"a map needs at least {MIN_POINTS} points; got {len(x)}")
    if not np.isfinite(x).all():
        raise EmbeddingError("the vectors hold NaN or infinite values")
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    x = reduce(x, config.pca_dims, config.seed)
    seconds["pca"] = time.perf_counter() - started
    perplexity = effective_perplexity(config.perplexity, len(x))
    early = config.exaggeration_iterations(len(x))
    phases = [("early exaggeration", early), ("optimisation", config.n_iter)]
    reporter = _Reporter(on_step, [p for p in phases if p[1] > 0])
    tsne = TSNE(
        perplexity=perplexity,
        initialization="pca",
        negative_gradient_method="fft",
        n_jobs=threads(config.n_jobs, len(x)),
        random_state=config.seed,
        early_exaggeration_iter=early,
        n_iter=config.n_iter,
        min_num_intervals=grid_intervals(len(x)),
        callbacks=reporter,
        callbacks_every_iters=config.callbacks_every,
        **neighbour_search(config, len(x)),
    )
    started = time.perf_counter()
    embedding = tsne.prepare_initial(x)
    seconds["affinities"] = time.perf_counter() - started
    if on_step is not None:
        on_step({"phase": "affinities", "iteration": 0, "total_iterations": reporter.total, "fraction": 0.0,
                 "kl_divergence": None})
    started = time.perf_counter()
    embedding = _optimise(tsne, embedding, early, config.n_iter)
    seconds["optimisation"] = time.perf_counter() - started
    return Projection(np.asarray(embedding, dtype=np.float64), perplexity, reporter.kl, seconds)


def neighbour_search(config: MapConfig, points: int) -> dict:
    """Annoy with the config's forest from ``ANNOY_FROM`` points; openTSNE's exact search below."""
    if points < ANNOY_FROM:
        return {}
    return {"neighbors": "annoy", "knn_kwargs": {"n_trees": config.neighbour_trees}}


def _optimise(tsne, embedding, early: int, n_iter: int):
    """The two phases of ``TSNE.fit``, run on an embedding prepared apart (so the affinities can be timed and
    reported): early exaggeration at low momentum, then the real affinities."""
    if early:
        embedding = embedding.optimize(n_iter=early, exaggeration=tsne.early_exaggeration,
                                       momentum=tsne.initial_momentum, inplace=True, propagate_exception=True)
    return embedding.optimize(n_iter=n_iter, exaggeration=tsne.exaggeration, momentum=tsne.final_momentum,
                              inplace=True, propagate_exception=True)
