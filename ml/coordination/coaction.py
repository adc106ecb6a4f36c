"""Co-action networks (co-retweet, co-link, co-hashtag, co-mention, co-reply, near-duplicate text).

Two accounts co-act when they act on the same target (the retweeted post, the URL, ...) within a
time window. One pass sorts the posts by (target, time) and walks offsets 1, 2, ... until the
widest window closes, so every same-target pair within the widest window is seen once; each
window of the sweep is then a mask over the pair lags. The network folds each offset's pairs into
per-window tallies as it walks (`pair_tally`), so the pairs are never all held; past a size the walk
runs per time partition on a Dask cluster (`dask_engine`) with the same counts.

Weights follow the coordination-network-toolkit: weight(i→j) = how many of i's posts have a post
by j on the same target within the window (|Δt| ≤ window); the undirected weight adds both ways.
A post counts once per partner however many of the partner's posts fall in its window: of those,
only the first (in (target, time) order) counts, and a partner post p is the first in the window of
a post s exactly when the partner's previous post on that target, `gap` seconds before p, lies
outside it: t_s − (t_p − gap) > window. So the counting is a mask over the pairs, with no sort or
deduplication of pairs; posts with several targets (two hashtags) deduplicate their few records.

Null model: j's posts land like a random draw from all posts of that action. For i's post a, g_a
is the share of all posts that fall on a's target within the window of a; i then expects
n_j·Σ_a g_a co-actions with j. Viral targets make g large (many organic co-retweets expected);
a group that repeatedly fires on small targets within seconds beats it by orders of magnitude.
"""
from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.checks import check_choice, check_columns, check_range

from .activity import to_seconds
from .pair_tally import Tally, seen_pairs, tally_partition
from .stats import bh_qvalues, poisson_candidates, poisson_pvalues

ACTIONS = ("repost", "url", "hashtag", "mention", "reply", "text")
DEFAULT_WINDOWS = (1.0, 10.0, 60.0, 600.0, 3600.0)
CHUNK = 1_000_000  # account pairs per slice of the elementwise passes


@dataclass(frozen=True)
class CoactionConfig:
    actions: tuple = ACTIONS
    window: float = 60.0                  # seconds, the window of the returned edges
    windows: tuple = DEFAULT_WINDOWS      # the sweep
    rule: str = "significant"             # "raw": every pair with weight >= min_weight
    alpha: float = 0.05
    min_weight: int = 1
    text_threshold: float = 0.8           # Jaccard of word 3-shingles for near-duplicate text
    text_hashes: int = 32                 # MinHash permutations (bands of 4 rows)
    seed: int = 0

    def __post_init__(self):
        check_range("window", self.window, 0, None)
        for w in self.windows:
            check_range("windows", w, 0, None)
        check_choice("rule", self.rule, ("significant", "raw"))
        check_range("alpha", self.alpha, 0, 1, low_open=True, high_open=True)
        check_range("min_weight", self.min_weight, 1, None)
        check_range("text_threshold", self.text_threshold, 0, 1, low_open=True)
        check_range("text_hashes", self.text_hashes, 4, 1024)
        for action in self.actions:
            check_choice("actions", action, ACTIONS)


@dataclass
class CoactionPairs:
    """Every same-target pair of posts by two accounts within the widest window, for one action.

    Posts are indexed in (target, time) order; a pair (first, second) has first before second."""
    accounts: np.ndarray      # labels
    first: np.ndarray         # int32 post indices
    second: np.ndarray
    lag: np.ndarray           # t[second] − t[first] >= 0
    gap: np.ndarray           # per post: seconds since its account's previous post on the target (inf: none)
    post_account: np.ndarray  # per post: account code
    post: np.ndarray          # per post: post id code (a post with two targets has two rows)
    repeated: np.ndarray      # per post: its post id has other rows in this action
    density: np.ndarray       # per post: posts on its target within each window (n_posts × n_windows)
    posts_per_account: np.ndarray
    windows: np.ndarray


