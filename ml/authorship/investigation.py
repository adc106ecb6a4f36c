"""Investigation-wide pass: many accounts at once, looking for shared operators and misplaced posts.

Unvalidated heuristics, to point an analyst at accounts worth opening, not verdicts.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import TruncatedSVD
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import silhouette_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

from .config import CHARS, AuthorshipConfig
from .data import own_posts, posts_frame
from .report import Progress, _quiet
from .text import make_vectorizer


@dataclass(frozen=True)
class InvestigationConfig:
    top_n: int = 10  # the most prolific accounts to model
    features: AuthorshipConfig = replace(CHARS, max_posts=2000)
    misplaced_margin: float = 0.3  # another account's probability must beat the own one by this much
    two_style_silhouette: float = 0.08  # a 2-way split cleaner than this is reported...
    two_style_min_share: float = 0.2  # ...when the smaller style holds at least this share of posts
    components: int = 50
    listed: int = 50


def investigation_pass(posts, *, config: InvestigationConfig = InvestigationConfig(),
                       on_progress: Progress = _quiet) -> dict:
    """1. the top_n accounts' own posts; 2. one multi-class model, scored out of fold, for posts that
    fit another account better; 3. per account, a 2-way split of its posts' style vectors."""
    frame = posts_frame(posts)
    own = _prolific(frame, config)
    on_progress(0.1, "cross-fitting accounts")
    misplaced = _misplaced(own, config)
    styles = []
    for i, (account, group) in enumerate(own.groupby("account")):
        on_progress(0.5 + 0.5 * i / config.top_n, f"styles of @{account}")
        styles.append(_two_styles(account, group, config))
    on_progress(1.0, "done")
    flagged = [s for s in styles if s["split"]]
    return {"accounts": sorted(own["account"].unique()), "two_styles": sorted(flagged, key=lambda s: -s["silhouette"]),
            "all_styles": styles, "misplaced": misplaced}


def _prolific(frame: pd.DataFrame, config: InvestigationConfig) -> pd.DataFrame:
    own = own_posts(frame, config.features)
    top = own["account"].value_counts().index[: config.top_n]
    own = own[own["account"].isin(top)]
    return own.groupby("account", group_keys=False).tail(config.features.max_posts or len(own))


def _misplaced(own: pd.DataFrame, config: InvestigationConfig) -> list[dict]:
    model = make_pipeline(make_vectorizer(config.features), LogisticRegression(C=config.features.C, max_iter=1000))
    folds = StratifiedKFold(3, shuffle=True, random_state=config.features.random_state)
    proba = cross_val_predict(model, own["text"], own["account"], cv=folds, method="predict_proba")
    classes = np.array(sorted(own["account"].unique()))
    mine = proba[np.arange(len(own)), np.searchsorted(classes, own["account"])]
    best = proba.argmax(axis=1)
    margin = proba[np.arange(len(own)), best] - mine
    rows = np.flatnonzero(margin >= config.misplaced_margin)
    rows = rows[np.argsort(-margin[rows])][: config.listed]
    return [{"post_id": _plain(own["post_id"].iloc[i]), "account": own["account"].iloc[i], "text": own["text"].iloc[i],
             "fits_better": classes[best[i]], "p_own": round(float(mine[i]), 4),
             "p_other": round(float(proba[i, best[i]]), 4)} for i in rows]


def _two_styles(account: str, group: pd.DataFrame, config: InvestigationConfig) -> dict:
    """Shared personas often show two hands: a clean 2-way split of style vectors, often by shift."""
    X = make_vectorizer(config.features).fit_transform(group["text"])
    k = max(2, min(config.components, X.shape[1] - 1, len(group) - 1))
    Z = TruncatedSVD(k, random_state=config.features.random_state).fit_transform(X)
    Z /= np.linalg.norm(Z, axis=1, keepdims=True) + 1e-12
    labels = KMeans(2, n_init=5, random_state=config.features.random_state).fit_predict(Z)
    share = float(min(labels.mean(), 1 - labels.mean()))
    silhouette = float(silhouette_score(Z, labels)) if 0 < share else 0.0
    hours = group["time"].dt.hour.to_numpy()
    return {"account": account, "posts": int(len(group)), "silhouette": round(silhouette, 4),
            "minor_share": round(share, 4),
            "median_hour": [int(np.median(hours[labels == c])) if (labels == c).any() else None for c in (0, 1)],
            "split": bool(silhouette >= config.two_style_silhouette and share >= config.two_style_min_share)}


def _plain(value):
    return value.item() if hasattr(value, "item") else value
