"""Seeded randomness for the simulation: one stream per part, and the few draws the stdlib lacks."""
from __future__ import annotations

import math
import random


def rng_for(seed: int, *parts: str) -> random.Random:
    """A generator of its own for each part (an account, a narrative post, ...).

    Separate streams keep parts independent: adding an organic account or changing how amplifiers
    draw leaves every other part's draws, and so its rows, unchanged. String seeds are hashed with
    SHA-512 by ``random``, so the streams do not depend on PYTHONHASHSEED.
    """
    return random.Random("/".join([str(seed), *parts]))


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson count; Knuth's method is exact and quick for the small daily rates drawn here."""
    if lam <= 0:
        return 0
    if lam > 50:  # the product below would underflow; the normal approximation is fine this high
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, count, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def log_uniform(rng: random.Random, low: float, high: float) -> float:
    """Uniform in log space: most draws near ``low``, a long tail up to ``high`` (rates, lags)."""
    return math.exp(rng.uniform(math.log(low), math.log(high)))
