"""Inputs checked once, and splits that keep every account on one side (no account in train and test)."""
from __future__ import annotations

import numpy as np

from .config import TextModelError


def check_texts(texts) -> list[str]:
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TextModelError(f"texts must be strings; item {bad[0]} is {type(texts[bad[0]]).__name__}")
    return texts


def _is_binary(value) -> bool:
    # 0/1 as int, bool, float (pandas turns a column with gaps into floats) or their numpy kinds.
    return isinstance(value, (int, float, np.integer, np.floating, np.bool_)) and value in (0, 1)


def check_labels(labels, n: int | None = None) -> np.ndarray:
    """0/1 (or False/True) labels with both classes present, else a TextModelError naming the problem."""
    labels = list(labels)
    if n is not None and len(labels) != n:
        raise TextModelError(f"got {n} texts but {len(labels)} labels")
    unknown = sorted({repr(v) for v in labels if not _is_binary(v)})
    if unknown:
        raise TextModelError(f"labels must be 0 or 1; unknown label values: {', '.join(unknown[:5])}")
    y = np.asarray(labels, dtype=int)
    if len(set(y.tolist())) < 2:
        only = "none" if len(y) == 0 else str(y[0])
        raise TextModelError(f"labels hold a single class ({only}): a classifier needs both 0 and 1")
    return y


def check_groups(groups, n: int) -> np.ndarray | None:
    if groups is None:
        return None
    groups = np.asarray([str(g) for g in groups])
    if len(groups) != n:
        raise TextModelError(f"got {n} texts but {len(groups)} group ids")
    return groups


def _holdout(y, groups, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(keep, held) index arrays; by group when groups are given, stratified by label where possible."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    folds = max(2, int(round(1 / share)))
    if groups is None:
        splitter = StratifiedKFold(n_splits=min(folds, int(np.bincount(y).min())), shuffle=True, random_state=seed)
        return next(splitter.split(np.zeros(len(y)), y))
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        raise TextModelError("an account-disjoint split needs posts from at least 2 accounts")
    splitter = StratifiedGroupKFold(n_splits=min(folds, n_groups), shuffle=True, random_state=seed)
    return next(splitter.split(np.zeros(len(y)), y, groups))


def split_indices(y, groups=None, *, test_size=0.2, val_size=0.1, seed=0, account_disjoint=True) -> dict:
    """Train / validation / test indices.

    1. Hold out `test_size` of the posts, by account when `account_disjoint` and group ids are given.
    2. Hold out `val_size` of what is left the same way, for early stopping (0: no validation split).
    3. Refuse a split whose train or test part holds one class: its metrics would mean nothing.
    """
    y = np.asarray(y)
    by_group = groups if account_disjoint else None
    keep, test = _holdout(y, by_group, test_size, seed)
    train, val = keep, keep[:0]
    if val_size > 0:
        inner_keep, inner_val = _holdout(y[keep], None if by_group is None else by_group[keep], val_size, seed + 1)
        train, val = keep[inner_keep], keep[inner_val]
    for name, part in (("train", train), ("test", test)):
        if len(set(y[part].tolist())) < 2:
            raise TextModelError(f"the {name} split holds a single class: too few accounts or posts per class "
                                 "for an account-disjoint split")
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test),
            "account_disjoint": by_group is not None}


def split_summary(split: dict, y, groups=None) -> dict:
    """What the result says about its split: sizes, positives and accounts per part."""
    y = np.asarray(y)
    summary = {"account_disjoint": split["account_disjoint"]}
    for name in ("train", "val", "test"):
        part = split[name]
        summary[name] = {"posts": int(len(part)), "positives": int(y[part].sum()) if len(part) else 0,
                         "accounts": int(len(set(groups[part].tolist()))) if groups is not None else None}
    return summary


def holdout_texts(n: int, share: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, held_out) post indices for a language model: a random `share` held out."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(n * share))
    if cut < 1 or cut >= n:
        raise TextModelError(f"holding out {share:.0%} of {n} posts leaves an empty part: need more posts")
    return np.sort(order[cut:]), np.sort(order[:cut])
