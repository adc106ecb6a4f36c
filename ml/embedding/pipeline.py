"""Posts in, a 2-D map out: embed the posts, average them per account when the unit is the account,
project with t-SNE. Progress goes out as ``on_progress(fraction, stage)``, stage by stage."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .config import UNITS, EmbeddingError, MapConfig
from .encoder import PostEncoder
from .points import account_means
from .tsne import project

EMBED_SHARE = 0.6  # of the progress bar: MiniLM costs more than t-SNE at the default cap on 2 cores


def build_map(texts, accounts, ids=None, *, unit: str = "post", encoder: PostEncoder | None = None,
              config: MapConfig = MapConfig(), on_progress: Callable | None = None) -> dict:
    """1. Embed every post (``encoder``: the bundled MiniLM by default); 2. for ``unit="account"``, each
    account's point is the mean of its posts' vectors; 3. t-SNE to 2-D.

    Returns {"unit", "ids" (post ids, or account ids), "accounts" (each point's account), "posts" (posts per
    point), "xy" (n x 2), "perplexity" (used), "kl_divergence", "dimensions", "seconds"}."""
    if unit not in UNITS:
        raise EmbeddingError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    texts, accounts = list(texts), list(accounts)
    ids = list(range(len(texts))) if ids is None else list(ids)
    if not (len(texts) == len(accounts) == len(ids)):
        raise EmbeddingError(f"{len(texts)} texts, {len(accounts)} accounts and {len(ids)} ids: one each per post")
    report = on_progress or (lambda fraction, stage: None)
    encoder = encoder or PostEncoder()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    report(0.0, f"Embedding {len(texts):,} posts")
    vectors = encoder.embed(texts, on_step=lambda s: report(
        EMBED_SHARE * s["fraction"], f"Embedding posts: {s['embedded']:,} of {len(texts):,} (batch {s['step']:,} of "
                                     f"{s['total_steps']:,})"))
    seconds["embedding"] = time.perf_counter() - started
    if unit == "account":
        ids, vectors, posts = account_means(vectors, accounts)
        accounts = list(ids)
    else:
        posts = np.ones(len(ids), dtype=np.int64)
    report(EMBED_SHARE, f"t-SNE: nearest neighbours and affinities of {len(ids):,} points")
    projection = project(vectors, config, on_step=lambda s: report(
        EMBED_SHARE + (1 - EMBED_SHARE) * s["fraction"], _tsne_stage(s)))
    return {
        "unit": unit,
        "ids": ids,
        "accounts": accounts,
        "posts": [int(p) for p in posts],
        "xy": projection.xy,
        "perplexity": projection.perplexity,
        "kl_divergence": projection.kl_divergence,
        "dimensions": int(vectors.shape[1]),
        "seconds": {**seconds, **{f"tsne_{k}": v for k, v in projection.seconds.items()}},
    }


def map_vectors(ids, vectors, *, config: MapConfig = MapConfig(), on_progress: Callable | None = None) -> dict:
    """Vectors made elsewhere (an account's TIES or graph embedding) to 2-D: ``build_map``'s output for the unit
    "account", each point one account (``ids``), ``posts`` left at 0 for the caller to fill."""
    ids = list(ids)
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(ids):
        raise EmbeddingError(f"{len(ids)} ids for vectors of shape {vectors.shape}: one vector per id")
    report = on_progress or (lambda fraction, stage: None)
    report(0.0, f"t-SNE: nearest neighbours and affinities of {len(ids):,} points")
    projection = project(vectors, config, on_step=lambda s: report(s["fraction"], _tsne_stage(s)))
    return {
        "unit": "account",
        "ids": ids,
        "accounts": list(ids),
        "posts": [0] * len(ids),
        "xy": projection.xy,
        "perplexity": projection.perplexity,
        "kl_divergence": projection.kl_divergence,
        "dimensions": int(vectors.shape[1]),
        "seconds": {f"tsne_{k}": v for k, v in projection.seconds.items()},
    }


def _tsne_stage(step: dict) -> str:
    if step["phase"] == "affinities":
        return f"t-SNE: affinities ready; {step['total_iterations']:,} iterations to run"
    return f"t-SNE: iteration {step['iteration']:,} of {step['total_iterations']:,} ({step['phase']})"
