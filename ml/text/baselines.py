"""Cheap baselines and a confound check beside a text classifier, on the classifier's own split (no Django).

A transformer that learns "talks politics" against "complains to an airline" scores a perfect test AUC on its own
split and means nothing elsewhere (docs/quality.md, Content detectors). What shows it, at training time:

- **majority**: the training split's majority class for every post (AUC 0.5).
- **tfidf_lr**: TF-IDF word 1-2-grams (min_df 2, sublinear tf) + logistic regression with balanced class weights:
  the baseline of bench/quality_content.py (which imports it from here).
- **topic_probe**: a bag of topic words (binary presence of lower-cased words of 3 letters or more, links left
  out, English stop words left out, the 2,000 most frequent that occur in 2 posts or more; no word order, no
  punctuation, no style) + logistic regression, predicting the label source: the collection a post came from, or
  its label. When a probe that only knows which words occur does as well as the transformer, the transformer's
  AUC says no more than "the two sources talk about different things". Its strongest words per side are kept, and
  its AUC cross-validated by account on the training posts (``cv_auc``: how far the vocabularies differ where the
  model learned; a test split may hold a source the training never met, and then the test AUC hides it).

``confound_checks`` turns those figures and the posts' accounts and times into warnings, each a sentence:
the transformer no better than the probe on the same test posts (within ``PROBE_MARGIN`` AUC); each class one
collection whose vocabularies differ (probe ``cv_auc`` at least ``PROBE_SEPARATES``); time alone telling the classes
apart (a class from a narrow period); most of a class from a handful of accounts.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone

import numpy as np

from .metrics import classification_metrics

HEADLINE = ("auc", "f1", "precision", "recall", "mcc", "accuracy")
PROBE_MARGIN = 0.02  # the transformer's test AUC at most this far above the probe's: "no better"
PROBE_SEPARATES = 0.7  # the probe's AUC from which the classes' vocabularies are said to differ
TIME_SEPARATES = 0.9  # time alone (a post's date as its score) separating the classes this well
FEW_ACCOUNTS, ACCOUNTS_SHARE = 5, 0.5  # more than this share of a class from at most this many accounts
PROBE_WORDS, PROBE_FEATURES = 12, 2000
LINK = re.compile(r"https?://\S+|www\.\S+")


def headline(metrics: dict) -> dict:
    """The figures shown side by side (no curves)."""
    return {k: metrics[k] for k in ("n", "positives", "threshold", *HEADLINE)}


def majority(train_labels, test_labels) -> dict:
    """The training split's majority class as a constant score (AUC 0.5; F1 0 when the majority is label 0)."""
    train_y, test_y = np.asarray(train_labels, dtype=int), np.asarray(test_labels, dtype=int)
    constant = np.full(len(test_y), float(int(train_y.mean() >= 0.5)))
    return headline(classification_metrics(test_y, constant))


def tfidf_lr(train_texts, train_labels, test_texts, test_labels) -> dict:
    """TF-IDF word 1-2-grams + balanced logistic regression, at 0.5."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=2000, class_weight="balanced"),
    )
    model.fit(list(train_texts), np.asarray(train_labels, dtype=int))
    scores = model.predict_proba(list(test_texts))[:, 1]
    return headline(classification_metrics(np.asarray(test_labels, dtype=int), scores))


def _topic_words(text: str) -> str:
    return LINK.sub(" ", text.lower())


def _vectorizer():
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(preprocessor=_topic_words, token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
                           stop_words="english", binary=True, min_df=2, max_features=PROBE_FEATURES)


def _probe_model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000, class_weight="balanced")


def topic_probe(train_texts, train_sources, test_texts, test_sources, *, train_groups=None,
                words: int = PROBE_WORDS) -> dict:
    """A bag of topic words predicting the source (0/1), at 0.5; ``words``: its strongest words for each side.
    Texts without a single topic word get the training share of source 1 as their score.

    ``cv_auc``: the probe's AUC on the training posts, each scored by a probe fitted without its account (5 folds,
    by ``train_groups`` when given): how far the two sources' vocabularies differ where the model learned, which the
    test AUC need not show (a test split can hold a source the training never had)."""
    vectorizer = _vectorizer()
    train_texts, test_texts = list(train_texts), list(test_texts)
    train_y, test_y = np.asarray(train_sources, dtype=int), np.asarray(test_sources, dtype=int)
    try:
        train_x = vectorizer.fit_transform(train_texts)
    except ValueError:  # no word occurs in two training posts: the probe has nothing to read
        scores = np.full(len(test_y), float(train_y.mean()))
        return {**headline(classification_metrics(test_y, scores)), "cv_auc": None, "vocabulary": 0,
                "words": {"1": [], "0": []}}
    probe = _probe_model().fit(train_x, train_y)
    scores = probe.predict_proba(vectorizer.transform(list(test_texts)))[:, 1]
    vocabulary, weights = vectorizer.get_feature_names_out(), probe.coef_[0]
    order = np.argsort(weights)
    return {
        **headline(classification_metrics(test_y, scores)),
        "cv_auc": _cross_validated_auc(train_texts, train_y, train_groups),
        "vocabulary": int(len(vocabulary)),
        "words": {"1": [str(vocabulary[i]) for i in order[::-1][:words] if weights[i] > 0],
                  "0": [str(vocabulary[i]) for i in order[:words] if weights[i] < 0]},
    }


def _cross_validated_auc(texts, y, groups, folds: int = 5) -> float | None:
    """AUC of out-of-fold probe scores (by account when every class has ``folds`` accounts); None when too few."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, StratifiedKFold
    from sklearn.pipeline import make_pipeline

    classes = np.unique(y)
    if len(classes) < 2 or min(int((y == c).sum()) for c in classes) < folds:
        return None
    if groups is not None and min(len(set(np.asarray(groups)[y == c].tolist())) for c in classes) >= folds:
        splits = GroupKFold(n_splits=folds, shuffle=True, random_state=0).split(texts, y, np.asarray(groups))
    else:
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0).split(texts, y)
    scores = np.empty(len(y))
    for fit, held in splits:
        try:
            model = make_pipeline(_vectorizer(), _probe_model()).fit([texts[i] for i in fit], y[fit])
        except ValueError:  # a fold without a word in two posts
            return None
        scores[held] = model.predict_proba([texts[i] for i in held])[:, 1]
    return float(roc_auc_score(y, scores))


