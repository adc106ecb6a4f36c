"""Parameter checks shared by the ml packages' configs: one clear ValueError (or the package's own subclass of it)
naming the parameter and its range, with the parameter's name as data (``error.field``) for callers that show it
next to the field it is about."""
from __future__ import annotations

import math


class ParamError(ValueError):
    """A config value out of its range or choices; ``field`` names the parameter."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _raise(error, message: str, field: str):
    exc = ParamError(message, field) if error is ValueError else error(message)
    exc.field = field
    raise exc


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
        _raise(error, f"{name} must be in {left}, {right}, got {value!r}", name)


def check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ParamError(f"{name} must be one of {sorted(allowed)}, got {value!r}", name)


def check_columns(frame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs columns {list(columns)}; missing {missing}")
