"""Organic residents: everyday chatter on each account's own rhythm, answering each other hours later."""
from __future__ import annotations

import random
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

from . import vocab
from .rand import poisson, rng_for
from .records import ORGANIC, Account, Post, Window, retweet_of

if TYPE_CHECKING:
    from .config import OperationConfig

DAY, HOUR = 86_400, 3_600


def organic_posts(config: OperationConfig, accounts: list[Account], window: Window,
                  narratives: list[Post]) -> list[Post]:
    """1. Each resident fills posting slots on its own rhythm (rate, waking hours, day-to-day swings).
    2. Some slots become retweets or replies of an earlier post by someone else, hours before. The
       seeds' narratives are among those posts: residents pass campaign posts on too, only slowly.
    """
    residents = [a for a in accounts if a.role == ORGANIC]
    posts = [post for account in residents for post in _account_posts(config, account, window)]
    _respond(rng_for(config.seed, "organic", "responses"), config, posts, narratives)
    return posts


def _account_posts(config: OperationConfig, account: Account, window: Window) -> list[Post]:
    rng = rng_for(config.seed, "organic", account.userid)
    posts = []
    for day in range(-1, config.days + 1):  # a day either side: time zones push posts over the edges
        for _ in range(poisson(rng, account.rate * rng.uniform(0.4, 1.6))):
            local_hour = account.active_from + rng.random() * account.active_hours
            time = window.start + day * DAY + (local_hour - account.utc_offset) * HOUR
            if window.contains(time):
                posts.append(_slot(rng, config, account, time))
    return posts


def _slot(rng: random.Random, config: OperationConfig, account: Account, time: float) -> Post:
    """An original post, some marked to become a retweet or reply once all posts exist."""
    post = _original(rng, config, account, time)
    roll = rng.random()
    if roll < config.organic_retweet_share:
        post.kind = "retweet"
    elif roll < config.organic_retweet_share + config.organic_reply_share:
        post.kind = "reply"
    return post


def _original(rng: random.Random, config: OperationConfig, account: Account, time: float) -> Post:
    if rng.random() < config.organic_campaign_share:  # a resident taking part in the dam debate
        hashtags = [rng.choice(config.campaign_hashtags)]
        return Post(time, account, vocab.compose(rng.choice(vocab.ORGANIC_DAM_POSTS), hashtags=hashtags),
                    hashtags=hashtags)
    topic = vocab.TOPICS[rng.choice(account.topics)]
    body, _ = vocab.fill(rng, rng.choice(topic.templates), topic.slots)
    hashtags = rng.sample(topic.hashtags, k=rng.randint(1, 2)) if rng.random() < config.organic_hashtag_share else []
    urls = [_link(rng, topic)] if rng.random() < config.organic_link_share else []
    mentions = [rng.choice(account.friends)] if account.friends and rng.random() < config.organic_mention_share else []
    text = vocab.compose(body, mentions=[m.handle for m in mentions], urls=urls, hashtags=hashtags)
    return Post(time, account, text, hashtags=hashtags, urls=urls, mentions=mentions)


def _link(rng: random.Random, topic: vocab.Topic) -> str:
    section = rng.choice(("news", "post", "story", "p", "article"))
    return f"https://{rng.choice(topic.domains)}/{section}/{rng.randint(10_000, 999_999)}"


def _respond(rng: random.Random, config: OperationConfig, posts: list[Post], narratives: list[Post]) -> None:
    """Point each marked slot at an earlier original; a slot with nothing in reach stays an original."""
    originals = sorted((p for p in [*posts, *narratives] if p.kind == "post"), key=lambda p: p.time)
    times = [p.time for p in originals]
    for i, post in enumerate(posts):
        if post.kind == "post":
            continue
        target = _earlier(rng, config, originals, times, post)
        if target is None:
            post.kind = "post"
        elif post.kind == "retweet":
            posts[i] = retweet_of(target, post.author, post.time)
        else:
            posts[i] = _reply(rng, target, post)


def _earlier(rng: random.Random, config: OperationConfig, originals: list[Post], times: list[float],
             post: Post) -> Post | None:
    low_hours, high_hours = config.organic_lag_hours
    first = bisect_left(times, post.time - high_hours * HOUR)
    last = bisect_right(times, post.time - low_hours * HOUR)
    for _ in range(6 if first < last else 0):  # a few tries to find someone other than the author
        candidate = originals[rng.randrange(first, last)]
        if candidate.author is not post.author:
            return candidate
    return None


def _reply(rng: random.Random, target: Post, slot: Post) -> Post:
    text = vocab.compose(f"@{target.author.handle} {rng.choice(vocab.REPLIES)}")
    return Post(slot.time, slot.author, text, kind="reply", ref=target, mentions=[target.author])
