"""One account's authorship classifier in the scikit-learn shape: raw texts in, P(written by it) out.

The vectoriser lives inside the estimator so that cross-validation builds each fold's vocabulary
from that fold's training posts only, as the seed built its vocabulary from the training set.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC, LinearSVC

from .config import SEED, AuthorshipConfig
from .text import make_vectorizer


def make_classifier(config: AuthorshipConfig):
    # Positives are one account, negatives everyone else: weight the classes so neither wins by count.
    if config.model == "linear_svm":
        return LinearSVC(C=config.C, class_weight="balanced", random_state=config.random_state)
    if config.model == "rbf_svm":
        # The seed's Gaussian kernel exp(-|x-y|^2 / (2 sigma^2)) is scikit-learn's gamma = 1 / (2 sigma^2).
        gamma = 1.0 / (2.0 * config.rbf_sigma**2)
        return SVC(kernel="rbf", gamma=gamma, C=config.C, class_weight="balanced", random_state=config.random_state)
    if config.model == "logistic":
        return LogisticRegression(C=config.C, class_weight="balanced", solver="liblinear", max_iter=1000)
    raise ValueError(f"unknown model {config.model!r}: use 'linear_svm', 'rbf_svm' or 'logistic'")


class AuthorshipModel(ClassifierMixin, BaseEstimator):
    """Label 1 = written by the account. `calibrate` wraps SVMs in a sigmoid (Platt) calibration;
    accuracy figures use the bare SVM, as the seed did, and skip the extra fits."""

    def __init__(self, config: AuthorshipConfig = SEED, calibrate: bool = True):
        self.config = config
        self.calibrate = calibrate

    def fit(self, texts, y):
        y = np.asarray(y)
        self.vectorizer_ = make_vectorizer(self.config)
        X = self.vectorizer_.fit_transform(list(texts))
        classifier = make_classifier(self.config)
        if self.calibrate and self.config.model != "logistic":  # logistic regression is calibrated already
            # ensemble=False: one model fitted on all posts, so its weights can explain a score.
            classifier = CalibratedClassifierCV(classifier, method="sigmoid", cv=self.config.calibration_folds,
                                                ensemble=False)
        self.classifier_ = classifier.fit(X, y)
        self.classes_ = self.classifier_.classes_
        return self

    def _features(self, texts):
        return self.vectorizer_.transform(list(texts))

    def predict(self, texts):
        return self.classifier_.predict(self._features(texts))

    def predict_proba(self, texts):
        if not hasattr(self.classifier_, "predict_proba"):
            raise AttributeError("fit with calibrate=True to get probabilities from an SVM")
        return self.classifier_.predict_proba(self._features(texts))

    def author_probability(self, texts) -> np.ndarray:
        return self.predict_proba(texts)[:, list(self.classes_).index(1)]

    @property
    def coef_(self) -> np.ndarray | None:
        """Per-feature weights towards the account, or None for the RBF kernel (it has none)."""
        inner = self.classifier_
        if isinstance(inner, CalibratedClassifierCV):
            inner = inner.calibrated_classifiers_[0].estimator
        coef = getattr(inner, "coef_", None)
        return None if coef is None else np.asarray(coef.todense() if hasattr(coef, "todense") else coef).ravel()

    def explain(self, texts, k: int = 5) -> list[dict]:
        """For each text, the k present features that pushed most towards and against the account."""
        weights = self.coef_
        if weights is None:
            return [{"for": [], "against": []} for _ in texts]
        names = self.vectorizer_.get_feature_names_out()
        X = self._features(texts).tocsr()
        return [_top_contributions(X.getrow(i), weights, names, k) for i in range(X.shape[0])]


def _top_contributions(row, weights, names, k: int) -> dict:
    contribution = row.data * weights[row.indices]
    order = np.argsort(contribution)
    pairs = [(str(names[row.indices[i]]), round(float(contribution[i]), 4)) for i in order]
    return {"for": [p for p in reversed(pairs) if p[1] > 0][:k], "against": [p for p in pairs if p[1] < 0][:k]}
