"""A seeded, synthetic information operation in the X information-operations archive CSV layout.

No third-party data may ship with the portal, so the demo investigation is generated here: a town's
residents chatting on their own rhythms, and a small operation whose seed accounts push a narrative
that amplifier accounts echo within seconds to minutes. The coordination follows what the
influence-model study of a state-linked operation found (Table 1, sections 5.3-5.4): shared
hashtags, URLs and mentions in tight time windows, leaders with few followers whose posts others
pick up first, and an event after which the activity and the coordination both rise.

Ground truth stays out of the CSV (the schema is the archive's, exactly) and goes to a
``.truth.json`` file beside it, so detectors can be scored against it.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import random
import time as clock
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from .accounts import TWITTER_EPOCH_MS, build_accounts, snowflake
from .campaign import operation_posts
from .config import OperationConfig
from .organic import organic_posts
from .rand import rng_for
from .records import OPERATION, SEED, Post, Window

X_ARCHIVE_COLUMNS: list[str] = [
    "tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location",
    "user_profile_description", "user_profile_url", "follower_count", "following_count",
    "account_creation_date", "account_language", "tweet_language", "tweet_text", "tweet_time",
    "tweet_client_name", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid", "is_retweet",
    "retweet_userid", "retweet_tweetid", "latitude", "longitude", "quote_count", "reply_count", "like_count",
    "retweet_count", "hashtags", "urls", "user_mentions", "poll_choices",
]


def simulate_operation(config: OperationConfig = OperationConfig()) -> Iterator[dict]:
    """Rows of the archive CSV (all values strings), in time order.

    1. The cast (residents, seeds, amplifiers), then the operation's posts, then the residents'
       (whose retweets and replies may reach the seeds' narratives, so they need them first).
    2. Sort by time and give tweet ids in X's snowflake layout, so the id carries the exact
       millisecond that the minute-resolution ``tweet_time`` drops.
    3. Count the retweets, quotes and replies each post received, for its engagement columns.
    """
    accounts, window = build_accounts(config), _window(config)
    campaign = operation_posts(config, accounts, window)
    narratives = [post for post in campaign if post.narrative is not None]
    posts = sorted(campaign + organic_posts(config, accounts, window, narratives), key=lambda p: p.time)
    for index, post in enumerate(posts):
        post.tweetid = snowflake(int(post.time * 1000), index)
    _count_engagement(posts)
    likes = rng_for(config.seed, "likes")
    return (_row(likes, post) for post in posts)


def operation_truth(config: OperationConfig = OperationConfig()) -> dict:
    """Who is in the operation: the answers a detector is scored against. Seeds are operation accounts too."""
    accounts = build_accounts(config)
    return {
        "operation_userids": [a.userid for a in accounts if a.role in (SEED, OPERATION)],
        "seed_userids": [a.userid for a in accounts if a.role == SEED],
        "event_date": config.event_date.isoformat(),
        "config": asdict(config),
    }


def truth_path(path: str | Path) -> Path:
    """``demo.csv.gz`` -> ``demo.truth.json``, beside it."""
    path = Path(path)
    name = path.name.removesuffix(".gz").removesuffix(".csv")
    return path.with_name(f"{name}.truth.json")


def write_operation_csv(path: str | Path, config: OperationConfig = OperationConfig()) -> dict:
    """Write the CSV (gzip when the name ends .gz) and its truth file; return summary counts.

    The same config gives the same bytes: the gzip header carries no name or time.
    """
    path, truth = Path(path), operation_truth(config)
    operation_ids, users = set(truth["operation_userids"]), set()
    counts = {"rows": 0, "operation_rows": 0, "retweets": 0}
    with _open_for_writing(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=X_ARCHIVE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in simulate_operation(config):
            writer.writerow(row)
            users.add(row["userid"])
            counts["rows"] += 1
            counts["operation_rows"] += row["userid"] in operation_ids
            counts["retweets"] += row["is_retweet"] == "True"
    truth_file = truth_path(path)
    truth_file.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return {**counts, "accounts": len(users), "operation_accounts": len(users & operation_ids),
            "seed_accounts": len(truth["seed_userids"]), "event_date": truth["event_date"],
            "out": str(path), "truth": str(truth_file)}


def snowflake_time(tweetid: str) -> datetime:
    """The exact UTC time a generated tweet id encodes (X's snowflake layout)."""
    return datetime.fromtimestamp(((int(tweetid) >> 22) + TWITTER_EPOCH_MS) / 1000, timezone.utc)


@contextmanager
def _open_for_writing(path: Path) -> Iterator[io.TextIOBase]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        raw = stack.enter_context(open(path, "wb"))
        if path.suffix == ".gz":
            raw = stack.enter_context(gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6))
        yield stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8", newline=""))


def _window(config: OperationConfig) -> Window:
    start = datetime.fromisoformat(config.start).replace(tzinfo=timezone.utc).timestamp()
    event = datetime.combine(config.event_date, datetime.min.time(), timezone.utc).timestamp()
    return Window(start=start, end=start + config.days * 86_400, event=event)


def _count_engagement(posts: list[Post]) -> None:
    for post in posts:
        if post.ref is not None:
            field = {"retweet": "retweets", "quote": "quotes", "reply": "replies"}[post.kind]
            setattr(post.ref, field, getattr(post.ref, field) + 1)


def _row(likes: random.Random, post: Post) -> dict:
    author, ref, kind = post.author, post.ref, post.kind
    reach = 0 if kind == "retweet" else post.retweets  # the archive gives retweets no engagement of their own
    like_count = 0 if kind == "retweet" else int(likes.random() * author.followers ** 0.5) + 2 * reach
    return {
        "tweetid": post.tweetid, "userid": author.userid, "user_display_name": author.display_name,
        "user_screen_name": author.handle, "user_reported_location": author.location,
        "user_profile_description": author.description, "user_profile_url": author.profile_url,
        "follower_count": str(author.followers), "following_count": str(author.following),
        "account_creation_date": author.created, "account_language": "en", "tweet_language": "en",
        "tweet_text": post.text, "tweet_time": clock.strftime("%Y-%m-%d %H:%M", clock.gmtime(post.time)),
        "tweet_client_name": author.client,
        "in_reply_to_userid": ref.author.userid if kind == "reply" else "",
        "in_reply_to_tweetid": ref.tweetid if kind == "reply" else "",
        "quoted_tweet_tweetid": ref.tweetid if kind == "quote" else "",
        "is_retweet": "True" if kind == "retweet" else "False",
        "retweet_userid": ref.author.userid if kind == "retweet" else "",
        "retweet_tweetid": ref.tweetid if kind == "retweet" else "",
        "latitude": "", "longitude": "",
        "quote_count": str(0 if kind == "retweet" else post.quotes),
        "reply_count": str(0 if kind == "retweet" else post.replies),
        "like_count": str(like_count), "retweet_count": str(reach),
        "hashtags": _listed(post.hashtags), "urls": _listed(post.urls),
        "user_mentions": _listed(m.userid for m in post.mentions), "poll_choices": "",
    }


def _listed(items) -> str:
    """The archive's list cells: ``[a, b]``, and ``[]`` when empty."""
    return "[" + ", ".join(items) + "]"
