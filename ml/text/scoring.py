"""Scoring many posts: batches of similar length (little padding, a big speed win), progress,
per-account aggregates, and how far single scores move between two scoring modes."""
from __future__ import annotations

from typing import Callable

import numpy as np


def score_sorted(score_batch: Callable[[list[str]], np.ndarray], texts: list[str], batch_size: int = 64,
                 on_step: Callable | None = None, lengths=None) -> np.ndarray:
    """Scores in the order of `texts`, computed in batches of posts sorted by length: `lengths` (e.g. token
    counts, which pad far less than character counts) or else the characters. A batch may return one number
    per text or one row per text (e.g. a logit and a distance): the result then has those rows."""
    texts = list(texts)
    lengths = [len(t) for t in texts] if lengths is None else list(lengths)
    order = sorted(range(len(texts)), key=lambda i: lengths[i])
    scores = np.empty(len(texts), dtype=float)
    total = max(1, -(-len(texts) // batch_size))
    for step, start in enumerate(range(0, len(texts), batch_size), start=1):
        index = order[start:start + batch_size]
        batch = np.asarray(score_batch([texts[i] for i in index]), dtype=float)
        if start == 0 and batch.ndim > 1:
            scores = np.empty((len(texts), *batch.shape[1:]), dtype=float)
        scores[index] = batch
        if on_step is not None:
            on_step(
                {
                    "step": step,
                    "total_steps": total,
                    "fraction": step / total,
                    "scored": min(start + batch_size, len(texts)),
                }
            )
    return scores


def score_distinct(
    score_batch: Callable[[list[str]], np.ndarray],
    texts: list[str],
    batch_size: int = 64,
    on_step: Callable | None = None,
    length: Callable[[list[str]], list[int]] | None = None,
) -> np.ndarray:
    """Like `score_sorted`, but each distinct text is scored once and its score given to every copy.

    A text's score does not depend on its copies, so this changes nothing beyond float rounding (a batch's
    padding can move the 7th decimal); it pays where a collection repeats texts (copy-paste
    campaigns, retweets stored as text). `length(texts)` gives the sort key; progress counts all posts."""
    texts = list(texts)
    first: dict[str, int] = {}
    inverse = np.fromiter((first.setdefault(t, len(first)) for t in texts), dtype=np.int64, count=len(texts))
    distinct = list(first)
    report = None
    if on_step is not None:

        def report(step):
            on_step({**step, "scored": round(step["fraction"] * len(texts)), "distinct": len(distinct)})

    scores = score_sorted(score_batch, distinct, batch_size, report, None if length is None else length(distinct))
    return scores[inverse] if len(texts) else scores


def aggregate_by_account(scores, accounts, threshold: float = 0.5) -> list[dict]:
    """One row per account: posts, mean and max score, share of posts at or above `threshold`;
    highest mean first."""
    scores = np.asarray(scores, dtype=float)
    accounts = np.asarray([str(a) for a in accounts])
    rows = []
    for account in np.unique(accounts):
        own = scores[accounts == account]
        rows.append(
            {
                "account": str(account),
                "posts": int(len(own)),
                "mean": float(own.mean()),
                "max": float(own.max()),
                "share_above": float((own >= threshold).mean()),
            }
        )
    rows.sort(key=lambda r: (-r["mean"], r["account"]))
    return rows


def change_quantiles(before, after) -> dict:
    """How far single scores moved between two ways of scoring the same posts: the median, 99th percentile and
    largest |Δ| (what an analyst reading one post's score should know, beside the AUC change)."""
    delta = np.abs(np.asarray(after, dtype=float) - np.asarray(before, dtype=float))
    if not len(delta):
        return {"posts": 0, "median": None, "p99": None, "max": None}
    return {
        "posts": int(len(delta)),
        "median": float(np.median(delta)),
        "p99": float(np.quantile(delta, 0.99)),
        "max": float(delta.max()),
    }
