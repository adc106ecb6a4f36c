"""Influence-model coordination between all pairs of accounts, with sparse products (seed 002 §4.2, §5.1).

For one entity and the pair (i, j), A_ij is the 2×2 maximum-likelihood matrix of j's status at k
given i's status at k−1, and the coordination measure is the Frobenius inner product of A_ij with
the identity subtracted from 2... which reduces to M = A01 + A10 ∈ [0, 2] (0 = j copies i).
With n1 = bins where i leads, nj = bins where j follows and c = bins with both (i at k−1, j at k):

    M = (nj − c) / (T−1−n1) + 1 − c / n1

so the sum of M over entities needs only c (one sparse product over (entity, bin) columns),
c weighted by 1/n1 + 1/(T−1−n1) (the same product with weighted rows) and products of
account×entity totals. Never a loop over pairs; rows go in blocks so memory stays bounded.

M is averaged over the entities both accounts are active in (i leading, j following); where i is
never active in an entity its row of A_ij is undefined (the package fills it with zeros, which
would make two silent accounts look perfectly coordinated), so those entities do not count.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ._checks import check_choice, check_range
from .activity import Activity, build_activity, to_seconds
from .stats import bh_qvalues, poisson_pvalues

RULES = ("significant", "paper")


@dataclass(frozen=True)
class InfluenceConfig:
    bin_seconds: float = 3600.0          # the paper's 1-hour bins
    entity_types: tuple = ("hashtag", "url", "mention")
    exclude_entities: tuple = ()         # the search terms used to collect the data, e.g. ("hashtag:xinjiang",)
    min_posts: int = 1                   # the paper keeps accounts with >= 60 posts
    rule: str = "significant"            # "paper": every M < 1 is an edge
    alpha: float = 0.05                  # false-discovery rate of the significant edges
    block_cells: int = 4_000_000         # pairs per block; bounds memory at ~50 bytes per cell
    start: float | None = None           # the time grid; default: first to last event
    end: float | None = None

    def __post_init__(self):
        check_range("bin_seconds", self.bin_seconds, 0, None, low_open=True)
        check_range("min_posts", self.min_posts, 1, None)
        check_range("alpha", self.alpha, 0, 1, low_open=True, high_open=True)
        check_range("block_cells", self.block_cells, 1, None)
        check_choice("rule", self.rule, RULES)
        if not self.entity_types:
            raise ValueError("entity_types must name at least one entity type, got ()")


@dataclass
class InfluenceResult:
    accounts: np.ndarray                 # labels, in the order of the account codes
    edges: pd.DataFrame                  # the averaged network under `rule`
    type_edges: dict                     # entity type -> its own network under `rule`
    counts: dict                         # network -> {"pairs", "paper", "significant"}
    rule: str
    alpha: float
    activity: Activity | None = field(default=None, repr=False)


@dataclass
class _Operands:
    """Everything the block products need for one entity type."""
    lead: sparse.csr_matrix      # account × (entity, bin k): i active at k−1
    lead_w: sparse.csr_matrix    # the same, valued 1/n1 + 1/(T−1−n1)
    follow_t: sparse.csr_matrix  # (entity, bin k) × account: j active at k
    inv_off: sparse.csr_matrix   # account × entity: 1/(T−1−n1) where i leads
    leads: sparse.csr_matrix     # account × entity: 1 where i leads
    rate: sparse.csr_matrix      # account × entity: n1/(T−1), the null's chance per bin
    follows_t: sparse.csr_matrix  # entity × account: nj
    present_t: sparse.csr_matrix  # entity × account: 1 where j follows


def select_accounts(events: pd.DataFrame, config: InfluenceConfig) -> np.ndarray:
    """Accounts with at least min_posts posts (distinct post_id when given, else events)."""
    if "post_id" in events.columns:
        posts = events.drop_duplicates(["account", "post_id"])["account"]
    else:
        posts = events["account"]
    counts = posts.value_counts()
    return np.array(sorted(counts.index[counts >= config.min_posts], key=str), dtype=object)


def filter_events(events: pd.DataFrame, config: InfluenceConfig) -> pd.DataFrame:
    keep = events["entity_type"].isin(config.entity_types) & ~events["entity"].isin(config.exclude_entities)
    keep &= events["entity"].notna() & (events["entity"].astype(str) != "")
    return events[keep]


def _operands(activity: Activity, entity_mask: np.ndarray) -> _Operands:
    T, n, E = activity.n_bins, len(activity.accounts), len(activity.entities)
    rows = entity_mask[activity.entity]
    acc, ent, k = activity.account[rows], activity.entity[rows], activity.bin[rows]
    lead, follow = k <= T - 2, k >= 1
    keys, inverse = np.unique(np.concatenate([ent[lead] * T + k[lead] + 1, ent[follow] * T + k[follow]]),
                              return_inverse=True)
    lead_col, follow_col = inverse[: lead.sum()], inverse[lead.sum():]
    pair_key = acc[lead] * E + ent[lead]
    _, per_row, n1 = np.unique(pair_key, return_inverse=True, return_counts=True)
    n1_row = n1[per_row].astype(float)
    off = T - 1 - n1_row
    inv_off_row = np.divide(1.0, off, out=np.zeros_like(off), where=off > 0)
    weight = 1.0 / n1_row + inv_off_row
    shape = (n, len(keys))
    csr = lambda v, r, c, s: sparse.csr_matrix((v, (r, c)), shape=s)
    ones = np.ones(lead.sum())
    # Duplicate (account, entity) rows sum in csr: divide the per-row values by n1 so each total is right.
    by_entity = lambda v: csr(v / n1_row, acc[lead], ent[lead], (n, E))
    follow_ones = np.ones(follow.sum())
    return _Operands(
        lead=csr(ones, acc[lead], lead_col, shape), lead_w=csr(weight, acc[lead], lead_col, shape),
        follow_t=csr(follow_ones, follow_col, acc[follow], shape[::-1]),
        inv_off=by_entity(inv_off_row), leads=by_entity(ones), rate=by_entity(n1_row / (T - 1)),
        follows_t=csr(follow_ones, ent[follow], acc[follow], (E, n)),
        present_t=csr(follow_ones, ent[follow], acc[follow], (E, n)).sign(),
    )


def _block(ops: _Operands, rows: slice):
    """Dense (block × n) arrays: co-activity count, its null expectation, shared entities, sum of M."""
    dense = lambda a, b: (a[rows] @ b).toarray()
    count = dense(ops.lead, ops.follow_t)
    shared = dense(ops.leads, ops.present_t)
    msum = dense(ops.inv_off, ops.follows_t) + shared - dense(ops.lead_w, ops.follow_t)
    expected = dense(ops.rate, ops.follows_t)
    return count, expected, shared, msum


def _collect(rec: list, rows: slice, count, expected, mean_m, alpha: float, keep_paper: bool, extra=None):
    """Keep the pairs either rule could want; return how many pass the paper's rule."""
    defined = ~np.isnan(mean_m)
    paper = defined & (mean_m < 1)
    hot = defined & (count > expected)
    p = np.ones(count.shape)
    p[hot] = poisson_pvalues(count[hot], expected[hot])
    keep = (p <= alpha) | (paper if keep_paper else False)
    i, j = np.nonzero(keep)
    part = {"i": i + rows.start, "j": j, "M": mean_m[i, j], "count": count[i, j],
            "expected": expected[i, j], "p": p[i, j]}
    for name, values in (extra or {}).items():
        part[name] = values[i, j]
    rec.append(part)
    return int(paper.sum())


