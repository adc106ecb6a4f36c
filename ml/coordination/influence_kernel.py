"""The influence model's pair pass for an entity type of one entity, compiled (numba): integer counts per leading
account, the paper's rule decided exactly in integers, only the pairs a rule can use kept (docs/methods.md
§influence model; `influence.influence_network` calls it with ``method="kernel"``, or ``"auto"`` where it applies).

Why: with one entity, M < 1 exactly when c·(T−1) > n1·nj (c the pair's co-activity count, n1 the leader's leading
bins, nj the follower's following bins; when the leader leads in every bin, exactly when c > 0), and the Poisson
expectation is n1·nj/(T−1). Every decision about a pair thus depends on its count and the follower's nj only. So:

1. followers are numbered in order of nj (segments of equal nj), and a leading account's counts are scattered into
   one integer row (cache-resident: 200 KB at 100,000 accounts) from its lead bins (~1.5 ns a scatter);
2. per segment, each rule is one integer threshold on c (the paper's: c > ⌊n1·nj/(T−1)⌋; a Poisson level t:
   c >= the first count whose `stats.poisson_limits` reach the expectation), computed once per row and segment;
3. one fused loop over the row counts, per segment, the pairs past every threshold (~1 ns a pair); only the rare
   segments holding a pair to keep, or a possible tie, are walked again to list those pairs.
The numpy path spends ~40 ns a pair on sparse products and ~15 passes over each dense float block.

What a pass keeps, so memory stays bounded at any scale:
- the paper count, and the pairs at c·(T−1) = n1·nj exactly (ties: M is 1 up to rounding; the caller decides them
  with the float64 M it stores, as the numpy path does, so an edge and its weight always agree);
- for the significance test, the pairs whose Poisson p can be <= tau = alpha·budget / n_pairs: Benjamini–Hochberg
  over n_pairs tests rejects p only when p <= alpha·R/n_pairs, R the number rejected. Counts of the pairs whose p can
  be <= t_b at levels tau = t_0 < ... < t_6 = alpha certify that no cut lies above tau (a cut in (t_(b−1), t_b]
  needs more than n_pairs·t_(b−1)/alpha pairs at p <= t_b). Where a level is not clear (far more strongly
  co-active pairs than the budget), the pass runs again keeping every p up to that level.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .stats import poisson_limits

try:  # the compiled path is optional: without numba, `influence_network` takes the numpy path
    import numba
except ImportError:  # pragma: no cover - numba is in requirements.txt
    numba = None

BUDGET = 2_000_000   # significance records a pass keeps before the certificate is needed (24 bytes each)
LEVELS = 6           # certificate levels above tau (the fused loop has one counter per level)
UINT16_BINS = 65_536  # up to this many bins a count (<= T−1) fits a uint16: half the row's cache


def available() -> bool:
    return numba is not None


@dataclass
class PassResult:
    paper: int                 # pairs with M < 1, ties left out
    ties: np.ndarray           # (3, k): i, j, c of the pairs with c·(T−1) = n1·nj, c > 0, in (i, j) order
    kept: np.ndarray           # (3, k): i, j, c of every pair whose p can be <= tau, in (i, j) order
    tau: float
    passes: int                # 2 when the certificate sent the pass round again


@dataclass
class Index:
    """The pass's inputs. Followers are renumbered by nj (`order[pos] = account`); segment s holds the positions
    seg_ptr[s]..seg_ptr[s+1] with nj = seg_nj[s]. Lead bins per account (k where it is active at k−1), followers'
    positions per bin k >= 1, each bin's in ascending order."""
    lead_ptr: np.ndarray
    lead_k: np.ndarray
    fol_ptr: np.ndarray
    fol_pos: np.ndarray
    order: np.ndarray
    pos: np.ndarray
    seg_ptr: np.ndarray
    seg_nj: np.ndarray
    n1: np.ndarray
    nj: np.ndarray
    n_bins: int


def _jit(function):
    return numba.njit(nogil=True, cache=True)(function) if numba is not None else function


@_jit
def _append(buffer, size, i, j, c):
    if size >= buffer.shape[1]:
        bigger = np.empty((3, 2 * buffer.shape[1]), buffer.dtype)
        bigger[:, :size] = buffer[:, :size]
        buffer = bigger
    buffer[0, size], buffer[1, size], buffer[2, size] = i, j, c
    return buffer


@_jit
def _thresholds(r, seg_nj, levels, keep_limits, thr):
    """thr[b, s]: the least count whose Poisson limit at level b reaches the expectation r·nj of segment s
    (levels' rows, then keep_limits in the last row); nj rises with s, so each row is one sweep."""
    max_c = levels.shape[1] - 1
    for b in range(levels.shape[0] + 1):
        limits = levels[b] if b < levels.shape[0] else keep_limits
        c = 0
        for s in range(seg_nj.shape[0]):
            e = r * seg_nj[s]
            while c <= max_c and limits[c] < e:
                c += 1
            thr[b, s] = c


