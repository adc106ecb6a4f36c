"""A small labelled collection for the text-model tests: troll accounts write about the border and the
election, control accounts about gardens and weather, so even a tiny BERT separates them quickly."""
from __future__ import annotations

import random

from apps.collections.models import Account, Collection, Post

TROLL = ["maga border wall now", "patriots vote fraud election", "build the wall patriots", "rigged election maga"]
CONTROL = [
    "sunny garden tomatoes today",
    "rain and weather forecast",
    "my garden roses bloom",
    "cooking soup recipe tonight",
]

# A topic neither side of a troll-vs-control model ever met (issue 16's off-topic collection).
PANDEMIC = ["vaccine trial results published", "covid cases rise in hospitals", "mask mandate lifted downtown",
            "booster shots for nurses"]


def texts() -> list[str]:
    return TROLL + CONTROL


def store_labelled_collection(
    investigation, name: str = "ira-sample", *, accounts: int = 8, posts: int = 12
) -> Collection:
    """``accounts`` troll accounts (RightTroll and LeftTroll alternately) and ``accounts`` Commercial ones,
    ``posts`` posts each; every post also has a veracity label (false for the trolls')."""
    rng = random.Random(0)
    collection = Collection.objects.create(investigation=investigation, name=name)
    rows = []
    for i in range(2 * accounts):
        troll = i < accounts
        category = ("RightTroll" if i % 2 else "LeftTroll") if troll else "Commercial"
        account = Account.objects.create(
            collection=collection, platform_id=f"{name}-{i}", handle=f"user{i}", labels={"account_category": category}
        )
        for j in range(posts):
            text = f"{rng.choice(TROLL if troll else CONTROL)} {rng.choice(TROLL if troll else CONTROL)} {j}"
            rows.append(
                Post(
                    collection=collection,
                    platform_id=f"{name}-{i}-{j}",
                    account=account,
                    text=text,
                    time="2016-10-01T00:00:00Z",
                    labels={"veracity": "false" if troll else "true"},
                )
            )
    Post.objects.bulk_create(rows)
    return collection


def collection_of(investigation, name: str, sentences: list[str], accounts: int = 10, posts: int = 8) -> Collection:
    """A collection on one topic: ``accounts`` accounts, ``posts`` posts each of two of ``sentences`` (seeded by the
    name) and the post's number, one post a day from 2016-10-01."""
    rng = random.Random(name)
    collection = Collection.objects.create(investigation=investigation, name=name)
    rows = []
    for i in range(accounts):
        account = Account.objects.create(collection=collection, platform_id=f"{name}-{i}", handle=f"{name}{i}")
        rows += [Post(collection=collection, platform_id=f"{name}-{i}-{j}", account=account,
                      text=f"{rng.choice(sentences)} {rng.choice(sentences)} {j}",
                      time=f"2016-10-{1 + j:02d}T00:00:00Z") for j in range(posts)]
    Post.objects.bulk_create(rows)
    return collection
