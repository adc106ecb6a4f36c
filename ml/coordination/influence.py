"""Influence-model coordination between all pairs of accounts, with sparse products (docs/methods.md §influence model,
paper §4.2, §5.1).

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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ml.checks import ParamError, check_choice, check_range

from .activity import Activity, build_activity
from .stats import bh_qvalues, poisson_candidates, poisson_pvalues

RULES = ("significant", "paper")
# "kernel": the compiled pass (`influence_kernel`) for one entity type of one entity under the significant rule;
# "numpy": sparse products into dense blocks, any input; "auto": the kernel where it applies and numba is installed.
METHODS = ("auto", "kernel", "numpy")
# Block values of M this close to 1 are decided again in float64 (`_exact`): float32 blocks (types of one
# entity, where M comes from three terms, error < 1e-6) and float64 blocks (sums over many entities).
BANDS = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-9}
DENSE_ENTITIES = 64   # up to this many entities of a type, the entity-level products are dense BLAS
DIRECT_CELLS = 50_000_000  # index (entity, bin) and (account, entity) directly up to this many cells


@dataclass(frozen=True)
class InfluenceConfig:
    bin_seconds: float = 3600.0          # the paper's 1-hour bins
    entity_types: tuple = ("hashtag", "url", "mention")
    exclude_entities: tuple = ()         # the search terms used to collect the data, e.g. ("hashtag:xinjiang",)
    min_posts: int = 1                   # the paper keeps accounts with >= 60 posts
    rule: str = "significant"            # "paper": every M < 1 is an edge
    alpha: float = 0.05                  # false-discovery rate of the significant edges
    paper_top_k: int = 0                 # rule "paper": keep each account's k strongest M < 1 edges (0: all)
    block_cells: int = 4_000_000         # pairs per block; bounds memory at ~40 bytes per cell and thread
    n_jobs: int = 2                      # blocks computed at once (threads: the sparse products release the GIL)
    start: float | None = None           # the time grid; default: first to last event
    end: float | None = None
    method: str = "auto"                 # METHODS: the same edges, weights and counts either way

    def __post_init__(self):
        check_range("bin_seconds", self.bin_seconds, 0, None, low_open=True)
        check_range("min_posts", self.min_posts, 1, None)
        check_range("alpha", self.alpha, 0, 1, low_open=True, high_open=True)
        check_range("paper_top_k", self.paper_top_k, 0, None)
        check_range("block_cells", self.block_cells, 1, None)
        check_range("n_jobs", self.n_jobs, 1, 64)
        check_choice("rule", self.rule, RULES)
        check_choice("method", self.method, METHODS)
        if not self.entity_types:
            raise ParamError("entity_types must name at least one entity type, got ()", "entity_types")


@dataclass
class InfluenceResult:
    accounts: np.ndarray                 # labels, in the order of the account codes
    edges: pd.DataFrame                  # the averaged network under `rule`
    type_edges: dict                     # entity type -> its own network under `rule`
    counts: dict                         # network -> {"pairs", "paper", "significant"} (+ "paper_kept" when capped)
    rule: str
    alpha: float
    activity: Activity | None = field(default=None, repr=False)
    engine: str = "local"                # where the pair pass ran: "local" or "dask"


@dataclass
class _Operands:
    """Everything the block products need for one entity type (float32 or float64, int32 indices).

    Bin-level: lead (account × (entity, bin k): i active at k−1), follow_t ((entity, bin k) × account: j
    active at k), and the lead weights 1/n1 + 1/(T−1−n1): per account (w_row) when the type has one
    entity, else as a matrix (lead_w). Entity-level (dense when few entities): leads (1 where i leads),
    inv_off (1/(T−1−n1)), rate (n1/(T−1), the null's chance per bin); present_t (1 where j follows), follows_t (nj)."""
    lead: sparse.csr_matrix
    follow_t: sparse.csr_matrix
    w_row: np.ndarray | None
    lead_w: sparse.csr_matrix | None
    leads: object
    inv_off: object
    rate: object
    present_t: object
    follows_t: object
    # float64 weights for `_exact`: w_row or lead_w, inv_off, rate
    exact: dict = field(default_factory=dict, repr=False)


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
    keep &= events["entity"].notna() & (events["entity"] != "")  # (astype(str) copied 2.5 M strings a pass)
    return events if keep.all() else events[keep]  # no copy of a table that loses nothing (18 M rows at scale)


def _csr(values, rows, cols, shape, dtype=np.float32) -> sparse.csr_matrix:
    matrix = sparse.csr_matrix((np.asarray(values, dtype), (rows, cols)), shape=shape)
    matrix.indices = matrix.indices.astype(np.int32, copy=False)
    matrix.indptr = matrix.indptr.astype(np.int32 if matrix.nnz < 2**31 else np.int64, copy=False)
    return matrix


def _operands(activity: Activity, entity_mask: np.ndarray, dtype=np.float32) -> _Operands:
    T, n = activity.n_bins, len(activity.accounts)
    rows = entity_mask[activity.entity]
    acc, k = activity.account[rows], activity.bin[rows]
    # this type's entities renumbered 0..E-1 in their order: a lookup, not a sort of every row's entity
    ent, E = (np.cumsum(entity_mask) - 1)[activity.entity[rows]], int(entity_mask.sum())
    lead, follow = k <= T - 2, k >= 1
    if E * T <= DIRECT_CELLS:  # (entity, bin) is its own column: no sort of millions of keys
        lead_col, follow_col, n_cols = ent[lead] * T + k[lead] + 1, ent[follow] * T + k[follow], E * T
    else:
        keys, inverse = np.unique(
            np.concatenate([ent[lead] * T + k[lead] + 1, ent[follow] * T + k[follow]]), return_inverse=True
        )
        lead_col, follow_col, n_cols = inverse[: lead.sum()], inverse[lead.sum() :], len(keys)
    pair_key = acc[lead] * E + ent[lead]
    if n * E <= DIRECT_CELLS:
        per_pair = np.bincount(pair_key, minlength=n * E)
        pairs = np.flatnonzero(per_pair)
        n1, per_row = per_pair[pairs], np.searchsorted(pairs, pair_key)
    else:
        pairs, per_row, n1 = np.unique(pair_key, return_inverse=True, return_counts=True)
    n1 = n1.astype(float)
    off = T - 1 - n1
    inv_off = np.divide(1.0, off, out=np.zeros_like(off), where=off > 0)
    weight = (1.0 / n1 + inv_off)[per_row]
    ones, follow_ones = np.ones(lead.sum()), np.ones(follow.sum())
    shape = (n, n_cols)
    # One value per (account, entity) that leads: exact, where summing per-row shares of it would round.
    by_entity = lambda v, as_type=dtype: _csr(v, pairs // E, pairs % E, (n, E), as_type)  # noqa: E731
    dense = E <= DENSE_ENTITIES
    as_used = (lambda m: m.toarray()) if dense else (lambda m: m)  # noqa: E731
    follows_t = _csr(follow_ones, ent[follow], acc[follow], (E, n), dtype)
    present_t = follows_t.sign()
    single = E == 1
    exact = {"inv_off": as_used(by_entity(inv_off, np.float64)), "rate": as_used(by_entity(n1 / (T - 1), np.float64))}
    w_row = None
    if single:
        exact["w_row"] = np.zeros(n)
        exact["w_row"][acc[lead]] = weight
        w_row = exact["w_row"].astype(dtype)
    else:
        exact["lead_w"] = _csr(weight, acc[lead], lead_col, shape, np.float64)
    return _Operands(
        lead=_csr(ones, acc[lead], lead_col, shape, dtype),
        follow_t=_csr(follow_ones, follow_col, acc[follow], shape[::-1], dtype),
        w_row=w_row,
        lead_w=None if single else exact["lead_w"].astype(dtype),
        leads=as_used(by_entity(np.ones(len(pairs)))),
        inv_off=as_used(by_entity(inv_off)),
        rate=as_used(by_entity(n1 / (T - 1))),
        present_t=as_used(present_t),
        follows_t=as_used(follows_t),
        exact=exact,
    )


def _pair_dot(left, right_t, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Σ_m left[i, m]·right_t[m, j] for each listed pair, in float64."""
    if isinstance(left, np.ndarray):
        return np.einsum("km,km->k", left[i].astype(float), right_t[:, j].T.astype(float))
    right = right_t.T.tocsr()
    return np.asarray(left[i].multiply(right[j]).sum(axis=1), dtype=float).ravel()


def _exact(ops: _Operands, i: np.ndarray, j: np.ndarray, count: np.ndarray | None = None):
    """count, expected and M of the listed pairs in float64: float32 blocks decide, the stored edges carry
    these. A type of one entity needs only per-account vectors and the (exact, whole) counts."""
    x = ops.exact
    if ops.w_row is not None and isinstance(ops.leads, np.ndarray):
        count = _pair_dot(ops.lead, ops.follow_t, i, j) if count is None else np.asarray(count, dtype=float)
        nj = ops.follows_t[0, j].astype(float)
        defined = (ops.leads[i, 0] > 0) & (ops.present_t[0, j] > 0) & (i != j)
        mean_m = np.where(defined, x["inv_off"][i, 0] * nj + 1 - count * x["w_row"][i], np.nan)
        return count, x["rate"][i, 0] * nj, mean_m
    count = _pair_dot(ops.lead, ops.follow_t, i, j)
    weighted = _pair_dot(x["lead_w"], ops.follow_t, i, j)
    shared = _pair_dot(ops.leads, ops.present_t, i, j)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_m = np.where(
            shared > 0, (_pair_dot(x["inv_off"], ops.follows_t, i, j) + shared - weighted) / shared, np.nan
        )
    return count, _pair_dot(x["rate"], ops.follows_t, i, j), mean_m


def _times(left, right, rows: slice) -> np.ndarray:
    """Dense block of left[rows] @ right: BLAS for dense entity operands, a sparse product otherwise."""
    if isinstance(left, np.ndarray):
        return left[rows] @ right
    return (left[rows] @ right).toarray()


def _type_block(ops: _Operands, rows: slice):
    """Dense (block × n): co-activity count, its null expectation, mean M (NaN where undefined).

    msum = Σ_e nj/(T−1−n1) + shared − Σ_e c·(1/n1 + 1/(T−1−n1)), built in place; M = msum / shared."""
    count = _times(ops.lead, ops.follow_t, rows)
    if ops.w_row is not None and isinstance(ops.leads, np.ndarray):
        return (count, *_one_entity_block(ops, rows, count))
    shared = _times(ops.leads, ops.present_t, rows)
    shared[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = 0  # no self-pairs
    msum = _times(ops.inv_off, ops.follows_t, rows)
    msum += shared
    msum -= _times(ops.lead_w, ops.follow_t, rows)
    undefined = shared <= 0
    np.divide(msum, shared, out=msum, where=~undefined)
    msum[undefined] = np.nan
    return count, _times(ops.rate, ops.follows_t, rows), msum


def _one_entity_block(ops: _Operands, rows: slice, count: np.ndarray):
    """A type with one entity: shared is 0/1 and the entity terms are outer products, so
    M = nj/(T−1−n1) + 1 − c·(1/n1 + 1/(T−1−n1)) takes a few in-place passes; NaN where i never leads,
    j never follows, and on the diagonal."""
    nj = ops.follows_t[0]
    mean_m = np.multiply(count, -ops.w_row[rows, None])
    mean_m += ops.inv_off[rows, 0][:, None] * nj[None, :]
    mean_m += 1
    mean_m[ops.leads[rows, 0] <= 0] = np.nan
    mean_m[:, ops.present_t[0] <= 0] = np.nan
    mean_m[np.arange(rows.stop - rows.start), np.arange(rows.start, rows.stop)] = np.nan
    return ops.rate[rows, 0][:, None] * nj[None, :], mean_m


def _top_k_mask(mean_m: np.ndarray, paper: np.ndarray, k: int) -> np.ndarray:
    """Each row's k paper edges with the smallest M (the strongest); all of them when k = 0."""
    if not k or k >= mean_m.shape[1]:
        return paper
    ranked = np.where(paper, mean_m, np.inf)
    top = np.argpartition(ranked, k - 1, axis=1)[:, :k]
    mask = np.zeros_like(paper)
    np.put_along_axis(mask, top, True, axis=1)
    return mask & paper


def _paper(rows: slice, mean_m, exact_m, count) -> np.ndarray:
    """M < 1, decided on the block's values except within its band of 1, where float64
    (`exact_m(i, j, counts)`) decides."""
    band = BANDS[mean_m.dtype]
    paper = mean_m < 1 - band  # NaN (undefined) compares False
    i, j = np.nonzero(~paper & (mean_m <= 1 + band))  # the complement of `paper` on the same values: no gap
    if len(i):
        below = exact_m(i + rows.start, j, count[i, j]) < 1
        paper[i[below], j[below]] = True
    return paper


def _collect(rows: slice, count, expected, mean_m, config: InfluenceConfig, exact_m, extra=None):
    """Records of one block that either rule may want, and how many pairs pass the paper's rule.

    Kept: pairs with p <= alpha (only those can pass BH at alpha; `poisson_candidates` finds them without
    the exact tail), plus under the paper rule its edges (each account's strongest k when capped)."""
    paper = _paper(rows, mean_m, exact_m, count)
    n_paper = int(np.count_nonzero(paper))
    i, j = np.nonzero(poisson_candidates(count, expected, config.alpha))
    tested = (count[i, j] > expected[i, j]) & ~np.isnan(mean_m[i, j])  # on the few candidates, not the block
    i, j = i[tested], j[tested]
    p = poisson_pvalues(count[i, j], expected[i, j])
    i, j, p = i[p <= config.alpha], j[p <= config.alpha], p[p <= config.alpha]
    if config.rule == "paper":
        keep = _top_k_mask(mean_m, paper, config.paper_top_k)
        keep[i, j] = True
        i, j = np.nonzero(keep)
        c, x = count[i, j], expected[i, j]
        p = np.ones(len(i))
        above = (c > x) & ~np.isnan(mean_m[i, j])
        p[above] = poisson_pvalues(c[above], x[above])
    part = {
        "i": (i + rows.start).astype(np.int32),
        "j": j.astype(np.int32),
        "M": mean_m[i, j],
        "count": count[i, j],
        "expected": expected[i, j],
        "p": p,
    }
    for name, values in (extra or {}).items():
        part[name] = values[i, j]
    return part, n_paper


def _network_block(ops: dict, types: list, rows: slice, config: InfluenceConfig) -> dict:
    """One block of leading accounts: records and paper counts per entity type and for all types averaged."""
    out, blocks = {}, {}
    for t in types:
        blocks[t] = _type_block(ops[t], rows)
        out[t] = _collect(rows, *blocks[t], config, lambda i, j, c, t=t: _exact_mean(ops, [t], i, j, c))
    if len(types) == 1:  # the average over one type is that type
        t = types[0]
        part, n_paper = out[t]
        out["all"] = ({**part, f"weight_{t}": 1.0 - part["M"]}, n_paper)
        return out
    count = sum(b[0] for b in blocks.values())
    expected = sum(b[1] for b in blocks.values())
    msum, ntypes = np.zeros_like(count), np.zeros_like(count)
    for _, _, mean_m in blocks.values():
        defined = ~np.isnan(mean_m)
        np.add(msum, mean_m, out=msum, where=defined)
        ntypes += defined
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_all = np.where(ntypes > 0, msum / ntypes, np.nan).astype(count.dtype)
    extra = {f"weight_{t}": 1.0 - blocks[t][2] for t in types}
    out["all"] = _collect(rows, count, expected, mean_all, config, lambda i, j, c: _exact_mean(ops, types, i, j), extra)
    return out


def _exact_mean(ops: dict, names: list, i: np.ndarray, j: np.ndarray, count=None) -> np.ndarray:
    """Float64 M of the listed pairs averaged over the types `names` where defined (`count`: of the one type)."""
    m = np.vstack([_exact(ops[t], i, j, count if len(names) == 1 else None)[2] for t in names])
    defined = ~np.isnan(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(defined.any(0), np.where(defined, m, 0).sum(0) / defined.sum(0), np.nan)


def _exact_frame(frame: pd.DataFrame, ops: dict, names: list) -> pd.DataFrame:
    """The kept edges' count, expected, M, p (and per-type weights) recomputed in float64 over `names`' types."""
    if frame.empty:
        return frame
    i, j = frame["i"].to_numpy(np.int64), frame["j"].to_numpy(np.int64)
    parts = {t: _exact(ops[t], i, j, frame["count"].to_numpy() if len(names) == 1 else None) for t in names}
    frame = frame.copy()
    frame["count"] = sum(part[0] for part in parts.values())
    frame["expected"] = sum(part[1] for part in parts.values())
    m = np.vstack([part[2] for part in parts.values()])
    defined = ~np.isnan(m)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["M"] = np.where(defined.any(0), np.where(defined, m, 0).sum(0) / defined.sum(0), np.nan)
    above = (frame["count"] > frame["expected"]).to_numpy()
    p = np.ones(len(frame))
    p[above] = poisson_pvalues(frame["count"].to_numpy()[above], frame["expected"].to_numpy()[above])
    frame["p"] = p
    if any(c.startswith("weight_") for c in frame.columns):
        for t, part in parts.items():
            frame[f"weight_{t}"] = 1.0 - part[2]
    return frame


def _bh_cut(p: np.ndarray, n_tests: int, alpha: float) -> float:
    """Benjamini–Hochberg's rejection cut: the largest p_(k) with p_(k) <= alpha·k/n_tests (−1: none)."""
    ranked = np.sort(p)
    passing = np.flatnonzero(ranked <= alpha * np.arange(1, len(ranked) + 1) / n_tests)
    return float(ranked[passing[-1]]) if len(passing) else -1.0


def _finish(rec: list, accounts, n_pairs: int, config: InfluenceConfig, paper_count: int, ops: dict, names: list):
    """The network under the run's rule from a network's records, and its counts.

    Under the significant rule only the records BH rejects go on (the smallest p-values, whose q-values
    the subset gives exactly: every test left out ranks after them); a frame of all candidates, ~10 M
    rows at the scale goal, is never built. The block's M selects loosely, the exact M decides."""
    cols = rec[0].keys() if rec else ("i", "j", "M", "count", "expected", "p")
    columns = {c: np.concatenate([r[c] for r in rec]) if rec else np.zeros(0) for c in cols}
    if config.rule == "significant":
        pick = np.flatnonzero(columns["p"] <= _bh_cut(columns["p"], n_pairs, config.alpha))
        columns = {c: v[pick] for c, v in columns.items()}
    single = columns["M"].dtype == np.float32  # float64 blocks already carry float64 values
    frame = pd.DataFrame({c: v.astype(float) if v.dtype == np.float32 else v for c, v in columns.items()})
    frame["q"] = bh_qvalues(frame["p"].to_numpy(float), n_pairs)
    if single:
        frame = _exact_frame(frame[frame["M"] < 1 + BANDS[np.dtype(np.float32)]], ops, names)
    positive = frame["M"] < 1
    frame["significant"] = positive & (frame["q"] <= config.alpha)
    counts = {"pairs": n_pairs, "paper": paper_count, "significant": int(frame["significant"].sum())}
    frame = frame[frame["significant"] if config.rule == "significant" else positive]
    if config.rule == "paper" and config.paper_top_k:
        counts["paper_kept"] = len(frame)
        counts["paper_top_k"] = config.paper_top_k
    frame.insert(0, "weight", 1.0 - frame["M"])
    frame.insert(0, "target", accounts[frame["j"].to_numpy(int)])
    frame.insert(0, "source", accounts[frame["i"].to_numpy(int)])
    return frame.sort_values("weight", ascending=False).reset_index(drop=True), counts


def _numpy_records(activity: Activity, types: list, single: bool, config: InfluenceConfig, report):
    """Operands, records and paper counts per network from sparse products into dense row blocks."""
    n = len(activity.accounts)
    ops = {t: _operands(activity, activity.entity_types == t, np.float32 if single else np.float64) for t in types}
    records = {name: [] for name in ["all", *types]}
    papers = dict.fromkeys(records, 0)
    step = max(1, config.block_cells // max(n, 1))
    blocks = [slice(start, min(n, start + step)) for start in range(0, n, step)] if types else []
    with ThreadPoolExecutor(max_workers=config.n_jobs) as pool:
        for rows, out in zip(blocks, pool.map(lambda rows: _network_block(ops, types, rows, config), blocks)):
            for name, (part, n_paper) in out.items():
                records[name].append(part)
                papers[name] += n_paper
            report(0.9 * rows.stop / max(n, 1), "pairs")
    return ops, records, papers


def _kernel_applies(config: InfluenceConfig, types: list, single: bool) -> bool:
    from . import influence_kernel  # here: numba's import takes ~1 s, and most importers never run a pass

    fits = single and len(types) == 1 and config.rule == "significant"
    if config.method == "kernel" and not (fits and influence_kernel.available()):
        raise ParamError(
            "method 'kernel' needs numba, the significant rule and one entity type of one entity; "
            f"got rule {config.rule!r} and {len(types)} type(s){'' if single else ' with several entities'}",
            "method",
        )
    return config.method == "kernel" or (config.method == "auto" and fits and influence_kernel.available())


def _one_entity_operands(n1: np.ndarray, nj: np.ndarray, n_bins: int) -> _Operands:
    """The operands `_operands` builds for a type of one entity, from the per-account counts alone (what `_exact`
    and `_exact_frame` read; no bin-level matrices): the same values, so the kept edges carry the same floats."""
    n1 = n1.astype(float)
    leading = n1 > 0
    off = n_bins - 1 - n1
    inv_off = np.divide(1.0, off, out=np.zeros_like(off), where=(off > 0) & leading)
    w_row = np.zeros(len(n1))
    w_row[leading] = 1.0 / n1[leading] + inv_off[leading]
    rate = n1 / (n_bins - 1)
    follows = nj.astype(np.float32)[None, :]
    column = lambda v: v[:, None]  # noqa: E731
    return _Operands(
        lead=None,
        follow_t=None,
        w_row=w_row.astype(np.float32),
        lead_w=None,
        leads=column(leading.astype(np.float32)),
        inv_off=column(inv_off.astype(np.float32)),
        rate=column(rate.astype(np.float32)),
        present_t=np.sign(follows),
        follows_t=follows,
        exact={"inv_off": column(inv_off), "rate": column(rate), "w_row": w_row},
    )


def _kernel_records(activity: Activity, entity_type: str, config: InfluenceConfig, report, rows_runner=None):
    """Operands, records and paper counts of one type of one entity from the compiled pass (`influence_kernel`).

    The records are those `_collect` keeps under the significant rule, computed the same way (float32 counts,
    expectations and M, p from them) but only for the pairs the pass kept, p <= tau; the pass certifies that
    Benjamini–Hochberg's cut lies at or below tau, so `_finish` picks the same edges. Ties are decided by the
    float64 M, as `_paper` decides its band."""
    from . import influence_kernel

    n, n_bins = len(activity.accounts), activity.n_bins
    rows = activity.entity_types[activity.entity] == entity_type
    index = influence_kernel.build_index(activity.account[rows], activity.bin[rows], n, n_bins)
    result = influence_kernel.pair_pass(
        index, config.alpha, n_jobs=config.n_jobs, block_rows=max(1, config.block_cells // max(n, 1)),
        on_rows=lambda done: report(0.9 * done / max(n, 1), "pairs"), rows_runner=rows_runner,
    )
    ops = _one_entity_operands(index.n1, index.nj, n_bins)
    i, j, c = result.ties
    paper = result.paper + int(np.count_nonzero(_exact(ops, i, j, c)[2] < 1))
    part = _kernel_part(ops, result.kept, config.alpha)
    records = {"all": [{**part, f"weight_{entity_type}": 1.0 - part["M"]}], entity_type: [part]}
    return {entity_type: ops}, records, {"all": paper, entity_type: paper}


def _kernel_part(ops: _Operands, kept: np.ndarray, alpha: float) -> dict:
    """`_collect`'s significance records for the listed pairs (i, j, count), as its float32 block gives them."""
    i, j = kept[0], kept[1]
    count = kept[2].astype(np.float32)
    nj = ops.follows_t[0, j]
    expected = ops.rate[i, 0] * nj
    tested = count > expected
    i, j, count, expected, nj = i[tested], j[tested], count[tested], expected[tested], nj[tested]
    p = poisson_pvalues(count, expected)
    below = p <= alpha
    i, j, count, expected, nj, p = i[below], j[below], count[below], expected[below], nj[below], p[below]
    mean_m = np.multiply(count, -ops.w_row[i])
    mean_m += ops.inv_off[i, 0] * nj
    mean_m += 1
    return {"i": i.astype(np.int32), "j": j.astype(np.int32), "M": mean_m, "count": count, "expected": expected, "p": p}


def influence_network(
    events: pd.DataFrame, config: InfluenceConfig = InfluenceConfig(), on_progress=None, accounts=None, *,
    dask_threshold: int | None = None, dask_client=None,
) -> InfluenceResult:
    """The coordination networks (per entity type and averaged over types) of the events table.

    1. keep the selected entity types, drop excluded entities and accounts under min_posts;
    2. bin into one activity grid shared by every entity type;
    3. per block of leading accounts (n_jobs blocks at once), per type: counts, expectation, mean M
       (sparse products into dense blocks: float32 when every type has one entity, else float64); keep only
       the records a rule can use. One type of one entity under the significant rule (the scale benchmark)
       takes the compiled pass instead (`method`, `influence_kernel`): integer counts, the same records;
    4. average M over the types a pair shares, sum counts and expectations for the joint test;
    5. Benjamini–Hochberg over all n(n−1) ordered pairs, per network.

    The compiled pass runs on a Dask cluster when the events are more than `dask_threshold` (`dask_client`: a
    distributed.Client, a scheduler address, or None for a 2-worker cluster in this process): the same edges."""
    report = on_progress or (lambda fraction, stage: None)
    events = filter_events(events, config)
    if accounts is None:
        accounts = select_accounts(events, config)
    activity = build_activity(
        events, bin_seconds=config.bin_seconds, accounts=accounts, start=config.start, end=config.end
    )
    n = len(activity.accounts)
    types = [t for t in config.entity_types if (activity.entity_types == t).any()]
    single = all((activity.entity_types == t).sum() == 1 for t in types)
    engine, kernel = "local", _kernel_applies(config, types, single)
    if kernel and dask_threshold is not None and len(events) > dask_threshold:
        from .dask_engine import dask_client as cluster
        from .dask_engine import dask_rows

        with cluster(dask_client) as client:
            ops, records, papers = _kernel_records(
                activity, types[0], config, report, rows_runner=lambda *args: dask_rows(client, *args))
        engine = "dask"
    elif kernel:
        ops, records, papers = _kernel_records(activity, types[0], config, report)
    else:
        ops, records, papers = _numpy_records(activity, types, single, config, report)
    finished = {
        name: _finish(
            rec, activity.accounts, n * (n - 1), config, papers[name], ops, types if name == "all" else [name]
        )
        for name, rec in records.items()
    }
    report(1.0, "done")
    return InfluenceResult(
        activity.accounts,
        finished["all"][0],
        {t: finished[t][0] for t in types},
        {name: f[1] for name, f in finished.items()},
        config.rule,
        config.alpha,
        activity,
        engine,
    )


class InfluenceCoordination:
    """scikit-learn-shaped wrapper: InfluenceCoordination(config).fit(events).edges_"""

    def __init__(self, config: InfluenceConfig = InfluenceConfig()):
        self.config = config

    def fit(self, events: pd.DataFrame, on_progress=None):
        result = influence_network(events, self.config, on_progress)
        self.result_ = result
        self.accounts_, self.edges_, self.type_edges_, self.counts_ = (
            result.accounts,
            result.edges,
            result.type_edges,
            result.counts,
        )
        return self


def pair_measure(x_lead: np.ndarray, x_follow: np.ndarray) -> float:
    """M = A01 + A10 for two binary sequences of one entity (reference for tests and docs)."""
    prev, nxt = np.asarray(x_lead[:-1], bool), np.asarray(x_follow[1:], bool)
    a01 = (nxt & ~prev).sum() / max((~prev).sum(), 1)
    a10 = (~nxt & prev).sum() / max(prev.sum(), 1)
    return float(a01 + a10)