def baselines(texts, labels, split: dict, sources=None, groups=None) -> dict:
    """The three baselines trained on ``split["train"]`` and measured on ``split["test"]`` (index arrays, e.g. a
    fitted classifier's ``split_index_``); the probe predicts ``sources`` (default: the labels); ``groups`` (accounts)
    make the probe's cross-validation folds."""
    texts = list(texts)
    y = np.asarray(labels, dtype=int)
    s = y if sources is None else np.asarray(sources, dtype=int)
    train, test = np.asarray(split["train"], dtype=int), np.asarray(split["test"], dtype=int)
    train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
    return {
        "majority": majority(y[train], y[test]),
        "tfidf_lr": tfidf_lr(train_texts, y[train], test_texts, y[test]),
        "topic_probe": topic_probe(train_texts, s[train], test_texts, s[test],
                                   train_groups=None if groups is None else np.asarray(groups)[train]),
        "train_posts": int(len(train)),
        "test_posts": int(len(test)),
    }


# -- the confound check -------------------------------------------------------------------------------
def confound_checks(*, model_auc, probe: dict, labels, groups=None, times=None, collections=None,
                    class_names=("control", "IO")) -> dict:
    """Each check {"check", "fired", "message", ...figures}, and the names of those that fired.

    ``model_auc``: the transformer's test AUC; ``probe``: ``topic_probe``'s result; ``labels``, ``groups``
    (accounts) and ``times`` (epoch seconds, None where unknown): every post the model was trained and tested
    on; ``collections``: (negative, positive) collection names when each class is one collection."""
    y = np.asarray(labels, dtype=int)
    names = {0: class_names[0], 1: class_names[1]}
    checks = [
        _probe_check(model_auc, probe),
        _collection_check(collections, probe),
        _time_check(y, times, names),
        _account_check(y, groups, names),
    ]
    return {"checks": checks, "fired": [c["check"] for c in checks if c["fired"]]}


def _probe_check(model_auc, probe: dict) -> dict:
    probe_auc = probe["auc"]
    gap = None if model_auc is None else model_auc - probe_auc
    fired = gap is not None and gap <= PROBE_MARGIN
    if gap is None:
        message = f"A bag of topic words: AUC {probe_auc:.3f}; the model has no test AUC to compare."
    elif fired:
        message = (f"The transformer (test AUC {model_auc:.3f}) is no better than a bag of topic words (AUC "
                   f"{probe_auc:.3f}) on the same held-out posts: what it learned may be only that the two sources "
                   "talk about different things.")
    elif probe_auc < PROBE_SEPARATES:
        message = (f"A bag of topic words tells the classes apart poorly (AUC {probe_auc:.3f}): the model's AUC "
                   "does not come from vocabulary alone.")
    else:
        message = (f"The transformer (AUC {model_auc:.3f}) does better than a bag of topic words (AUC "
                   f"{probe_auc:.3f}) by {gap:.3f}; the topic still separates the classes well, so read its scores on "
                   "other topics with care.")
    return {"check": "probe", "fired": bool(fired), "message": message, "model_auc": model_auc,
            "probe_auc": probe_auc, "margin": PROBE_MARGIN}