def _prepare(posts: pd.DataFrame, action: str) -> dict:
    """Arrays of the rows of one action with a non-empty target, and their target codes.

    Factorising first and testing emptiness on the distinct values keeps string work off the rows;
    plain arrays rather than a filtered frame keep the copies down."""
    rows = np.flatnonzero(posts["action"].to_numpy(object) == action)
    codes, values = pd.factorize(posts["target"].to_numpy(object)[rows])
    empty = np.flatnonzero(pd.Series(values, dtype=object).astype(str).str.strip().to_numpy(object) == "")
    keep = (codes >= 0) & ~np.isin(codes, empty)
    rows = rows[keep]
    post_id = posts["post_id"].to_numpy()[rows] if "post_id" in posts.columns else None
    return {"target": codes[keep], "account": posts["account"].to_numpy()[rows],
            "time": to_seconds(posts["time"].to_numpy()[rows]), "post_id": post_id}


def _sortable(parts, sizes) -> np.ndarray | None:
    """One int64 key ordering rows by parts[0], then parts[1], ... (each in [0, size)); None if it would overflow."""
    if float(np.prod([float(s) for s in sizes])) >= 2.0 ** 62:
        return None
    key = np.zeros(len(parts[0]), np.int64)
    for part, size in zip(parts, sizes):
        key = key * np.int64(size) + part.astype(np.int64)
    return key


def _order(target: np.ndarray, time: np.ndarray) -> np.ndarray:
    """(target, time) order. One unstable integer argsort when the times are whole seconds (the usual case;
    vectorised sorts are several times faster than the stable ones); ties may come in any order, since every
    later step reads the order it is given."""
    if len(time) and np.all(np.isfinite(time)) and np.array_equal(time, np.floor(time)):
        low = time.min()
        key = _sortable([target, time - low], [target.max() + 1, time.max() - low + 1])
        if key is not None:
            return np.argsort(key)
    return np.lexsort((time, target))


