"""Parameter checks shared by the ml packages' configs: one clear ValueError (or the package's own subclass of it)
naming the parameter and its range."""
from __future__ import annotations

import math


def check_range(name: str, value, low=None, high=None, *, low_open=False, high_open=False, error=ValueError) -> None:
    """Raise error("name must be in [low, high], got value") when value falls outside."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        left = ("(" if low_open else "[") + (str(low) if low is not None else "-inf")
        right = (str(high) if high is not None else "inf") + (")" if high_open else "]")
        raise error(f"{name} must be in {left}, {right}, got {value!r}")


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")


def check_columns(frame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs columns {list(columns)}; missing {missing}")