def _collection_check(collections, probe: dict) -> dict:
    if not collections:
        return {"check": "collection", "fired": False, "message": "The labels come from one collection's labels, "
                "not from which collection a post is in.", "collections": None}
    negative, positive = collections
    # Where the model learned (the training posts, cross-validated by account), else on the test posts.
    separation, where = (probe["cv_auc"], "cross-validated on the training posts") if probe.get("cv_auc") is not None \
        else (probe["auc"], "on the held-out posts")
    fired = separation >= PROBE_SEPARATES
    if fired:
        message = (f"Each class is one collection (“{positive}” positive, “{negative}” negative), and their "
                   f"vocabularies differ: a bag of topic words tells them apart with AUC {separation:.3f} ({where}). "
                   "The model learns whatever tells the collections apart (topic, period, where they were gathered), "
                   "which need not be the operation.")
    else:
        message = (f"Each class is one collection (“{positive}” vs “{negative}”), but their vocabularies are alike "
                   f"(topic probe AUC {separation:.3f}, {where}).")
    return {"check": "collection", "fired": bool(fired), "message": message, "collections": [negative, positive],
            "separation_auc": separation}


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).date().isoformat()


def _time_check(y: np.ndarray, times, names: dict) -> dict:
    """Time alone as a score (a post's date): AUC far from 0.5 means the classes come from different periods."""
    from sklearn.metrics import roc_auc_score

    known = np.array([t is not None for t in times]) if times is not None else np.zeros(len(y), dtype=bool)
    if known.mean() < 0.5 or len(set(y[known].tolist())) < 2 or min(np.bincount(y[known], minlength=2)) < 2:
        return {"check": "time", "fired": False, "message": "Too few posts have a time to compare the classes' "
                "periods.", "time_auc": None}
    t = np.array([float(v) for v in np.asarray(times, dtype=object)[known]])
    labels = y[known]
    auc = float(roc_auc_score(labels, t))
    separation = max(auc, 1 - auc)
    spans = {}
    for c in (1, 0):
        low, high = np.percentile(t[labels == c], [5, 95])
        spans[str(c)] = {"from": _day(low), "to": _day(high), "days": round((high - low) / 86400, 1)}
    said = "; ".join(f"{names[c]} {spans[str(c)]['from']} to {spans[str(c)]['to']} ({spans[str(c)]['days']:g} days)"
                     for c in (1, 0))
    fired = separation >= TIME_SEPARATES
    if fired:
        message = (f"Time alone tells the classes apart (AUC {separation:.3f}; 90 % of each class's posts: {said}). "
                   "The model can learn what was talked about in each period rather than the operation.")
    else:
        message = f"The classes' periods overlap (time alone: AUC {separation:.3f}; {said})."
    return {"check": "time", "fired": bool(fired), "message": message, "time_auc": separation, "spans": spans}


def _account_check(y: np.ndarray, groups, names: dict) -> dict:
    """The share of each class's posts written by its ``FEW_ACCOUNTS`` most prolific accounts."""
    if groups is None:
        return {"check": "accounts", "fired": False, "message": "The posts have no accounts.", "classes": {}}
    groups = np.asarray([str(g) for g in groups])
    classes, fired_for = {}, []
    for c in (1, 0):
        accounts, counts = np.unique(groups[y == c], return_counts=True)
        top = np.argsort(-counts, kind="stable")[:FEW_ACCOUNTS]
        share = float(counts[top].sum() / max(1, counts.sum()))
        classes[str(c)] = {"accounts": int(len(accounts)), "top_share": share,
                           "top": [str(a) for a in accounts[top]],
                           "largest_share": float(counts[top[0]] / counts.sum()) if len(top) else 0.0}
        if share > ACCOUNTS_SHARE:
            fired_for.append(c)
    if fired_for:
        message = " ".join(
            f"{classes[str(c)]['top_share']:.0%} of the {names[c]} posts come from {len(classes[str(c)]['top'])} "
            f"account(s) ({', '.join(classes[str(c)]['top'])}; {classes[str(c)]['top'][0]} alone "
            f"{classes[str(c)]['largest_share']:.0%})." for c in fired_for
        ) + " The model can learn these accounts' habits rather than the operation's."
    else:
        message = (f"No class has more than {ACCOUNTS_SHARE:.0%} of its posts from {FEW_ACCOUNTS} accounts "
                   f"({names[1]}: {classes['1']['accounts']:,} accounts, {names[0]}: {classes['0']['accounts']:,}).")
    return {"check": "accounts", "fired": bool(fired_for), "message": message, "classes": classes}
