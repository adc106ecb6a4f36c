"""What the embedding map costs: posts/s embedding with the bundled MiniLM-L6 (mean-pooled), and t-SNE seconds at
10,000 and 50,000 points x 384 with the map's own settings, with 10-nearest-neighbour preservation against openTSNE's
default run on the same data.

    .venv/bin/python bench/embedding_map.py [--posts 2000] [--sizes 10000,50000] [--no-reference]

The posts are synthetic and all distinct (two topics, ~20 words each: the encoder embeds each distinct text once,
so repeats would flatter it). The t-SNE inputs are synthetic too, built to look like text embeddings: unit vectors
in 384-d, 200 clusters around embedded posts, each cluster a 5-dimensional cloud plus a little isotropic noise
(embedding 50,000 real posts alone takes ~6 minutes here). kNN preservation: the share of each point's 10 nearest
neighbours in 384-d that are among its 10 nearest on the map, on 5,000 points. The reference is
``openTSNE.TSNE(n_jobs=-1, random_state=seed)`` on the full 384-d vectors (its defaults: perplexity 30, PCA
initialisation, FFT from 10,000 points). Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SUBJECTS = ("the striker", "our keeper", "the coach", "the referee", "the new signing", "the captain", "the fans",
            "the baker", "my grandmother", "the chef", "the food critic", "our neighbour", "the recipe", "the waiter")
VERBS = ("praised", "criticised", "ignored", "celebrated", "questioned", "explained", "defended", "remembered")
OBJECTS = ("the late winner in the derby", "the penalty decision", "the new formation", "the league table",
           "the slow roasted garlic", "the sourdough starter", "the lentil soup", "the tomato sauce recipe",
           "the transfer rumours", "the cup final tickets", "the spice market", "the dinner menu")
TAILS = ("today", "tonight", "again", "at last", "this morning", "for the third time", "on the radio", "online")


def posts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}, "
            f"and {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} (#{i})" for i in range(n)]


def embedding_rate(n: int) -> tuple[dict, np.ndarray]:
    from ml.embedding import PostEncoder

    started = time.perf_counter()
    encoder = PostEncoder()
    encoder.embed(["warm up"])
    load = time.perf_counter() - started
    texts = posts(n)
    started = time.perf_counter()
    vectors = encoder.embed(texts)
    seconds = time.perf_counter() - started
    return {"posts_embedded": n, "posts_per_s": round(n / seconds, 1), "embed_seconds": round(seconds, 2),
            "model_load_s": round(load, 2)}, vectors


def text_like(centres: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors: 200 clusters, each around one of ``centres`` along 5 random directions, plus noise."""
    rng = np.random.default_rng(seed)
    picked = centres[rng.choice(len(centres), size=min(200, len(centres)), replace=False)]
    dim = picked.shape[1]
    cluster = rng.integers(0, len(picked), size=n)
    directions = rng.normal(size=(len(picked), 5, dim)) / np.sqrt(dim)
    along = np.einsum("nk,nkd->nd", rng.normal(size=(n, 5)), directions[cluster])
    # spread along the cloud ~0.18, isotropic noise ~0.03: about what separates near-paraphrases in MiniLM's space
    x = picked[cluster] + 0.08 * along + 0.03 * rng.normal(size=(n, dim)) / np.sqrt(dim)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def tsne_figures(x: np.ndarray, reference: bool, seed: int = 0) -> dict:
    from openTSNE import TSNE

    from ml.embedding import MapConfig, knn_preservation, project

    started = time.perf_counter()
    ours = project(x, MapConfig(seed=seed))
    row = {"points": len(x), "seconds": round(time.perf_counter() - started, 1),
           "stages": {k: round(v, 1) for k, v in ours.seconds.items()},
           "knn_preservation": round(knn_preservation(x, ours.xy, k=10, sample=5_000), 4)}
    if reference:
        started = time.perf_counter()
        theirs = np.asarray(TSNE(n_jobs=-1, random_state=seed).fit(x))
        row["reference_seconds"] = round(time.perf_counter() - started, 1)
        row["reference_knn_preservation"] = round(knn_preservation(x, theirs, k=10, sample=5_000), 4)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2_000, help="posts embedded for the posts/s figure")
    parser.add_argument("--sizes", default="10000,50000", help="t-SNE sizes, comma-separated")
    parser.add_argument("--no-reference", action="store_true", help="skip openTSNE's default run")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    embedding, vectors = embedding_rate(args.posts)
    print(json.dumps({"stage": "embedding", **embedding}), flush=True)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.append(tsne_figures(text_like(vectors, size), reference=not args.no_reference))
        print(json.dumps({"stage": "tsne", **rows[-1]}), flush=True)
    last = rows[-1]
    print(json.dumps({
        "bench": "embedding_map", **embedding, "torch_threads": torch.get_num_threads(), "cores": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2), "tsne": rows, "points": last["points"], "seconds": last["seconds"],
        "knn_preservation": last["knn_preservation"],
        "reference_knn_preservation": last.get("reference_knn_preservation"),
    }))


if __name__ == "__main__":
    main()
