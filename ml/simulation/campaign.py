"""The operation: seeds post a narrative in waves, amplifiers echo it within seconds to minutes."""
from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from . import vocab
from .accounts import officials
from .rand import log_uniform, poisson, rng_for
from .records import OPERATION, SEED, Account, Post, Window, retweet_of

if TYPE_CHECKING:
    from .config import OperationConfig

DAY, HOUR = 86_400, 3_600
FILLER_TOPICS = ("life", "weather", "sports")  # cover chatter, so the accounts do not post only campaign


def operation_posts(config: OperationConfig, accounts: list[Account], window: Window) -> list[Post]:
    """1. Waves: during the operation's shift one or more seeds post a narrative; after the event
          there are ``event_intensity`` times as many waves.
    2. Amplification: each amplifier, with ``amplify_probability``, retweets, quotes or near-copies
       each narrative a short lag later.
    3. Filler: every operation account also posts everyday chatter in the same shift.
    """
    seeds = [a for a in accounts if a.role == SEED]
    amplifiers = [a for a in accounts if a.role == OPERATION]
    narratives = _narratives(rng_for(config.seed, "narratives"), config, seeds, officials(accounts), window)
    amplified = [post for i, narrative in enumerate(narratives)
                 for post in _amplify(rng_for(config.seed, "amplify", str(i)), config, narrative, amplifiers, window)]
    filler = [post for account in seeds + amplifiers for post in _filler(config, account, window)]
    return narratives + amplified + filler


def _narratives(rng: random.Random, config: OperationConfig, seeds: list[Account], targets: list[Account],
                window: Window) -> list[Post]:
    posts = []
    for day in range(config.days if seeds else 0):
        day_start = window.start + day * DAY
        after = day_start >= window.event
        for _ in range(poisson(rng, config.waves_per_day * (config.event_intensity if after else 1.0))):
            wave = day_start + rng.uniform(*config.operation_hours) * HOUR
            for seed in rng.sample(seeds, k=min(len(seeds), 1 + poisson(rng, 0.5))):
                posts.append(_narrative(rng, config, seed, wave + rng.uniform(0, 120), after, targets))
    return [post for post in posts if window.contains(post.time)]


def _narrative(rng: random.Random, config: OperationConfig, seed: Account, time: float, after: bool,
               targets: list[Account]) -> Post:
    template = rng.choice(vocab.NARRATIVE_TEMPLATES + (vocab.EVENT_TEMPLATES if after else ()))
    body, choices = vocab.fill(rng, template, vocab.NARRATIVE_SLOTS)
    tags = [*config.campaign_hashtags, *(config.event_hashtags if after else ())]
    hashtags = rng.sample(tags, k=min(len(tags), rng.randint(1, 2)))
    urls = [_campaign_link(rng, config, time)] if rng.random() < config.narrative_link_share else []
    mentions = [rng.choice(targets)] if targets and rng.random() < config.narrative_mention_share else []
    text = vocab.compose(body, mentions=[m.handle for m in mentions], urls=urls, hashtags=hashtags)
    return Post(time, seed, text, hashtags=hashtags, urls=urls, mentions=mentions, narrative=(template, choices))


def _campaign_link(rng: random.Random, config: OperationConfig, time: float) -> str:
    """Few domains and few articles, so the same links recur across the operation's accounts."""
    month = datetime.fromtimestamp(time, timezone.utc).strftime("%Y/%m")
    return f"https://{rng.choice(config.campaign_domains)}/{month}/{rng.choice(vocab.ARTICLE_SLUGS)}"


def _amplify(rng: random.Random, config: OperationConfig, narrative: Post, amplifiers: list[Account],
             window: Window) -> list[Post]:
    posts = []
    for account in amplifiers:
        if rng.random() >= config.amplify_probability:
            continue
        time = narrative.time + log_uniform(rng, *config.lag_seconds)
        roll = rng.random()
        if not window.contains(time):
            continue
        if roll < config.retweet_share:
            posts.append(retweet_of(narrative, account, time))
        elif roll < config.retweet_share + config.quote_share:
            posts.append(_quote(rng, narrative, account, time))
        else:
            posts.append(_near_copy(rng, narrative, account, time))
    return posts


def _quote(rng: random.Random, narrative: Post, account: Account, time: float) -> Post:
    hashtags = narrative.hashtags[:1]
    text = vocab.compose(rng.choice(vocab.QUOTE_COMMENTS), hashtags=hashtags)
    return Post(time, account, text, kind="quote", ref=narrative, hashtags=hashtags)


def _near_copy(rng: random.Random, narrative: Post, account: Account, time: float) -> Post:
    """The seed's text with a word or two swapped, the same links and hashtags: copy-paste with edits."""
    template, choices = narrative.narrative
    body = vocab.swap(rng, template, choices, vocab.NARRATIVE_SLOTS)
    hashtags = rng.sample(narrative.hashtags, k=len(narrative.hashtags))
    mentions = list(narrative.mentions)
    text = vocab.compose(body, mentions=[m.handle for m in mentions], urls=narrative.urls, hashtags=hashtags)
    return Post(time, account, text, hashtags=hashtags, urls=list(narrative.urls), mentions=mentions)


def _filler(config: OperationConfig, account: Account, window: Window) -> list[Post]:
    rng = rng_for(config.seed, "filler", account.userid)
    posts = []
    for day in range(config.days):
        for _ in range(poisson(rng, config.filler_posts_per_day)):
            time = window.start + day * DAY + rng.uniform(*config.operation_hours) * HOUR
            topic = vocab.TOPICS[rng.choice(FILLER_TOPICS)]
            posts.append(Post(time, account, vocab.fill(rng, rng.choice(topic.templates), topic.slots)[0]))
    return posts