@_jit
def _block(r0, r1, lead_ptr, lead_k, fol_ptr, fol_pos, pos, n1, seg_ptr, seg_nj, rate, t1, levels, keep_limits,
           cnt):
    """Leading accounts r0..r1: (paper count, pairs past each level, ties, kept), j as follower positions.

    One fused loop per segment, with a counter per threshold (levels fixed at LEVELS + 1 so it compiles to
    straight-line vector code); then the rare walks that list pairs."""
    n_seg = seg_nj.shape[0]
    thr = np.empty((levels.shape[0] + 1, n_seg), np.int64)
    at_most = np.zeros(levels.shape[0], np.int64)
    ties, kept = np.empty((3, 16), np.int64), np.empty((3, 1024), np.int64)
    n_ties, n_kept, paper = 0, 0, 0
    for i in range(r0, r1):
        a = n1[i]
        if a == 0:
            continue
        for p in range(lead_ptr[i], lead_ptr[i + 1]):
            k = lead_k[p]
            for q in range(fol_ptr[k], fol_ptr[k + 1]):
                cnt[fol_pos[q]] += 1
        cnt[pos[i]] = 0  # no self-pairs
        _thresholds(rate[i], seg_nj, levels, keep_limits, thr)
        for s in range(n_seg):
            lo, hi, v = seg_ptr[s], seg_ptr[s + 1], seg_nj[s]
            # M < 1 exactly when c > ⌊a·v/(T−1)⌋, or c > 0 where the account leads in every bin
            tp = 0 if a == t1 else (a * v) // t1
            u0, u1, u2, u3, u4, u5, u6, uk = thr[0, s], thr[1, s], thr[2, s], thr[3, s], thr[4, s], thr[5, s], \
                thr[6, s], thr[7, s]
            gp, g0, g1, g2, g3, g4, g5, g6, gk = 0, 0, 0, 0, 0, 0, 0, 0, 0
            for j in range(lo, hi):
                c = cnt[j]
                gp += c > tp
                g0 += c >= u0
                g1 += c >= u1
                g2 += c >= u2
                g3 += c >= u3
                g4 += c >= u4
                g5 += c >= u5
                g6 += c >= u6
                gk += c >= uk
            paper += gp
            at_most[0] += g0
            at_most[1] += g1
            at_most[2] += g2
            at_most[3] += g3
            at_most[4] += g4
            at_most[5] += g5
            at_most[6] += g6
            if gk:
                for j in range(lo, hi):
                    if cnt[j] >= uk:
                        kept = _append(kept, n_kept, i, j, cnt[j])
                        n_kept += 1
            if a != t1 and tp > 0 and (a * v) % t1 == 0:
                for j in range(lo, hi):
                    if cnt[j] == tp:
                        ties = _append(ties, n_ties, i, j, cnt[j])
                        n_ties += 1
        cnt[:] = 0
    return paper, at_most, ties[:, :n_ties].copy(), kept[:, :n_kept].copy()


def build_index(account: np.ndarray, bins: np.ndarray, n: int, n_bins: int) -> Index:
    """From one row per distinct (account, bin) of the entity (account codes 0..n−1, bins 0..n_bins−1)."""
    lead, follow = bins <= n_bins - 2, bins >= 1
    lead_acc = account[lead]
    n1 = np.bincount(lead_acc, minlength=n)
    nj = np.bincount(account[follow], minlength=n)
    order = np.argsort(nj, kind="stable")
    pos = np.empty(n, np.int64)
    pos[order] = np.arange(n)
    seg_nj, seg_start = np.unique(nj[order], return_index=True)
    key = np.sort(bins[follow].astype(np.int64) * n + pos[account[follow]])  # by bin, then position
    fol_bin = key // n
    fol_ptr = np.zeros(n_bins + 1, np.int64)
    np.cumsum(np.bincount(fol_bin, minlength=n_bins), out=fol_ptr[1:])
    lead_ptr = np.zeros(n + 1, np.int64)
    np.cumsum(n1, out=lead_ptr[1:])
    grouped = bool((lead_acc[1:] >= lead_acc[:-1]).all())  # activity often comes account by account: no sort
    lead_k = bins[lead] if grouped else bins[lead][np.argsort(lead_acc, kind="stable")]
    return Index(
        lead_ptr=lead_ptr,
        lead_k=(lead_k + 1).astype(np.int32),
        fol_ptr=fol_ptr,
        fol_pos=(key - fol_bin * n).astype(np.int32),
        order=order,
        pos=pos,
        seg_ptr=np.append(seg_start, n).astype(np.int64),
        seg_nj=seg_nj.astype(np.int64),
        n1=n1.astype(np.int64),
        nj=nj.astype(np.int64),
        n_bins=int(n_bins),
    )