def _finish(rec: list, accounts, n_pairs: int, alpha: float, rule: str, paper_count: int):
    cols = rec[0].keys() if rec else ("i", "j", "M", "count", "expected", "p")
    frame = pd.DataFrame({c: np.concatenate([r[c] for r in rec]) if rec else [] for c in cols})
    frame["q"] = bh_qvalues(frame["p"].to_numpy(float), n_pairs)
    positive = frame["M"] < 1
    frame["significant"] = positive & (frame["q"] <= alpha)
    counts = {"pairs": n_pairs, "paper": paper_count, "significant": int(frame["significant"].sum())}
    frame = frame[frame["significant"] if rule == "significant" else positive]
    frame.insert(0, "weight", 1.0 - frame["M"])
    frame.insert(0, "target", accounts[frame["j"].to_numpy(int)])
    frame.insert(0, "source", accounts[frame["i"].to_numpy(int)])
    return frame.sort_values("weight", ascending=False).reset_index(drop=True), counts


def influence_network(events: pd.DataFrame, config: InfluenceConfig = InfluenceConfig(),
                      on_progress=None, accounts=None) -> InfluenceResult:
    """The coordination networks (per entity type and averaged over types) of the events table.

    1. keep the selected entity types, drop excluded entities and accounts under min_posts;
    2. bin into one activity grid shared by every entity type;
    3. per block of leading accounts, per type: counts, expectation, mean M (sparse products);
    4. average M over the types a pair shares, sum counts and expectations for the joint test;
    5. Benjamini–Hochberg over all n(n−1) ordered pairs, per network."""
    report = on_progress or (lambda fraction, stage: None)
    events = filter_events(events, config)
    if accounts is None:
        accounts = select_accounts(events, config)
    activity = build_activity(events, bin_seconds=config.bin_seconds, accounts=accounts,
                              start=config.start, end=config.end)
    n = len(activity.accounts)
    types = [t for t in config.entity_types if (activity.entity_types == t).any()]
    ops = {t: _operands(activity, activity.entity_types == t) for t in types}
    keep_paper = config.rule == "paper"
    records = {name: [] for name in ["all", *types]}
    papers = dict.fromkeys(records, 0)
    step = max(1, config.block_cells // max(n, 1))
    for start in range(0, n, step):
        rows = slice(start, min(n, start + step))
        total_count, total_expected = 0.0, 0.0
        msum_types, ntypes, type_weights = 0.0, 0.0, {}
        for t in types:
            count, expected, shared, msum = _block(ops[t], rows)
            shared[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = 0
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_m = np.where(shared > 0, msum / shared, np.nan)
            papers[t] += _collect(records[t], rows, count, expected, mean_m, config.alpha, keep_paper)
            total_count, total_expected = total_count + count, total_expected + expected
            msum_types = msum_types + np.nan_to_num(mean_m)
            ntypes = ntypes + ~np.isnan(mean_m)
            type_weights[f"weight_{t}"] = 1.0 - mean_m
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_all = np.where(ntypes > 0, msum_types / ntypes, np.nan)
        if types:
            papers["all"] += _collect(records["all"], rows, total_count, total_expected, mean_all,
                                      config.alpha, keep_paper, type_weights)
        report(0.9 * rows.stop / max(n, 1), "pairs")
    finished = {name: _finish(rec, activity.accounts, n * (n - 1), config.alpha, config.rule, papers[name])
                for name, rec in records.items()}
    report(1.0, "done")
    return InfluenceResult(activity.accounts, finished["all"][0], {t: finished[t][0] for t in types},
                           {name: f[1] for name, f in finished.items()}, config.rule, config.alpha, activity)


class InfluenceCoordination:
    """scikit-learn-shaped wrapper: InfluenceCoordination(config).fit(events).edges_"""

    def __init__(self, config: InfluenceConfig = InfluenceConfig()):
        self.config = config

    def fit(self, events: pd.DataFrame, on_progress=None):
        result = influence_network(events, self.config, on_progress)
        self.result_ = result
        self.accounts_, self.edges_, self.type_edges_, self.counts_ = (
            result.accounts, result.edges, result.type_edges, result.counts)
        return self


def pair_measure(x_lead: np.ndarray, x_follow: np.ndarray) -> float:
    """M = A01 + A10 for two binary sequences of one entity (reference for tests and docs)."""
    prev, nxt = np.asarray(x_lead[:-1], bool), np.asarray(x_follow[1:], bool)
    a01 = (nxt & ~prev).sum() / max((~prev).sum(), 1)
    a10 = (~nxt & prev).sum() / max(prev.sum(), 1)
    return float(a01 + a10)
