"""Parameter checks shared by the analysis kinds' ``params_check``: each returns the clean value, or the
default after writing a sentence for the analyst into ``errors[key]`` (all problems are reported at once)."""
from __future__ import annotations

import math
import re

_FIELD = re.compile(r"^(\w+) must")


def check_int(params: dict, key: str, default: int, low: int, high: int, errors: dict) -> int:
    """A whole number in [low, high]; missing or blank gives the default."""
    raw = params.get(key)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[key] = f"{key} must be a whole number; got {raw!r}."
        return default
    if not low <= value <= high:
        errors[key] = f"{key} must be between {low:,} and {high:,}; got {value:,}."
    return value


def check_flag(raw, default: bool) -> bool:
    """A yes/no switch as forms, the API and ``--param`` send it: 0/false/no/off are no; missing or blank
    gives the default."""
    if raw in (None, ""):
        return default
    if isinstance(raw, str):
        return raw.strip().lower() not in ("0", "false", "no", "off")
    return bool(raw)


def check_float(params: dict, key: str, default: float, low: float, high: float, errors: dict, *, open_low: bool = False,
                open_high: bool = False) -> float:
    raw = params.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors[key] = f"{key} must be a number; got {raw!r}."
        return default
    too_low = value <= low if open_low else value < low
    too_high = value >= high if open_high else value > high
    if math.isnan(value) or too_low or too_high:
        left, right = "(" if open_low else "[", ")" if open_high else "]"
        errors[key] = f"{key} must be in {left}{low:g}, {high:g}{right}; got {raw!r}."
    return value


def check_list(params: dict, key: str, default: tuple, allowed: tuple | None, errors: dict) -> list[str]:
    """A list, or a comma-separated string (the command line's --param key=a,b)."""
    raw = params.get(key, default)
    values = [v.strip() for v in raw.split(",")] if isinstance(raw, str) else [str(v).strip() for v in (raw or [])]
    values = list(dict.fromkeys(v for v in values if v))
    if allowed is not None:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            errors[key] = f"{key}: unknown {', '.join(unknown)}; choose from {', '.join(allowed)}."
        elif not values:
            errors[key] = f"{key}: choose at least one of {', '.join(allowed)}."
    return values


def check_choice(params: dict, key: str, default: str, allowed: tuple, errors: dict) -> str:
    value = str(params.get(key, default) or default).strip()
    if value not in allowed:
        errors[key] = f"{key} must be one of {', '.join(allowed)}; got {value!r}."
    return value


def check_unknown(params: dict, known: set, kind: str, errors: dict) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        errors["params"] = f"Unknown parameter(s) {', '.join(unknown)}; {kind} takes {', '.join(sorted(known))}."


def config_or_errors(make, errors: dict):
    """Build an ml config; its ValueError ("alpha must be in (0, 1), got 2") becomes that field's message."""
    try:
        return make()
    except ValueError as exc:
        match = _FIELD.match(str(exc))
        errors[match.group(1) if match else "params"] = str(exc)
        return None
