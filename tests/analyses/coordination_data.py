"""A generated collection for the coordination tests: 24 residents posting their own hashtags and
links at their own times, and a planted group of 6 (a leader, `op_leader`, and five echoes) who
repeat the leader's hashtag and link 60-105 seconds after each of its posts: in the next minute,
which is what the influence model sees with one-minute bins (BIN_SECONDS). Written straight into the
tables (Account, Post, Entity, Interaction), as ingest would derive them."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

LEADER = "op_leader"
ECHOES = [f"op_echo{i}" for i in range(1, 6)]
PLANTED = [LEADER, *ECHOES]
RESIDENTS = [f"resident{i:02d}" for i in range(24)]
START = datetime(2024, 3, 1, tzinfo=timezone.utc)
DAYS = 20
EVENT_DATE = "2024-03-11"
BIN_SECONDS = 60
WINDOW = 120
CAMPAIGN_TAGS = ["stopthedam", "clearwatertruth", "wakeupriverton"]
TOWN_TAGS = [f"town{i}" for i in range(40)]


def store_coordination_collection(collection, *, seed: int = 4) -> dict[str, int]:
    """Returns {handle: account pk}. The leader posts twice a day; each echo repeats each post
    (same hashtag, same link, plain text copy) with probability 0.8, the next minute."""
    from apps.collections.models import Account, Entity, Interaction, Post

    rng = random.Random(seed)
    accounts = {h: Account.objects.create(collection=collection, platform_id=str(900 + i), handle=h,
                                          labels={"account_category": "Operation" if h in PLANTED else "Resident"})
                for i, h in enumerate(PLANTED + RESIDENTS)}
    rows = []  # (handle, time, hashtag, url, text)
    for day in range(DAYS):
        for wave in range(2):
            when = START + timedelta(
                days=day, hours=8 + 6 * wave, minutes=rng.randrange(50), seconds=rng.uniform(0, 10)
            )
            tag, url = rng.choice(CAMPAIGN_TAGS), f"clearwater-truth.example/story-{day}-{wave}"
            text = f"The dam deal is a scandal, read this now #{tag} {url} ({day}-{wave})"
            rows.append((LEADER, when, tag, url, text))
            for echo in ECHOES:
                if rng.random() < 0.8:
                    rows.append((echo, when + timedelta(seconds=rng.uniform(60, 105)), tag, url, text))
        for resident in RESIDENTS:
            for _ in range(rng.randrange(1, 3)):
                when = START + timedelta(days=day, hours=rng.uniform(0, 24))
                tag = rng.choice(TOWN_TAGS)
                url = f"riverton-post.example/item-{rng.randrange(200)}" if rng.random() < 0.4 else None
                rows.append(
                    (resident, when, tag, url, f"{resident} talks about #{tag} on day {day} {rng.random():.6f}")
                )
    posts = Post.objects.bulk_create(
        [
            Post(collection=collection, platform_id=f"p{i}", account=accounts[h], text=text, time=when)
            for i, (h, when, _tag, _url, text) in enumerate(rows)
        ]
    )
    entities = {}
    for _h, _when, tag, url, _text in rows:
        for kind, value in (("hashtag", tag), ("url", url)):
            if value and (kind, value) not in entities:
                entities[(kind, value)] = Entity(collection=collection, kind=kind, value=value)
    Entity.objects.bulk_create(list(entities.values()))
    ids = {(e.kind, e.value): e for e in Entity.objects.filter(collection=collection)}
    Interaction.objects.bulk_create(
        [
            Interaction(
                collection=collection,
                post=post,
                source_account=accounts[h],
                action=kind,
                target_entity=ids[(kind, value)],
                time=when,
            )
            for post, (h, when, tag, url, _text) in zip(posts, rows)
            for kind, value in (("hashtag", tag), ("url", url))
            if value
        ]
    )
    return {h: a.pk for h, a in accounts.items()}