def _gaps(target: np.ndarray, acc: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Per post (in (target, time) order): time since the same account's previous post on the target."""
    n = len(time)
    position = np.arange(n)
    key = _sortable([target, acc, position], [target.max() + 1, acc.max() + 1, n]) if n else None
    order = np.argsort(key) if key is not None else np.lexsort((position, acc, target))
    gap = np.full(n, np.inf)
    same = (target[order[1:]] == target[order[:-1]]) & (acc[order[1:]] == acc[order[:-1]])
    gap[order[1:][same]] = time[order[1:][same]] - time[order[:-1][same]]
    return gap


def _pair_offsets(target: np.ndarray, time: np.ndarray, widest: float):
    """Indices (a, b), a < b in (target, time) order, same target and t_b − t_a ≤ widest."""
    alive = np.arange(len(time) - 1, dtype=np.int32)
    firsts, seconds, d = [], [], 1
    while alive.size:
        partner = alive + np.int32(d)
        ok = partner < len(time)
        alive, partner = alive[ok], partner[ok]
        ok = (target[partner] == target[alive]) & (time[partner] - time[alive] <= widest)
        alive, partner = alive[ok], partner[ok]
        firsts.append(alive)
        seconds.append(partner)
        d += 1
    empty = np.array([], np.int32)
    return (np.concatenate(firsts), np.concatenate(seconds)) if firsts else (empty, empty)


def _action_posts(posts: pd.DataFrame, action: str, accounts=None) -> dict:
    """The rows of one action in (target, time) order: target, time, acc (account codes), post (post id codes),
    gap (seconds since the account's previous post on the target), repeated (the post id has other rows here),
    and the account labels. `accounts` fixes the codes (every action of a network shares them)."""
    check_columns(posts, ("account", "time", "action", "target"), "the co-action table")
    rows = _prepare(posts, action)
    if accounts is None:
        acc, accounts = pd.factorize(rows["account"])
    else:
        acc = pd.Index(accounts).get_indexer(rows["account"])
    acc = acc.astype(np.int32)
    post_codes = pd.factorize(rows["post_id"])[0] if rows["post_id"] is not None else np.arange(len(acc))
    target, time = rows["target"], rows["time"]
    order = _order(target, time)
    target, time, acc, post_codes = target[order], time[order], acc[order], post_codes[order]
    repeated = np.bincount(post_codes)[post_codes] > 1 if len(post_codes) else np.zeros(0, bool)
    return {"target": target, "time": time, "acc": acc, "post": post_codes, "gap": _gaps(target, acc, time),
            "repeated": repeated, "accounts": np.asarray(accounts)}


def _posts_per_account(arrays: dict) -> np.ndarray:
    n = len(arrays["accounts"])
    return np.bincount(arrays["acc"], minlength=n) if len(arrays["acc"]) else np.zeros(n, int)


def coaction_pairs(posts: pd.DataFrame, action: str, windows, accounts=None) -> CoactionPairs:
    """One pass over the posts of one action: all co-action pairs within max(windows).

    `accounts` fixes the account codes (every action of a network shares them); without it the
    accounts are those of this action, in order of appearance. `coaction_network` does not hold these
    pairs (it tallies them as they come, `pair_tally`); this is for the directed table and other windows."""
    arrays = _action_posts(posts, action, accounts)
    target, time, acc = arrays["target"], arrays["time"], arrays["acc"]
    windows = np.sort(np.asarray(windows, dtype=float))
    a, b = _pair_offsets(target, time, windows[-1])
    lag = time[b] - time[a]
    density = np.zeros((len(time), len(windows)))
    for w_index, w in enumerate(windows):
        close = lag <= w
        density[:, w_index] = np.bincount(a[close], minlength=len(time)) + np.bincount(b[close], minlength=len(time))
    other = acc[a] != acc[b]
    return CoactionPairs(arrays["accounts"], a[other], b[other], lag[other], arrays["gap"], acc, arrays["post"],
                         arrays["repeated"], density, _posts_per_account(arrays), windows)


def _counted(pairs: CoactionPairs, window: float):
    """Directed records (source account, partner account) at one window: one per (source post, partner).

    Record first→second counts when second is its account's first post in first's window, and
    second→first when first is; posts with several rows keep one record per (post, partner)."""
    first, second, lag, gap = pairs.first, pairs.second, pairs.lag, pairs.gap
    close = lag <= window
    forward = close & (gap[second] - lag > window)
    backward = close & (gap[first] + lag > window)
    src = np.concatenate([first[forward], second[backward]])
    dst = np.concatenate([second[forward], first[backward]])
    if pairs.repeated.any():
        src, dst = _one_per_post(pairs, src, dst)
    return pairs.post_account[src], pairs.post_account[dst]


def _one_per_post(pairs: CoactionPairs, src: np.ndarray, dst: np.ndarray):
    """A post with two targets (two hashtags) that meets the partner on both counts once."""
    multi = pairs.repeated[src]
    n = len(pairs.accounts)
    key = pairs.post[src[multi]].astype(np.int64) * n + pairs.post_account[dst[multi]]
    _, keep = np.unique(key, return_index=True)
    pick = np.concatenate([np.flatnonzero(~multi), np.flatnonzero(multi)[keep]])
    return src[pick], dst[pick]


def _summed(rows: np.ndarray, cols: np.ndarray, n: int):
    """Counts per distinct (row, col), in (row, col) order: one vectorised sort of int64 keys."""
    key = np.sort(rows.astype(np.int64) * n + cols)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.array([], np.int64)
    counts = np.diff(np.r_[starts, len(key)])
    return key[starts] // n, key[starts] % n, counts


def directed_weights(pairs: CoactionPairs, window: float, min_weight: int = 1) -> pd.DataFrame:
    """The toolkit's table: user_1, user_2, weight (both directions, no self-loops)."""
    src, dst = _counted(pairs, window)
    i, j, weight = _summed(src, dst, len(pairs.accounts))
    keep = weight >= min_weight
    return pd.DataFrame({"user_1": pairs.accounts[i[keep]], "user_2": pairs.accounts[j[keep]], "weight": weight[keep]})


def _local_tally(arrays: dict, windows: np.ndarray, n_accounts: int) -> dict:
    """Every pair of one action tallied in this process: one partition that owns every post."""
    return tally_partition(arrays, np.arange(len(arrays["time"])), windows, n_accounts)


def _window_pairs(arrays: dict, tally: dict, w_index: int, n: int):
    """Undirected weights and null expectations at one window: pair keys i·n + j (i < j, sorted), counts, expected.

    The null: for i's post a, g_a = the share of all posts on a's target within the window of a;
    i expects n_j·Σ_a g_a co-actions with j (and j likewise with i). The window's tally is released here."""
    keys, counts = tally["keys"][w_index], tally["counts"][w_index]
    tally["keys"][w_index] = tally["counts"][w_index] = None
    if len(tally["seen"][w_index]):  # posts with several rows: one count per (post, partner)
        post_account = np.zeros(int(arrays["post"].max()) + 1, np.int64)
        post_account[arrays["post"]] = arrays["acc"]
        merged = Tally()
        merged.add(keys, counts)
        merged.add(seen_pairs(tally["seen"][w_index], post_account, n))
        keys, counts = merged.fold().keys, merged.counts
    total = max(len(arrays["acc"]), 1)
    spread = np.bincount(arrays["acc"], weights=tally["density"][:, w_index] / total, minlength=n)
    per_account = _posts_per_account(arrays)
    expected = np.empty(len(keys))
    for lo, hi, i, j in _chunks(keys, n):
        expected[lo:hi] = spread[i] * per_account[j] + spread[j] * per_account[i]
    return keys, counts, expected


def _chunks(keys: np.ndarray, n: int):
    """(lo, hi, i, j) over slices of CHUNK pair keys: elementwise work on 10 M pairs without 10 M-long temporaries."""
    for lo in range(0, len(keys), CHUNK):
        part = keys[lo:lo + CHUNK]
        yield lo, lo + len(part), part // n, part % n


def _test(counts: np.ndarray, expected: np.ndarray, n_active: int, config: CoactionConfig, everything: bool):
    """Poisson test of one direction's worth, then BH over all n_active·(n_active−1)/2 pairs.

    One co-action shows up in both directions' weights; testing the doubled count against the doubled
    expectation would square the evidence. `everything`: p and q of every pair (rows = all); else only of the
    pairs that can reach p <= alpha (rows = those): q-values at or below alpha are exact over them (bh_qvalues),
    so the significant pairs and their p and q are those of the full test. Returns rows, p, q, significant."""
    if everything:
        rows = np.arange(len(counts))
    else:
        rows = np.concatenate([np.zeros(0, np.int64)] + [
            lo + np.flatnonzero(poisson_candidates(np.ceil(counts[lo:lo + CHUNK] / 2), expected[lo:lo + CHUNK] / 2,
                                                   config.alpha))
            for lo in range(0, len(counts), CHUNK)
        ])
    p = poisson_pvalues(np.ceil(counts[rows] / 2), expected[rows] / 2)
    q = bh_qvalues(p, max(n_active * (n_active - 1) // 2, 1))
    return rows, p, q, (q <= config.alpha) & (counts[rows] >= config.min_weight)


def _sweep_row(action, window, keys, counts, expected, n_active: int, n: int, config: CoactionConfig) -> dict:
    """A window of the sweep needs counts only: the exact test runs on the pairs that can reach p <= alpha."""
    rows, _, _, significant = _test(counts, expected, n_active, config, everything=False)
    sig = keys[rows[significant]]
    active = np.zeros(n, bool)
    for _, _, i, j in _chunks(keys, n):
        active[i] = active[j] = True
    return {"action": action, "window": window, "edges": len(keys), "accounts": int(active.sum()),
            "significant_edges": len(sig), "significant_accounts": len(np.union1d(sig // n, sig % n))}


@dataclass
class CoactionResult:
    accounts: np.ndarray
    edges: pd.DataFrame      # source, target (labels), weight, weight_<action>..., expected, p, q, significant
    sweep: pd.DataFrame      # window, action, edges, accounts, significant_edges, significant_accounts
    pairs: Mapping           # action -> CoactionPairs, computed on access (for the evidence and other windows)
    counts: dict             # {"raw": k, "significant": k}
    action_edges: dict = None   # action -> that action's own network under the rule (its own test)
    action_counts: dict = None  # action -> {"raw": k, "significant": k}
    engine: str = "local"       # where the pairs were tallied: "local" or "dask"


class LazyPairs(Mapping):
    """action -> `coaction_pairs` at the network's windows, built when asked for: a network run never holds
    every pair of the widest window (10 M at 200,000 posts and 1 h), a caller that wants them still can."""

    def __init__(self, posts: pd.DataFrame, actions: tuple, windows: tuple, accounts: np.ndarray):
        self._posts, self._actions, self._windows, self._accounts = posts, tuple(actions), windows, accounts

    def __getitem__(self, action: str) -> CoactionPairs:
        if action not in self._actions:
            raise KeyError(action)
        return coaction_pairs(self._posts, action, self._windows, self._accounts)

    def __iter__(self):
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)


def coaction_network(posts: pd.DataFrame, config: CoactionConfig = CoactionConfig(), on_progress=None, *,
                     dask_threshold: int | None = None, dask_client=None) -> CoactionResult:
    """Co-action edges at config.window for every action (and summed), plus the window sweep.

    1. near-duplicate text gets a target: its MinHash cluster;
    2. per action, the posts in (target, time) order and one walk over every pair within the widest window,
       tallied per window as it goes (`pair_tally`): in this process, or partitioned by time on a Dask cluster
       when the table has more than `dask_threshold` rows (`dask_client`: a distributed.Client, a scheduler
       address, or None for a 2-worker in-process cluster); both give the same counts;
    3. per window, weights and the null expectation; Poisson test + BH; the sweep table;
    4. the edges at config.window, actions summed (counts and expectations add)."""
    report = on_progress or (lambda fraction, stage: None)
    posts = with_text_targets(posts, config) if "text" in config.actions and "text" in posts.columns else posts
    accounts = np.array(sorted(pd.unique(posts["account"]), key=str), dtype=object)
    windows = tuple(sorted(set(config.windows) | {config.window}))
    if dask_threshold is not None and len(posts) > dask_threshold:
        from .dask_engine import dask_session

        with dask_session(dask_client) as tally:
            return _network(posts, config, accounts, windows, tally, report, "dask")
    return _network(posts, config, accounts, windows, _local_tally, report, "local")


def _network(posts, config: CoactionConfig, accounts, windows: tuple, tally, report, engine: str) -> CoactionResult:
    sweep, per_action, n = [], {}, len(accounts)
    for step, action in enumerate(config.actions):
        arrays = _action_posts(posts, action, accounts)
        counted = tally(arrays, np.asarray(windows, dtype=float), n)
        n_active = int((_posts_per_account(arrays) > 0).sum())
        for w_index, window in enumerate(windows):
            pairs = _window_pairs(arrays, counted, w_index, n)
            sweep.append(_sweep_row(action, float(window), *pairs, n_active, n, config))
            if window == config.window:
                per_action[action] = (*pairs, n_active)
            del pairs
        del counted
        report(0.9 * (step + 1) / len(config.actions), f"co-{action}")
    edges, counts = _combine(per_action, accounts, config)
    action_edges, action_counts = {}, {}
    for action, (keys, weight, expected, n_active) in per_action.items():
        action_edges[action], action_counts[action] = _labelled(keys, weight, expected, n_active, accounts, config)
    report(1.0, "done")
    pairs = LazyPairs(posts, config.actions, windows, accounts)
    return CoactionResult(accounts, edges, pd.DataFrame(sweep), pairs, counts, action_edges, action_counts, engine)


def _kept(counts, expected, n_active: int, config: CoactionConfig):
    """The tested rows the rule keeps (in pair order), their p, q and flags, and the network's counts."""
    rows, p, q, significant = _test(counts, expected, n_active, config, everything=config.rule == "raw")
    raw = int((counts >= config.min_weight).sum())
    keep = significant if config.rule == "significant" else counts[rows] >= config.min_weight
    return rows[keep], {"p": p[keep], "q": q[keep], "significant": significant[keep]}, {
        "raw": raw, "significant": int(significant.sum())}


def _edge_frame(columns: dict, accounts) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame.insert(0, "target", accounts[frame["j"].to_numpy(int)])
    frame.insert(0, "source", accounts[frame["i"].to_numpy(int)])
    return frame.sort_values("weight", ascending=False).reset_index(drop=True)


def _labelled(keys, counts, expected, n_active: int, accounts, config: CoactionConfig):
    """One action's tested pairs as edges under the rule (source, target labels; strongest first), and its counts."""
    rows, tested, network_counts = _kept(counts, expected, n_active, config)
    n = len(accounts)
    columns = {"i": keys[rows] // n, "j": keys[rows] % n, "weight": counts[rows].astype(float),
               "expected": expected[rows], **tested}
    return _edge_frame(columns, accounts), network_counts


def _combine(per_action: dict, accounts, config: CoactionConfig):
    """Actions summed per account pair (in pair order), tested again over every pair of accounts.

    Sums run in the actions' order with pandas' compensated (Kahan) summation, so the expectations equal those
    a pandas group-by of the actions' rows gives, to the last bit."""
    present = {a: arrays for a, arrays in per_action.items() if len(arrays[0])}
    if not present:
        empty = pd.DataFrame(columns=["source", "target", "weight", "expected", "p", "q", "significant"])
        return empty, {"raw": 0, "significant": 0}
    n = len(accounts)
    union = np.unique(np.concatenate([a[0] for a in present.values()])) if len(present) > 1 else None
    if union is None:  # one action: its sums are its own values
        keys, counts, expected, _ = next(iter(present.values()))
        union, weight = keys, counts.astype(float)
    else:
        weight, expected = _kahan_sums(union, present)
    rows, tested, network_counts = _kept(weight, expected, n, config)
    wide = {}
    for action in sorted(present):
        column = np.zeros(len(rows))
        keys = present[action][0]
        at = np.minimum(np.searchsorted(keys, union[rows]), max(len(keys) - 1, 0))
        hit = keys[at] == union[rows]
        column[hit] = present[action][1][at[hit]]
        wide[f"weight_{action}"] = column
    columns = {"i": union[rows] // n, "j": union[rows] % n, "weight": weight[rows], "expected": expected[rows],
               **wide, **tested}
    return _edge_frame(columns, accounts), network_counts


def _kahan_sums(union: np.ndarray, present: dict):
    """Per pair of `union`: weight and expectation summed over the actions in order, as pandas' group_sum does."""
    sums = [np.zeros(len(union)), np.zeros(len(union))]
    compensation = [np.zeros(len(union)), np.zeros(len(union))]
    for keys, counts, expected, _ in present.values():
        at = np.searchsorted(union, keys)
        for column, values in enumerate((counts.astype(float), expected)):
            total, comp = sums[column], compensation[column]
            y = values - comp[at]
            t = total[at] + y
            comp[at] = np.where(np.isnan(t - total[at] - y), 0.0, t - total[at] - y)
            total[at] = t
    return sums[0], sums[1]


def with_text_targets(posts: pd.DataFrame, config: CoactionConfig) -> pd.DataFrame:
    """Give each "text" action a target: the id of its near-duplicate cluster (MinHash LSH)."""
    text_rows = posts["action"] == "text"
    if not text_rows.any():
        return posts
    labels = near_duplicate_clusters(posts.loc[text_rows, "text"].fillna("").astype(str).tolist(),
                                     threshold=config.text_threshold, n_hashes=config.text_hashes, seed=config.seed)
    posts = posts.copy()
    posts["target"] = posts["target"].astype(object)
    posts.loc[text_rows, "target"] = np.where(labels >= 0, "text:" + labels.astype(str), None)
    return posts


def _shingles(text: str) -> set:
    words = text.lower().split()
    return {" ".join(words[k:k + 3]) for k in range(max(len(words) - 2, 1))} if words else set()


def near_duplicate_clusters(texts: list, *, threshold: float = 0.8, n_hashes: int = 32, seed: int = 0) -> np.ndarray:
    """Cluster label per text (−1 for empty): texts whose MinHash signatures agree on at least
    `threshold` of the hashes and share an LSH band are joined, then connected components."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(seed)
    prime = np.uint64((1 << 61) - 1)
    a = rng.integers(1, 1 << 30, n_hashes, dtype=np.uint64)
    b = rng.integers(0, 1 << 30, n_hashes, dtype=np.uint64)
    signatures = np.full((len(texts), n_hashes), np.iinfo(np.uint64).max, dtype=np.uint64)
    for row, text in enumerate(texts):
        # zlib.crc32, not hash(): Python salts str hashes per process, which made the clusters (and the co-action
        # text edges) differ from one run, or one worker, to the next.
        shingle = np.array([zlib.crc32(s.encode("utf-8")) for s in _shingles(text)], dtype=np.uint64)
        if shingle.size:
            signatures[row] = ((np.outer(shingle, a) + b) % prime).min(axis=0)
    empty = np.array([not _shingles(t) for t in texts])
    rows_per_band = 4
    first, second = [], []
    for band in range(n_hashes // rows_per_band):
        block = signatures[:, band * rows_per_band:(band + 1) * rows_per_band]
        _, bucket = np.unique(block, axis=0, return_inverse=True)
        order = np.argsort(bucket.ravel(), kind="stable")
        same = bucket.ravel()[order][1:] == bucket.ravel()[order][:-1]
        first.append(order[:-1][same])
        second.append(order[1:][same])
    first, second = np.concatenate(first), np.concatenate(second)
    agree = (signatures[first] == signatures[second]).mean(axis=1) >= threshold
    keep = agree & ~empty[first] & ~empty[second]
    graph = sparse.coo_matrix((np.ones(keep.sum()), (first[keep], second[keep])), shape=(len(texts),) * 2)
    labels = connected_components(graph, directed=False)[1]
    labels[empty] = -1
    return labels
