"""A generated collection for authorship tests: one account with a style of its own, a few foreign
posts slipped into its stream (the seed's hijacked tweet), and other accounts to learn against."""
from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.support.files import IRA_HEADER

TARGET = "green_thumb"
INJECTED = [
    "BREAKING: Two explosions in the White House and Barack Obama is injured",
    "BREAKING: officials confirm explosions near the capitol, several people injured",
    "URGENT: police report shooting downtown, officials say two injured #breaking",
]
GARDEN = "tomatoes roses compost seedlings basil mulch tulips greenhouse courgettes sunflowers lavender beans".split()
GARDEN_LINES = [
    "my {a} and {b} look lovely this morning, so happy with the garden",
    "spent the afternoon with the {a}, the {b} need a bit more sun i think",
    "little update from the allotment: {a} are up and the {b} smell amazing",
    "watered the {a} twice today, hoping the {b} survive the heatwave",
    "anyone else growing {a} next to {b}? mine are doing brilliantly",
]
OTHERS = {
    "newsdesk_now": [
        "BREAKING: {n} injured after explosion in {p}, officials say",
        "UPDATE: police confirm {n} arrests in {p} #breaking",
        "BREAKING: officials report fire near {p}, {n} evacuated",
    ],
    "match_day": [
        "GOAL!!! {t} beat {u} {n}-0 tonight #football",
        "FULL TIME: {t} {n} {u} 1, what a match!!!",
        "{t} sign a new striker for {n} million, huge news for the club #transfer",
    ],
    "senate_watch": [
        "Senator from {p} votes against the {t} bill, read more",
        "The {t} bill passed {n} to 40 in the senate today",
        "Hearing on the {t} act in {p} postponed again, {n} witnesses waiting",
    ],
    "crypto_moon": [
        "$BTC to the moon!!! up {n}% today, {t} holders wagmi",
        "buy the dip, {t} is going {n}x this week #crypto",
        "{t} just broke resistance at {n}k, bullish af",
    ],
}
FILL = {
    "p": "Ohio Texas Paris London Berlin Boston".split(),
    "t": "Arsenal Chelsea Leeds Everton Fulham Wolves".split(),
    "u": "Spurs Villa Forest Brentford".split(),
}


def authorship_rows(*, own: int = 80, others: int = 60, seed: int = 6) -> list[dict]:
    """Rows {handle, platform_id, text, time, retweet}, the injected posts among the target's latest."""
    rng = random.Random(seed)
    start = datetime(2016, 3, 1, tzinfo=timezone.utc)
    rows = []
    for i in range(own):
        line = rng.choice(GARDEN_LINES).format(a=rng.choice(GARDEN), b=rng.choice(GARDEN))
        rows.append(_row(TARGET, 1, f"{line} ({i})", start + timedelta(hours=7 * i)))
    for j, text in enumerate(INJECTED):
        rows.append(_row(TARGET, 1, text, start + timedelta(hours=7 * (own // 2 + 10 * j) + 3)))
    for a, (handle, lines) in enumerate(OTHERS.items(), start=2):
        for i in range(others):
            text = rng.choice(lines).format(n=rng.randrange(2, 99), **{k: rng.choice(v) for k, v in FILL.items()})
            rows.append(_row(handle, a, f"{text} #{i}", start + timedelta(hours=9 * i + a)))
    rows.append({**_row(TARGET, 1, "RT @match_day: GOAL!!! what a match", start + timedelta(hours=2)), "retweet": True})
    return rows


def _row(handle: str, account: int, text: str, when: datetime) -> dict:
    return {"handle": handle, "platform_id": str(1000 + account), "text": text, "time": when, "retweet": False}


def write_authorship_csv(path: Path, rows: list[dict]) -> Path:
    """The rows as a FiveThirtyEight-IRA-style CSV, for `import_collection`."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(IRA_HEADER)
        for r in rows:
            when = r["time"].strftime("%Y-%m-%d %H:%M:%S")
            out.writerow(
                [
                    r["platform_id"],
                    r["handle"],
                    r["text"],
                    "United States",
                    "English",
                    when,
                    when,
                    "10",
                    "20",
                    "30",
                    "RETWEET" if r["retweet"] else "",
                    "Right",
                    "1" if r["retweet"] else "0",
                    "NewsFeed",
                    "0",
                ]
            )
    return path


def store_authorship_collection(collection, rows: list[dict]) -> None:
    """The rows straight into the tables (the import itself is tested elsewhere)."""
    from apps.collections.models import Account, Post

    accounts = {}
    for r in rows:
        if r["handle"] not in accounts:
            accounts[r["handle"]] = Account.objects.create(
                collection=collection, platform_id=r["platform_id"], handle=r["handle"]
            )
    Post.objects.bulk_create(
        [
            Post(
                collection=collection,
                platform_id=f"{r['platform_id']}-{i}",
                account=accounts[r["handle"]],
                text=r["text"],
                time=r["time"],
                kind=Post.Kind.REPOST if r["retweet"] else Post.Kind.POST,
            )
            for i, r in enumerate(rows)
        ]
    )
