"""Virality timelines: posts per hour or day for one hashtag or domain, split by a label (or score
band), with bursts flagged where a bin's count stands out from its rolling baseline (a z-score)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.checks import ParamError

FREQS = {"hour": "h", "day": "D"}


@dataclass(frozen=True)
class BurstConfig:
    freq: str = "hour"      # hour or day
    window: int = 24        # baseline: the previous `window` bins (the bin itself is left out)
    z: float = 3.0          # a burst: z-score at least this
    min_count: int = 3      # and at least this many posts (three posts after silence is not virality)

    def __post_init__(self):
        if self.freq not in FREQS:
            raise ParamError(f"freq must be one of {', '.join(FREQS)}, got {self.freq!r}", "freq")
        if self.window < 2:
            raise ParamError(f"window must be at least 2, got {self.window}", "window")
        if self.z <= 0:
            raise ParamError(f"z must be positive, got {self.z}", "z")


def band(value) -> str:
    """A label as a series name: strings as they are, numbers in [0, 1] (scores) in quarter bands."""
    if value is None or value == "":
        return "unlabelled"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if 0.0 <= value <= 1.0:
        low = min(int(value * 4), 3) / 4
        return f"score {low:.2f}–{low + 0.25:.2f}"
    return str(value)


def flag_bursts(counts: pd.Series, config: BurstConfig = BurstConfig()) -> pd.DataFrame:
    """Per bin: count, baseline mean and std over the previous ``window`` bins, z, burst. The std is
    floored at 1 so a flat zero baseline does not make every first post a burst."""
    previous = counts.shift(1).rolling(config.window, min_periods=2)
    mean, std = previous.mean(), previous.std(ddof=0).clip(lower=1.0)
    z = (counts - mean) / std
    out = pd.DataFrame({"count": counts, "baseline": mean, "z": z})
    out["burst"] = (out["z"] >= config.z) & (out["count"] >= config.min_count)
    return out


def timeline(times, labels=None, config: BurstConfig = BurstConfig()) -> dict:
    """Counts per bin (every bin from the first to the last, zeros included), per label band, and
    the bursts of the total: {"bins": [...], "series": {band: [...]}, "total": [...], "bursts": [...]}."""
    when = pd.to_datetime(pd.Series(times), utc=True)
    if when.empty:
        return {"bins": [], "series": {}, "total": [], "bursts": []}
    binned = when.dt.floor(FREQS[config.freq])
    index = pd.date_range(binned.min(), binned.max(), freq=FREQS[config.freq])
    bands = pd.Series([band(v) for v in (labels if labels is not None else [None] * len(when))], index=when.index)
    table = pd.crosstab(binned, bands).reindex(index, fill_value=0)
    total = table.sum(axis=1)
    flagged = flag_bursts(total, config)
    bursts = [{"time": t.isoformat(), "count": int(r["count"]), "z": round(float(r["z"]), 2)}
              for t, r in flagged[flagged["burst"]].iterrows()]
    return {"bins": [t.isoformat() for t in index], "total": total.astype(int).tolist(),
            "series": {str(c): table[c].astype(int).tolist() for c in table.columns}, "bursts": bursts,
            "z": [None if np.isnan(v) else round(float(v), 2) for v in flagged["z"]]}
