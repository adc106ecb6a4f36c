"""The cast: organic residents, the operation's seed accounts, and the amplifiers that follow them."""
from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

from . import vocab
from .rand import log_uniform, rng_for
from .records import OPERATION, ORGANIC, SEED, Account

if TYPE_CHECKING:
    from .config import OperationConfig

TWITTER_EPOCH_MS = 1288834974657  # snowflake ids count milliseconds from here (2010-11-04)
# The town's two official voices: residents mention them, and the operation targets them.
OFFICIALS = (("RivertonCouncil", "Riverton Town Council"), ("RivertonGazette", "The Riverton Gazette"))


def build_accounts(config: OperationConfig) -> list[Account]:
    """Organic accounts first, then seeds, then amplifiers; each drawn from its own stream."""
    start, taken = date.fromisoformat(config.start), set()
    organic = [_organic(rng_for(config.seed, "account", ORGANIC, str(i)), i, config, start, taken)
               for i in range(config.organic_accounts)]
    seeds = [_operation(rng_for(config.seed, "account", SEED, str(i)), i, SEED, start, taken)
             for i in range(config.seed_accounts)]
    amplifiers = [_operation(rng_for(config.seed, "account", OPERATION, str(i)), i, OPERATION, start, taken)
                  for i in range(config.operation_accounts - config.seed_accounts)]
    _befriend(rng_for(config.seed, "friends"), organic)
    return organic + seeds + amplifiers


def officials(accounts: list[Account]) -> list[Account]:
    return [a for a in accounts if a.handle in {handle for handle, _ in OFFICIALS}]


def snowflake(ms: int, low_bits: int) -> str:
    """An id in X's snowflake layout: the time in the high bits, so ids sort like the posts do."""
    return str(((ms - TWITTER_EPOCH_MS) << 22) | (low_bits & 0x3FFFFF))


def _organic(rng: random.Random, index: int, config: OperationConfig, start: date, taken: set) -> Account:
    first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
    created = start - timedelta(days=rng.randint(120, 14 * 365))
    followers = int(rng.lognormvariate(math.log(250), 1.3))
    account = Account(
        userid=_user_id(rng, created, taken), handle=_organic_handle(rng, first, last, taken),
        display_name=rng.choice((f"{first} {last}", first, f"{first} {last[0]}.")), role=ORGANIC,
        created=created.isoformat(), followers=followers, following=int(rng.lognormvariate(math.log(300), 0.9)),
        client=rng.choice(vocab.ORGANIC_CLIENTS), location=rng.choice(vocab.LOCATIONS),
        description=" ".join(rng.sample(vocab.BIO_BITS, k=rng.randint(0, 3))),
        profile_url=f"https://{_slug(first, last)}.example" if rng.random() < 0.15 else "",
        rate=log_uniform(rng, *config.organic_posts_per_day), utc_offset=rng.choice((-8, -7, -6, -5, -5, -5, 0, 0, 1)),
        active_from=rng.uniform(6, 10), active_hours=rng.uniform(9, 16),
        topics=tuple(rng.sample(sorted(vocab.TOPICS), k=rng.randint(1, 3))),
    )
    return _as_official(account, index, taken) if index < len(OFFICIALS) else account


def _as_official(account: Account, index: int, taken: set) -> Account:
    taken.discard(account.handle.lower())
    account.handle, account.display_name = OFFICIALS[index]
    taken.add(account.handle.lower())
    account.followers, account.rate, account.topics = 15000 + 9000 * index, 4.0, ("local",)
    account.description, account.client = "News and notices for Riverton.", "Twitter Web App"
    return account


def _operation(rng: random.Random, index: int, role: str, start: date, taken: set) -> Account:
    """Recently created, few followers, one client, one shift: the marks of a run of sock puppets."""
    first, last = rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)
    is_seed = role == SEED
    created = start - timedelta(days=rng.randint(60, 150) if is_seed else rng.randint(15, 40))
    # Amplifiers keep the sign-up default handle: a clipped name and eight digits.
    default_handle = f"{first}{last}"[:7] + str(rng.randint(10**7, 10**8 - 1))
    handle = _seed_handle(index, taken) if is_seed else _unique(default_handle, taken)
    return Account(
        userid=_user_id(rng, created, taken), handle=handle, display_name=f"{first} {last}", role=role,
        created=created.isoformat(), followers=rng.randint(50, 400) if is_seed else rng.randint(0, 40),
        following=rng.randint(80, 600), client=rng.choice(vocab.OPERATION_CLIENTS),
        location=rng.choice(vocab.OPERATION_LOCATIONS), description=rng.choice(vocab.OPERATION_BIOS),
    )


def _befriend(rng: random.Random, organic: list[Account]) -> None:
    """Each resident knows a few others (and often the officials); mentions and replies go to them."""
    for account in organic:
        others = [a for a in rng.sample(organic, k=min(len(organic), 8)) if a is not account]
        account.friends = others[: rng.randint(3, 7)] + [a for a in organic[: len(OFFICIALS)] if rng.random() < 0.3]


def _user_id(rng: random.Random, created: date, taken: set) -> str:
    """Snowflake ids from the creation time for accounts made after 2010; small numbers before."""
    moment = datetime(created.year, created.month, created.day, tzinfo=timezone.utc)
    ms = int(moment.timestamp() * 1000) + rng.randrange(86_400_000)
    while True:
        userid = snowflake(ms, rng.getrandbits(22)) if ms > TWITTER_EPOCH_MS else str(rng.randint(10**6, 2 * 10**8))
        if userid not in taken:
            taken.add(userid)
            return userid


def _organic_handle(rng: random.Random, first: str, last: str, taken: set) -> str:
    pattern = rng.randrange(4)
    base = (f"{first}{last}", f"{first}_{last[0]}", f"{first}{rng.randint(1, 99)}", f"the{last}s")[pattern]
    return _unique(base.lower()[:15], taken)


def _seed_handle(index: int, taken: set) -> str:
    names = vocab.SEED_HANDLES
    return _unique(names[index % len(names)] + (str(index // len(names)) if index >= len(names) else ""), taken)


def _unique(handle: str, taken: set) -> str:
    candidate, n = handle, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{handle[:13]}{n}"
    taken.add(candidate.lower())
    return candidate


def _slug(*words: str) -> str:
    return "-".join(word.lower() for word in words)
