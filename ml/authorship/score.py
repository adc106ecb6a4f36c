"""Scores for an account's own posts: how likely each is to have been written by the account."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from .config import AuthorshipConfig
from .data import AccountSet
from .model import AuthorshipModel


def out_of_fold_probability(aset: AccountSet, config: AuthorshipConfig) -> np.ndarray:
    """P(account) for every post, each from a model that did not train on it. A model scoring its own
    training posts would call nearly all of them the account's, a hijacked one included."""
    posts = aset.posts
    probability = np.zeros(len(posts))
    folds = StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.random_state)
    for fit_rows, score_rows in folds.split(posts["text"], posts["label"]):
        model = AuthorshipModel(config).fit(posts["text"].iloc[fit_rows], posts["label"].iloc[fit_rows])
        probability[score_rows] = model.author_probability(posts["text"].iloc[score_rows])
    return probability


def rank_posts(aset: AccountSet, config: AuthorshipConfig, model: AuthorshipModel, k: int = 5) -> pd.DataFrame:
    """The account's own posts, least like the account first, with the features that weighed most
    for and against it (from `model`, fitted on all posts)."""
    probability = out_of_fold_probability(aset, config)
    own = aset.posts.assign(probability=probability)[aset.posts["label"] == 1]
    own = own.sort_values("probability", kind="stable").reset_index(drop=True)
    reasons = model.explain(own["text"], k)
    own["for"] = [r["for"] for r in reasons]
    own["against"] = [r["against"] for r in reasons]
    own["percentile"] = (np.arange(len(own)) + 1) / len(own)
    return own[["post_id", "time", "text", "probability", "percentile", "for", "against"]]


def score_texts(model: AuthorshipModel, texts: list[str], k: int = 5) -> list[dict]:
    """Any posts pasted in, scored by the account's model."""
    probability = model.author_probability(texts)
    return [{"text": text, "probability": round(float(p), 4), **reason}
            for text, p, reason in zip(texts, probability, model.explain(texts, k))]
