"""How well a method tells an account's posts from others': CV, a time-ordered test, learning curves."""
from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_validate, learning_curve

from .config import AuthorshipConfig
from .data import AccountSet
from .model import AuthorshipModel


def _folds(config: AuthorshipConfig) -> StratifiedKFold:
    return StratifiedKFold(n_splits=config.cv_folds, shuffle=True, random_state=config.random_state)


def evaluate(aset: AccountSet, config: AuthorshipConfig) -> dict:
    """Accuracy as the seed reported it: training, cross-validated (on the earlier posts) and test
    (a model fitted on the earlier posts, tried on the later ones)."""
    train, test = aset.train, aset.test
    cv = cross_validate(AuthorshipModel(config, calibrate=False), train["text"], train["label"], cv=_folds(config),
                        scoring="accuracy", return_train_score=True)
    model = AuthorshipModel(config, calibrate=False).fit(train["text"], train["label"])
    test_accuracy = model.score(test["text"], test["label"]) if len(test) else float("nan")
    return {
        "train_accuracy": round(float(np.mean(cv["train_score"])), 4),
        "cv_accuracy": round(float(np.mean(cv["test_score"])), 4),
        "cv_std": round(float(np.std(cv["test_score"])), 4),
        "test_accuracy": round(float(test_accuracy), 4),
        "train_posts": int(len(train)),
        "test_posts": int(len(test)),
        "test_from": test["time"].min().isoformat() if len(test) else None,
    }


def curve(aset: AccountSet, config: AuthorshipConfig, points: int = 6) -> dict:
    """Training and cross-validated accuracy against training-set size (the seed's figures)."""
    train = aset.train
    sizes, train_scores, cv_scores = learning_curve(
        AuthorshipModel(config, calibrate=False), train["text"], train["label"], cv=_folds(config),
        train_sizes=np.linspace(0.1, 1.0, points), scoring="accuracy", shuffle=True,
        random_state=config.random_state)
    return {
        "sizes": [int(s) for s in sizes],
        "train": [round(float(s), 4) for s in train_scores.mean(axis=1)],
        "cv": [round(float(s), 4) for s in cv_scores.mean(axis=1)],
        "cv_std": [round(float(s), 4) for s in cv_scores.std(axis=1)],
    }
