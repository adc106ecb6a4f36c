"""Co-action networks (co-retweet, co-link, co-hashtag, co-mention, co-reply, near-duplicate text).

Two accounts co-act when they act on the same target (the retweeted post, the URL, ...) within a
time window. One pass sorts the posts by (target, time) and walks offsets 1, 2, ... until the
widest window closes, so every same-target pair within the widest window is seen once; each
window of the sweep is then a mask over the pair lags.

Weights follow the coordination-network-toolkit: weight(i→j) = how many of i's posts have a post
by j on the same target within the window (|Δt| ≤ window); the undirected weight adds both ways.

Null model: j's posts land like a random draw from all posts of that action. For i's post a, g_a
is the share of all posts that fall on a's target within the window of a; i then expects
n_j·Σ_a g_a co-actions with j. Viral targets make g large (many organic co-retweets expected);
a group that repeatedly fires on small targets within seconds beats it by orders of magnitude.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._checks import check_choice, check_columns, check_range
from .activity import to_seconds
from .stats import bh_qvalues, poisson_pvalues

ACTIONS = ("repost", "url", "hashtag", "mention", "reply", "text")
DEFAULT_WINDOWS = (1.0, 10.0, 60.0, 600.0, 3600.0)


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
    """Every same-target pair of posts by two accounts within the widest window, for one action."""
    accounts: np.ndarray      # labels
    src: np.ndarray           # directed records: post `post` of account src has partner dst at `lag`
    dst: np.ndarray
    post: np.ndarray
    lag: np.ndarray
    density: np.ndarray       # per post: posts on its target within each window (n_posts × n_windows)
    post_account: np.ndarray
    posts_per_account: np.ndarray
    windows: np.ndarray


def _prepare(posts: pd.DataFrame, action: str) -> pd.DataFrame:
    rows = posts[posts["action"] == action]
    target = rows["target"]
    rows = rows[target.notna() & (target.astype(str).str.strip() != "")]
    return rows


def _pair_offsets(target: np.ndarray, time: np.ndarray, widest: float):
    """Indices (a, b), a < b in (target, time) order, same target and t_b − t_a ≤ widest."""
    alive = np.arange(len(time) - 1)
    firsts, seconds, d = [], [], 1
    while alive.size:
        partner = alive + d
        ok = partner < len(time)
        alive, partner = alive[ok], partner[ok]
        ok = (target[partner] == target[alive]) & (time[partner] - time[alive] <= widest)
        alive, partner = alive[ok], partner[ok]
        firsts.append(alive)
        seconds.append(partner)
        d += 1
    return (np.concatenate(firsts), np.concatenate(seconds)) if firsts else (np.array([], int),) * 2


def coaction_pairs(posts: pd.DataFrame, action: str, windows, accounts=None) -> CoactionPairs:
    """One pass over the posts of one action: all co-action records within max(windows)."""
    check_columns(posts, ("account", "time", "action", "target"), "the co-action table")
    rows = _prepare(posts, action)
    if accounts is None:
        accounts = np.array(sorted(pd.unique(posts["account"]), key=str), dtype=object)
    acc = pd.Index(accounts).get_indexer(rows["account"])
    post_codes = pd.factorize(rows["post_id"])[0] if "post_id" in rows.columns else np.arange(len(rows))
    target = pd.factorize(rows["target"].astype(str))[0]
    time = to_seconds(rows["time"])
    order = np.lexsort((time, target))
    target, time, acc, post_codes = target[order], time[order], acc[order], post_codes[order]
    windows = np.sort(np.asarray(windows, dtype=float))
    a, b = _pair_offsets(target, time, windows[-1])
    lag = time[b] - time[a]
    density = np.zeros((len(time), len(windows)))
    for w_index, w in enumerate(windows):
        close = lag <= w
        density[:, w_index] = np.bincount(a[close], minlength=len(time)) + np.bincount(b[close], minlength=len(time))
    other = acc[a] != acc[b]
    a, b, lag = a[other], b[other], lag[other]
    n_posts = np.bincount(acc, minlength=len(accounts)) if len(acc) else np.zeros(len(accounts), int)
    return CoactionPairs(np.asarray(accounts, dtype=object),
                         np.concatenate([acc[a], acc[b]]), np.concatenate([acc[b], acc[a]]),
                         np.concatenate([post_codes[a], post_codes[b]]), np.concatenate([lag, lag]),
                         density, acc, n_posts, windows)


def _directed_minimal(pairs: CoactionPairs):
    """Per (post, partner account): the smallest lag — a post counts once per partner."""
    n = len(pairs.accounts)
    key = pairs.post.astype(np.int64) * n + pairs.dst
    order = np.lexsort((pairs.lag, key))
    key, first = key[order], np.ones(len(order), bool)
    first[1:] = key[1:] != key[:-1]
    pick = order[first]
    return pairs.src[pick], pairs.dst[pick], pairs.lag[pick]


def directed_weights(pairs: CoactionPairs, window: float, min_weight: int = 1) -> pd.DataFrame:
    """The toolkit's table: user_1, user_2, weight (both directions, no self-loops)."""
    src, dst, lag = _directed_minimal(pairs)
    close = lag <= window
    n = len(pairs.accounts)
    codes, weight = np.unique(src[close].astype(np.int64) * n + dst[close], return_counts=True)
    keep = weight >= min_weight
    return pd.DataFrame({"user_1": pairs.accounts[codes[keep] // n], "user_2": pairs.accounts[codes[keep] % n],
                         "weight": weight[keep]})


def _undirected(pairs: CoactionPairs, minimal, w_index: int, window: float):
    """Undirected weights and null expectations at one window: arrays i < j, weight, expected."""
    src, dst, lag = minimal
    close = lag <= window
    n = len(pairs.accounts)
    lo, hi = np.minimum(src[close], dst[close]), np.maximum(src[close], dst[close])
    codes, weight = np.unique(lo.astype(np.int64) * n + hi, return_counts=True)
    i, j = codes // n, codes % n
    total = max(len(pairs.post_account), 1)
    spread = np.bincount(pairs.post_account, weights=pairs.density[:, w_index] / total, minlength=n)
    expected = spread[i] * pairs.posts_per_account[j] + spread[j] * pairs.posts_per_account[i]
    return i, j, weight.astype(float), expected


def _tested(i, j, weight, expected, n_active: int, config: CoactionConfig) -> pd.DataFrame:
    # One co-action shows up in both directions' weights; testing the doubled count against the
    # doubled expectation would square the evidence, so test one direction's worth.
    p = poisson_pvalues(np.ceil(weight / 2), expected / 2)
    q = bh_qvalues(p, max(n_active * (n_active - 1) // 2, 1))
    frame = pd.DataFrame({"i": i, "j": j, "weight": weight, "expected": expected, "p": p, "q": q})
    frame["significant"] = (frame["q"] <= config.alpha) & (frame["weight"] >= config.min_weight)
    return frame


@dataclass
class CoactionResult:
    accounts: np.ndarray
    edges: pd.DataFrame      # source, target (labels), weight, weight_<action>..., expected, p, q, significant
    sweep: pd.DataFrame      # window, action, edges, accounts, significant_edges, significant_accounts
    pairs: dict              # action -> CoactionPairs (for the evidence drill-down and other windows)
    counts: dict             # {"raw": k, "significant": k}


def _sweep_rows(action, window, frame: pd.DataFrame):
    sig = frame[frame["significant"]]
    return {"action": action, "window": window, "edges": len(frame),
            "accounts": len(np.union1d(frame["i"], frame["j"])), "significant_edges": len(sig),
            "significant_accounts": len(np.union1d(sig["i"], sig["j"]))}


def coaction_network(posts: pd.DataFrame, config: CoactionConfig = CoactionConfig(),
                     on_progress=None) -> CoactionResult:
    """Co-action edges at config.window for every action (and summed), plus the window sweep.

    1. near-duplicate text gets a target: its MinHash cluster;
    2. per action, one pass yields every pair within the widest window;
    3. per window, weights and the null expectation; Poisson test + BH; the sweep table;
    4. the edges at config.window, actions summed (counts and expectations add)."""
    report = on_progress or (lambda fraction, stage: None)
    posts = with_text_targets(posts, config) if "text" in config.actions and "text" in posts.columns else posts
    accounts = np.array(sorted(pd.unique(posts["account"]), key=str), dtype=object)
    windows = tuple(sorted(set(config.windows) | {config.window}))
    sweep, per_action, all_pairs = [], {}, {}
    for step, action in enumerate(config.actions):
        pairs = coaction_pairs(posts, action, windows, accounts)
        all_pairs[action] = pairs
        minimal = _directed_minimal(pairs)
        n_active = int((pairs.posts_per_account > 0).sum())
        for w_index, window in enumerate(pairs.windows):
            frame = _tested(*_undirected(pairs, minimal, w_index, window), n_active, config)
            sweep.append(_sweep_rows(action, window, frame))
            if window == config.window:
                per_action[action] = frame
        report(0.9 * (step + 1) / len(config.actions), f"co-{action}")
    edges, counts = _combine(per_action, accounts, config)
    report(1.0, "done")
    return CoactionResult(accounts, edges, pd.DataFrame(sweep), all_pairs, counts)


def _combine(per_action: dict, accounts, config: CoactionConfig):
    frames = [f.assign(action=a) for a, f in per_action.items() if len(f)]
    if not frames:
        empty = pd.DataFrame(columns=["source", "target", "weight", "expected", "p", "q", "significant"])
        return empty, {"raw": 0, "significant": 0}
    long = pd.concat(frames)
    wide = long.pivot_table(index=["i", "j"], columns="action", values="weight", aggfunc="sum", fill_value=0)
    wide.columns = [f"weight_{a}" for a in wide.columns]
    totals = long.groupby(["i", "j"])[["weight", "expected"]].sum()
    frame = totals.join(wide).reset_index()
    n_active = len(accounts)
    tested = _tested(frame["i"].to_numpy(), frame["j"].to_numpy(), frame["weight"].to_numpy(),
                     frame["expected"].to_numpy(), n_active, config)
    frame[["p", "q", "significant"]] = tested[["p", "q", "significant"]].to_numpy()
    frame["significant"] = frame["significant"].astype(bool)
    counts = {"raw": int((frame["weight"] >= config.min_weight).sum()), "significant": int(frame["significant"].sum())}
    keep = frame["significant"] if config.rule == "significant" else frame["weight"] >= config.min_weight
    frame = frame[keep].copy()
    frame.insert(0, "target", accounts[frame["j"].to_numpy(int)])
    frame.insert(0, "source", accounts[frame["i"].to_numpy(int)])
    return frame.sort_values("weight", ascending=False).reset_index(drop=True), counts


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
        shingle = np.array([hash(s) & 0xFFFFFFFF for s in _shingles(text)], dtype=np.uint64)
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