def certificate_levels(tau: float, alpha: float) -> np.ndarray:
    """t_0 = tau < ... < t_LEVELS = alpha, evenly spaced in log p (all alpha when tau = alpha)."""
    return tau * (alpha / tau) ** (np.arange(LEVELS + 1) / LEVELS)


def uncleared_level(at_most: np.ndarray, t: np.ndarray, n_pairs: int, alpha: float) -> int:
    """The highest level b >= 1 where more than n_pairs·t_(b−1)/alpha pairs may have p <= t_b, so that a
    Benjamini–Hochberg cut may lie in (t_(b−1), t_b]; 0 when none (every cut lies at or below t_0)."""
    bad = [b for b in range(1, len(t)) if at_most[b] > n_pairs * t[b - 1] / alpha]
    return max(bad, default=0)


def pair_pass(index: Index, alpha: float, *, n_jobs: int = 2, block_rows: int = 64, budget: int | None = None,
              on_rows=None, rows_runner=None) -> PassResult:
    """The pass over all ordered pairs, n_jobs blocks of block_rows leading accounts at once.

    1. tau from the budget, the certificate's levels and their Poisson limit tables up to the largest count;
    2. the blocks on threads (the kernel holds no GIL), or on a cluster (``rows_runner``, as
       ``dask_engine.dask_rows`` gives: ranges of leading accounts run by ``rows_part`` elsewhere): paper counts
       and level counts summed, records joined in row order, so both give the same result;
    3. the certificate; where a level is not clear, the pass again keeping every p up to that level;
    4. followers' positions back to account codes, records in (i, j) order."""
    n = len(index.nj)
    n_pairs = n * (n - 1)
    tau = min(alpha, alpha * (BUDGET if budget is None else budget) / max(n_pairs, 1))
    max_count = int(index.n1.max(initial=0))
    t = certificate_levels(tau, alpha)
    levels = np.vstack([poisson_limits(max_count, level) for level in t])
    run = rows_runner or (lambda *args: _run(*args, n_jobs=n_jobs))
    paper, at_most, ties, kept = run(index, levels, levels[0], block_rows, on_rows)
    level, passes = uncleared_level(at_most, t, n_pairs, alpha), 1
    if level:
        tau, passes = float(t[level]), 2
        paper, _, ties, kept = run(index, levels, levels[level], block_rows, None)
    return PassResult(paper, _as_accounts(ties, index.order), _as_accounts(kept, index.order), tau, passes)


def _as_accounts(records: np.ndarray, order: np.ndarray) -> np.ndarray:
    records = records.copy()
    records[1] = order[records[1]]
    return records[:, np.lexsort((records[1], records[0]))]


def rows_part(index: Index, levels, keep_limits, r0: int, r1: int, block_rows: int):
    """Leading accounts r0..r1, block by block in one thread: (paper, at_most, ties, kept), as ``_run`` sums them."""
    rate = _rate(index)
    parts = [_rows_block(index, rate, levels, keep_limits, b0, min(r1, b0 + block_rows))
             for b0 in range(r0, r1, max(1, block_rows))]
    return merge_parts(parts, levels.shape[0])


def merge_parts(parts, n_levels: int):
    """Blocks' (paper, at_most, ties, kept), in row order, summed and joined."""
    paper, at_most = 0, np.zeros(n_levels, np.int64)
    for part in parts:
        paper += int(part[0])
        at_most += part[1]
    join = lambda k: np.concatenate([p[k] for p in parts], axis=1) if parts else np.zeros((3, 0), np.int64)  # noqa: E731
    return paper, at_most, join(2), join(3)


def _rate(index: Index) -> np.ndarray:
    return index.n1 / (index.n_bins - 1)


def _rows_block(index: Index, rate, levels, keep_limits, r0: int, r1: int):
    count_type = np.uint16 if index.n_bins <= UINT16_BINS else np.int32
    return _block(r0, r1, index.lead_ptr, index.lead_k, index.fol_ptr, index.fol_pos, index.pos, index.n1,
                  index.seg_ptr, index.seg_nj, rate, np.int64(index.n_bins - 1), levels, keep_limits,
                  np.zeros(len(index.nj), count_type))


def _run(index: Index, levels, keep_limits, block_rows: int, on_rows, *, n_jobs: int):
    n = len(index.nj)
    starts = range(0, n, max(1, block_rows))
    rate = _rate(index)

    def block(r0):
        return _rows_block(index, rate, levels, keep_limits, r0, min(n, r0 + block_rows))

    parts = []
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        for r0, part in zip(starts, pool.map(block, starts)):
            parts.append(part)
            if on_rows:
                on_rows(min(n, r0 + block_rows))
    return merge_parts(parts, levels.shape[0])
