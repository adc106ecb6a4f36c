"""Choosing the influence model's time bin (docs/methods.md §influence model, time scales): a coordination at
one scale is invisible at another. The paper's 1-hour bins put a follower that copies within seconds into the
same bin as its leader, where the model (j at k after i at k−1) cannot see it; 60-second bins find it.

Two ways to suggest a scale, both pure functions of tables a job already has:

- the co-action window sweep of the same collection: the window after which the edges stop growing fastest
  (``sweep_knee``): coordinated pairs are found once the window covers their lag, chance pairs keep coming
  slowly after it;
- without a sweep, the inter-event times (``entity_gaps``): for each use of an entity, the gap to the nearest
  use of it by another account; their median is the collection's typical reaction time.

Either value is then matched to the nearest scale run (``nearest_scale``, on a log scale)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .activity import to_seconds

SECONDS_BAND = 300  # bins under five minutes catch scripted or scheduled co-posting
MINUTES_BAND = 3600  # under an hour: copy-paste amplification teams; from an hour: topical co-activity


def scale_band(bin_seconds: float) -> str:
    """"seconds", "minutes" or "hours": what kind of coordination a bin of this size catches."""
    if bin_seconds < SECONDS_BAND:
        return "seconds"
    return "minutes" if bin_seconds < MINUTES_BAND else "hours"


def duration_text(seconds: float) -> str:
    """60 → "1 min", 600 → "10 min", 90 → "90 s", 7200 → "2 h", 172800 → "2 d"."""
    seconds = float(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:.3g} s" if seconds < 600 else f"{seconds / 60:.3g} min"


def nearest_scale(seconds: float, scales) -> float:
    """The scale closest to ``seconds`` on a log scale (ties: the shorter)."""
    scales = sorted(float(s) for s in scales)
    if not scales:
        raise ValueError("nearest_scale needs at least one scale")
    target = math.log(max(float(seconds), 1e-9))
    return min(scales, key=lambda s: (abs(math.log(s) - target), s))


def sweep_edges(sweep: list[dict]) -> pd.Series:
    """Edges per window of a co-action sweep (rows: window, action, edges, significant_edges, ...), actions
    summed: the significant edges, or every edge where no window has a significant one (the series' name says
    which)."""
    frame = pd.DataFrame(sweep)
    if frame.empty or not {"window", "edges"} <= set(frame.columns):
        return pd.Series(dtype=float, name="edges")
    frame = frame[frame["window"] > 0]
    column = "significant_edges" if frame.get("significant_edges", pd.Series([0])).sum() > 0 else "edges"
    return frame.groupby("window")[column].sum().sort_index().astype(float).rename(column)


def sweep_knee(sweep: list[dict]) -> dict | None:
    """The window where the edges stop growing fastest, or None when the sweep cannot say.

    Growth is edges per tenfold widening of the window (the sweep's windows are spaced on a log scale); the
    knee is the window between two others where that growth falls the most: fast growth up to it, slow after.
    The first window is never the knee: with posts timed to the minute (the X archives) every window under a
    minute holds the same pairs, so no growth can be read into it. Returns {"window", "edges", "counted"
    ("significant edges" or "edges"), "before": (window, edges), "after": (window, edges)}; None with fewer
    than three windows, no edge at any, or growth that never slows."""
    edges = sweep_edges(sweep)
    if len(edges) < 3 or edges.max() <= 0:
        return None
    windows, counts = edges.index.to_numpy(float), edges.to_numpy(float)
    growth = np.diff(counts) / np.diff(np.log10(windows))  # growth[k - 1]: from window k - 1 to window k
    slowdown = growth[:-1] - growth[1:]  # at windows 1 .. K - 2
    k = int(np.argmax(slowdown)) + 1
    if slowdown[k - 1] <= 0:
        return None
    return {
        "window": float(windows[k]),
        "edges": int(counts[k]),
        "counted": edges.name.replace("_", " "),
        "before": (float(windows[k - 1]), int(counts[k - 1])),
        "after": (float(windows[k + 1]), int(counts[k + 1])),
    }


def entity_gaps(events: pd.DataFrame) -> np.ndarray:
    """For each use of an entity (rows: account, entity, time), the seconds to the nearest use of the same
    entity by another account; uses of an entity no other account used are left out.

    One sort by (entity, time); runs of one account's consecutive uses collapse, so the nearest other
    account's use is the end of the previous run or the start of the next one within the same entity."""
    frame = pd.DataFrame(
        {"entity": events["entity"].to_numpy(), "account": events["account"].to_numpy(),
         "t": to_seconds(events["time"])}
    ).sort_values(["entity", "t"], kind="mergesort")
    entity, account, t = frame["entity"].to_numpy(), frame["account"].to_numpy(), frame["t"].to_numpy(float)
    if len(t) < 2:
        return np.zeros(0)
    new_run = np.ones(len(t), bool)
    new_run[1:] = (entity[1:] != entity[:-1]) | (account[1:] != account[:-1])
    run = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    ends = np.concatenate([starts[1:], [len(t)]]) - 1
    run_entity = entity[starts]
    before = np.full(len(t), np.inf)
    after = np.full(len(t), np.inf)
    has_prev = run > 0
    has_prev[has_prev] = run_entity[run[has_prev] - 1] == entity[has_prev]
    before[has_prev] = t[has_prev] - t[ends[run[has_prev] - 1]]
    has_next = run < len(starts) - 1
    has_next[has_next] = run_entity[np.minimum(run[has_next] + 1, len(starts) - 1)] == entity[has_next]
    after[has_next] = t[starts[run[has_next] + 1]] - t[has_next]
    gaps = np.minimum(before, after)
    return gaps[np.isfinite(gaps)]
