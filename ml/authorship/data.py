"""From posts to one account's labelled set: its own posts against other accounts' posts."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .config import AuthorshipConfig, AuthorshipError
from .text import normalise, stem, stem_analyzer

STOP_STEMS = frozenset(stem(word) for word in ENGLISH_STOP_WORDS) | {"_url_", "rt", "amp"}


def posts_frame(posts) -> pd.DataFrame:
    """Posts (a DataFrame or a list of dicts) as columns account, text, time, post_id[, is_retweet],
    sorted by time. `account` is compared as a string."""
    frame = pd.DataFrame(posts).copy()
    missing = {"account", "text", "time"} - set(frame.columns)
    if missing:
        raise AuthorshipError(f"posts need the columns account, text and time; missing {sorted(missing)}")
    frame["account"] = frame["account"].astype(str)
    frame["text"] = frame["text"].fillna("").astype(str)
    frame["time"] = pd.to_datetime(frame["time"], utc=True, format="mixed")
    if "post_id" not in frame.columns:
        frame["post_id"] = frame.index
    return frame.sort_values("time", kind="stable").reset_index(drop=True)


def own_posts(frame: pd.DataFrame, config: AuthorshipConfig) -> pd.DataFrame:
    """The posts an account wrote itself: retweets dropped, repeats dropped (the seed's clean-up)."""
    keep = frame["text"].str.strip() != ""
    if config.drop_retweets:
        keep &= ~frame["text"].str.startswith("RT @")
        if "is_retweet" in frame.columns:
            keep &= ~frame["is_retweet"].fillna(False).astype(bool)
    kept = frame[keep]
    return kept[~pd.DataFrame({"a": kept["account"], "t": kept["text"].map(normalise)}).duplicated()]


@dataclass
class AccountSet:
    """Posts in time order with label 1 for the account's own; `is_test` marks the latest share."""

    account: str
    posts: pd.DataFrame  # columns of posts_frame plus label, is_test
    topic_words: list[str]
    dropped: int  # the account's posts left out as retweets or repeats

    @property
    def train(self) -> pd.DataFrame:
        return self.posts[~self.posts["is_test"]]

    @property
    def test(self) -> pd.DataFrame:
        return self.posts[self.posts["is_test"]]


def account_set(frame: pd.DataFrame, account: str, config: AuthorshipConfig) -> AccountSet:
    """1. the account's own posts (at least config.min_posts); 2. as many negatives times
    negative_ratio, part topic-matched; 3. mark the latest test_share of each side as the test."""
    account = str(account)
    everything = frame[frame["account"] == account]
    if everything.empty:
        raise AuthorshipError(f"Account @{account} has no posts in this data")
    positives = own_posts(everything, config)
    if config.max_posts:
        positives = positives.tail(config.max_posts)
    if len(positives) < config.min_posts:
        raise AuthorshipError(
            f"Account @{account} has {len(positives)} posts of its own (after dropping retweets and repeats); "
            f"authorship needs at least {config.min_posts} to train and test")
    topic = topic_words(positives["text"], config.topic_words)
    negatives = sample_negatives(frame[frame["account"] != account], topic, len(positives), config)
    posts = pd.concat([positives.assign(label=1), negatives.assign(label=0)])
    posts["is_test"] = _latest(posts, config.test_share)
    dropped = len(everything) - len(own_posts(everything, config))
    return AccountSet(account, posts.sort_values("time", kind="stable").reset_index(drop=True), topic, dropped)


def topic_words(texts, k: int) -> list[str]:
    """The account's most frequent content stems, like the seed's "obama", "breaking", "explosions"."""
    counts = Counter(s for text in texts for s in set(stem_analyzer(text)) if s not in STOP_STEMS and len(s) > 2)
    return [word for word, _ in counts.most_common(k)]


def sample_negatives(others: pd.DataFrame, topic: list[str], n_positives: int, config: AuthorshipConfig):
    """Other accounts' own posts: topic_share of them sharing a topic word (the seed's "-from:AP obama"),
    the rest drawn at random, so the model cannot win by topic alone."""
    others = own_posts(others, config)
    want = int(round(n_positives * config.negative_ratio))
    if len(others) < config.min_posts:
        raise AuthorshipError(f"Authorship needs at least {config.min_posts} posts by other accounts; "
                              f"this data has {len(others)}")
    rng = np.random.default_rng(config.random_state)
    if len(others) > 20 * want:  # stemming a million posts to find a few thousand would dominate the run
        others = others.iloc[np.sort(rng.choice(len(others), 20 * want, replace=False))]
    topical = others["text"].map(lambda t: bool(set(stem_analyzer(t)) & set(topic))).to_numpy() if topic else \
        np.zeros(len(others), bool)
    n_topic = min(int(topical.sum()), int(want * config.topic_share))
    chosen = rng.choice(np.flatnonzero(topical), n_topic, replace=False) if n_topic else np.array([], int)
    rest = np.setdiff1d(np.arange(len(others)), chosen)
    chosen = np.concatenate([chosen, rng.choice(rest, min(len(rest), want - n_topic), replace=False)])
    return others.iloc[np.sort(chosen)]


def _latest(posts: pd.DataFrame, share: float) -> np.ndarray:
    """Per label, the latest `share` of posts: train on the earlier, test on the later."""
    ranks = posts.groupby("label")["time"].rank(method="first").to_numpy()
    sizes = posts.groupby("label")["time"].transform("size").to_numpy()
    return ranks > np.ceil(sizes * (1 - share))
