"""The evidence behind an edge: the posts and entities that make it, with their times and lags."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .activity import to_seconds
from .influence import InfluenceConfig, filter_events


def edge_evidence(events: pd.DataFrame, source, target, config: InfluenceConfig = InfluenceConfig(),
                  start: float | None = None) -> pd.DataFrame:
    """Influence edge source→target: every (entity, bin) where source was active at k−1 and target at k.

    Returns entity, entity_type, source_time, target_time, lag_s (and post ids when present),
    one row per pair of posts, sorted by time. `start` must match the grid of the network."""
    rows = filter_events(events, config)
    seconds = to_seconds(rows["time"])
    origin = float(np.nanmin(seconds)) if start is None else start
    rows = rows.assign(seconds=seconds, bin=np.floor((seconds - origin) / config.bin_seconds).astype(np.int64))
    keep = [c for c in ("entity", "entity_type", "seconds", "bin", "post_id") if c in rows.columns]
    lead = rows.loc[rows["account"] == source, keep].assign(bin=lambda f: f["bin"] + 1)
    follow = rows.loc[rows["account"] == target, keep]
    joined = lead.merge(follow, on=["entity", "entity_type", "bin"], suffixes=("_source", "_target"))
    joined = joined.rename(columns={"seconds_source": "source_time", "seconds_target": "target_time"})
    joined["lag_s"] = joined["target_time"] - joined["source_time"]
    return joined.drop(columns="bin").sort_values("source_time").reset_index(drop=True)


def coaction_evidence(posts: pd.DataFrame, first, second, *, window: float, action: str | None = None) -> pd.DataFrame:
    """Co-action edge: pairs of posts by the two accounts on the same target within the window."""
    rows = posts if action is None else posts[posts["action"] == action]
    rows = rows[rows["target"].notna() & (rows["target"].astype(str).str.strip() != "")]
    rows = rows.assign(seconds=to_seconds(rows["time"]))
    keep = [c for c in ("action", "target", "seconds", "post_id") if c in rows.columns]
    a, b = rows.loc[rows["account"] == first, keep], rows.loc[rows["account"] == second, keep]
    joined = a.merge(b, on=["action", "target"], suffixes=("_first", "_second"))
    joined["lag_s"] = joined["seconds_second"] - joined["seconds_first"]
    return joined[joined["lag_s"].abs() <= window].sort_values("seconds_first").reset_index(drop=True)
