"""Co-action pair counting that never holds all the pairs: the kernel `coaction_network` runs in one process and
`dask_engine` runs per time partition.

The posts of one action come in (target, time) order. Walking offsets d = 1, 2, ... from the owned posts yields
every same-target pair (a, b), a before b, within the widest window, one offset at a time (the offset walk of
`coaction._pair_offsets`). Each offset's pairs are folded at once into:

- per window, counts per undirected account pair (key min·n + max): the toolkit's weight summed both ways;
- per window, the distinct (post, partner account) keys of records whose post has several rows (two hashtags):
  such a post counts once per partner, and only the union over all offsets can tell its duplicates;
- per post and window, its partners within the window (the null model's density), as a histogram over the
  narrowest window each pair falls in, summed up the windows at the end.

Memory is then the distinct account pairs, one offset's pairs and a bounded buffer: at 200,000 posts and a 1-hour
window, 10 M pairs are never held at once. The counts are integers, so any partitioning sums to the same values.
"""
from __future__ import annotations

import numpy as np

BUFFER_KEYS = 2_000_000   # keys gathered before they are sorted into a tally (16 MB)
BUFFER_CODES = 8_000_000  # density codes gathered before one bincount


class Tally:
    """Counts per int64 key, kept sorted and distinct; keys arrive in batches (a count of 1 each, or given)."""

    def __init__(self, budget: int = BUFFER_KEYS):
        self.keys = np.zeros(0, np.int64)
        self.counts = np.zeros(0, np.int64)
        self._pending, self._size, self._budget = [], 0, budget

    def add(self, keys: np.ndarray, counts: np.ndarray | None = None) -> None:
        if len(keys):
            self._pending.append((np.asarray(keys, np.int64), counts))
            self._size += len(keys)
            if self._size >= self._budget:
                self.fold()

    def fold(self) -> Tally:
        """Sort the pending keys into the tally; returns self (keys and counts are then complete)."""
        if not self._pending:
            return self
        keys = np.concatenate([k for k, _ in self._pending])
        if all(c is None for _, c in self._pending):
            keys.sort()
            counts = None
        else:
            counts = np.concatenate([np.ones(len(k), np.int64) if c is None else c for k, c in self._pending])
            order = np.argsort(keys, kind="stable")
            keys, counts = keys[order], counts[order]
        self._pending, self._size = [], 0
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        summed = np.diff(np.r_[starts, len(keys)]) if counts is None else np.add.reduceat(counts, starts)
        self._merge(keys[starts], summed.astype(np.int64))
        return self

    def _merge(self, keys: np.ndarray, counts: np.ndarray) -> None:
        """Merge distinct sorted keys: add where present, insert (in order) where new."""
        if not len(self.keys):
            self.keys, self.counts = keys, counts
            return
        at = np.searchsorted(self.keys, keys)
        found = at < len(self.keys)
        found[found] = self.keys[at[found]] == keys[found]
        self.counts[at[found]] += counts[found]
        new = ~found
        self.keys = np.insert(self.keys, at[new], keys[new])
        self.counts = np.insert(self.counts, at[new], counts[new])


def tally_partition(arrays: dict, owned: np.ndarray, windows: np.ndarray, n_accounts: int) -> dict:
    """Every pair whose first post is owned, folded per offset (see the module docstring).

    `arrays`: target, time, acc, post, gap, repeated, one entry per post in (target, time) order; the partners of
    an owned post are the later posts of these arrays (a partition holds each owned post's whole widest window).
    Returns per window "keys"/"counts" (undirected account pairs, without the several-row posts' records) and
    "seen" (distinct post·n + partner keys of those), and "density" (posts × windows partner counts)."""
    target, time = arrays["target"], arrays["time"]
    n, widest = len(time), windows[-1]
    state = {
        "pairs": [Tally() for _ in windows],
        "seen": [Tally() for _ in windows],
        "hist": np.zeros(n * len(windows), np.int64),
        "codes": [],
        "n_codes": 0,
    }
    alive, d = np.asarray(owned, np.int64), 1
    while alive.size:
        partner = alive + d
        ok = partner < n
        alive, partner = alive[ok], partner[ok]
        ok = (target[partner] == target[alive]) & (time[partner] - time[alive] <= widest)
        alive, partner = alive[ok], partner[ok]
        if alive.size:
            _fold_offset(arrays, alive, partner, windows, n_accounts, state)
        d += 1
    _flush_codes(state)
    density = np.cumsum(state["hist"].reshape(n, len(windows)), axis=1)
    return {
        "keys": [t.fold().keys for t in state["pairs"]],
        "counts": [t.counts for t in state["pairs"]],
        "seen": [t.fold().keys for t in state["seen"]],
        "density": density,
    }


def _fold_offset(arrays: dict, a: np.ndarray, b: np.ndarray, windows, n_accounts: int, state: dict) -> None:
    """One offset's pairs into the tallies: a record a→b counts when b is its account's first post in a's window
    (the partner's previous post on the target lies outside it), b→a likewise (`coaction._counted`)."""
    lag = arrays["time"][b] - arrays["time"][a]
    narrowest = np.searchsorted(windows, lag)  # the first window with lag <= window
    nw = len(windows)
    state["codes"] += [a * nw + narrowest, b * nw + narrowest]
    state["n_codes"] += 2 * len(a)
    if state["n_codes"] >= BUFFER_CODES:
        _flush_codes(state)
    acc_a, acc_b = arrays["acc"][a], arrays["acc"][b]
    other = acc_a != acc_b
    a, b, lag, acc_a, acc_b = a[other], b[other], lag[other], acc_a[other], acc_b[other]
    if not len(a):
        return
    key = np.minimum(acc_a, acc_b).astype(np.int64) * n_accounts + np.maximum(acc_a, acc_b)
    gap_a, gap_b = arrays["gap"][a], arrays["gap"][b]
    rep_a, rep_b = arrays["repeated"][a], arrays["repeated"][b]
    several = rep_a.any() or rep_b.any()
    for w_index, window in enumerate(windows):
        close = lag <= window
        if not close.any():
            continue
        forward = close & (gap_b - lag > window)
        backward = close & (gap_a + lag > window)
        if several:
            state["seen"][w_index].add(np.concatenate([
                arrays["post"][a[forward & rep_a]].astype(np.int64) * n_accounts + acc_b[forward & rep_a],
                arrays["post"][b[backward & rep_b]].astype(np.int64) * n_accounts + acc_a[backward & rep_b],
            ]))
            forward, backward = forward & ~rep_a, backward & ~rep_b
        state["pairs"][w_index].add(np.concatenate([key[forward], key[backward]]))


def _flush_codes(state: dict) -> None:
    if state["codes"]:
        state["hist"] += np.bincount(np.concatenate(state["codes"]), minlength=len(state["hist"]))
        state["codes"], state["n_codes"] = [], 0


def seen_pairs(seen: np.ndarray, post_account: np.ndarray, n_accounts: int) -> np.ndarray:
    """Undirected account pair keys of distinct (post, partner) records: one count each."""
    src, dst = post_account[seen // n_accounts], seen % n_accounts
    return np.minimum(src, dst).astype(np.int64) * n_accounts + np.maximum(src, dst)
