"""Settings of the embedding map: frozen dataclasses, checked once, loudly (``ml.checks.ParamError`` names
the field)."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ml import checks

UNITS = ("post", "account")


class EmbeddingError(ValueError):
    """The data cannot support a map (too few points, no text, a directory that holds no encoder)."""


@dataclass(frozen=True)
class EncoderConfig:
    """How posts become vectors: mean of the last hidden layer over real tokens, then unit length."""

    batch_size: int = 64
    max_length: int = 128  # tokens; MiniLM was trained on 128-token inputs
    normalise: bool = True  # unit vectors: Euclidean distance then orders as cosine similarity does

    def __post_init__(self):
        checks.check_range("batch_size", self.batch_size, 1, 4096)
        checks.check_range("max_length", self.max_length, 4, 4096)

    def as_dict(self) -> dict:
        return asdict(self)


SHORT_EXAGGERATION_FROM = 50_000  # points


@dataclass(frozen=True)
class MapConfig:
    """The 2-D projection: openTSNE with PCA initialisation and FFT-interpolated gradients (Linderman et al.,
    2019), which scales linearly in the points where scikit-learn's exact and Barnes-Hut t-SNE do not.

    ``pca_dims``: vectors wider than this are reduced by PCA before the neighbour search; 0 (the default) keeps
    them whole. Reducing MiniLM's 384 dimensions to 50 or 100 speeds the neighbour search but lost about a tenth
    of each point's 10 nearest neighbours on the map (bench/embedding_map.py's data; docs/benchmarks.md).
    ``perplexity`` is lowered to (points - 1) / 3 on small maps, and the map says so.

    ``early_exaggeration_iter``: None (the default) runs openTSNE's 250 below ``SHORT_EXAGGERATION_FROM`` points and
    125 from there. The early phase's learning rate is points / 12, so a large map gathers its clusters in fewer
    steps; at 100,000 points the shorter phase kept the 10-NN preservation (0.4268 against 0.4276) and saved a fifth
    of the iterations' time, since the layout it hands on is also more compact and the FFT grid smaller
    (docs/benchmarks.md). ``neighbour_trees``: the Annoy forest of the neighbour search (openTSNE's 50; 15 found
    99.4 % of the exact 90 nearest neighbours at 100,000 x 384 in two thirds of the time)."""

    perplexity: float = 30.0
    seed: int = 0
    early_exaggeration_iter: int | None = None
    n_iter: int = 500
    pca_dims: int = 0
    n_jobs: int = 0  # openTSNE's threads: -1 every core; 0 one below 10,000 points (threads cost more there), else all
    callbacks_every: int = 25  # iterations between progress reports
    neighbour_trees: int = 15

    def __post_init__(self):
        checks.check_range("perplexity", self.perplexity, 2, 100)
        checks.check_range("seed", self.seed, 0, 2**32 - 1)
        if self.early_exaggeration_iter is not None:
            checks.check_range("early_exaggeration_iter", self.early_exaggeration_iter, 0, 10_000)
        checks.check_range("neighbour_trees", self.neighbour_trees, 1, 1_000)
        checks.check_range("n_iter", self.n_iter, 1, 10_000)
        checks.check_range("pca_dims", self.pca_dims, 0, 4096)
        checks.check_range("n_jobs", self.n_jobs, -1, 1024)
        checks.check_range("callbacks_every", self.callbacks_every, 1, 10_000)

    def exaggeration_iterations(self, points: int) -> int:
        if self.early_exaggeration_iter is not None:
            return self.early_exaggeration_iter
        return 125 if points >= SHORT_EXAGGERATION_FROM else 250

    def as_dict(self) -> dict:
        return asdict(self)
