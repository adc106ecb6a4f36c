"""The hybrid account score (seed 003, §3.2–3.4): a logistic regression stacked on per-account signals, trained on
accounts that the signals' own models never trained on, so that an analyst reads *why* an account scores high.

The seed's three account-disjoint splits: **train-1** trains TIES (and, in ``ml.behaviour.evaluate``, the content
model when there is one to train), **train-2** trains the logistic regression, **test** gives the figures. An
account is in one split only; each split holds both classes (``three_splits``).

Signals (``SIGNALS``), one value per account, each read as the portal stores it:

- ``ties``: the TIES score (a probability), used as its log-odds;
- ``content``: the mean of the account's post scores from a text model (a probability), as log-odds;
- ``degree``, ``strength``, ``community_size``: from a coordination or co-action network, as log(1 + x). An account
  that is not in the network has no significant edge: 0, 0 and 0 (an observed value, not a missing one);
- ``authorship_outlier``: the share of the account's posts that its authorship model says it did not write.

**Missing values.** A signal can be missing for an account (no scored post, no authorship analysis of it). It is
imputed with the mean of the observed train-2 values, and, when train-2 itself has missing values of that signal,
an explicit indicator feature ``<signal> missing`` (1 where imputed) is added, so the model can learn what
missingness itself says. Every feature is then standardised with train-2's mean and standard deviation. Hence an
imputed value contributes exactly nothing through the signal itself (its standardised value is 0); whatever the
absence means goes through its indicator. A signal with no observed train-2 value at all is left out (named in
``dropped_``).

**Contributions.** ``logit = intercept + Σ coefficient_j × standardised value_j`` over the features; each term is a
contribution (``HybridModel.explain``), so an account's contributions add up to its logit exactly, and
``probability = sigmoid(logit)``. A signal's contribution on the page is its feature's term plus its indicator's.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ml.checks import check_range

from .config import MIN_PER_CLASS, BehaviourError
from .pipeline import account_splits, label_array, ranking_metrics

SIGNALS = ("ties", "content", "degree", "strength", "community_size", "authorship_outlier")
SIGNAL_LABELS = {
    "ties": "TIES score", "content": "content score", "degree": "coordination degree",
    "strength": "coordination strength", "community_size": "community size",
    "authorship_outlier": "authorship outlier share",
}
PROBABILITY_SIGNALS = ("ties", "content")  # read as log-odds
COUNT_SIGNALS = ("degree", "strength", "community_size")  # read as log(1 + x)
THREE_SPLITS = (0.6, 0.2, 0.2)  # train-1, train-2, test
MISSING = " missing"  # the indicator feature's suffix
EPS = 1e-4


@dataclass(frozen=True)
class HybridConfig:
    C: float = 1.0  # scikit-learn's inverse L2 strength; plain, unweighted classes (the probability stays calibrated)
    max_iter: int = 1_000

    def __post_init__(self) -> None:
        check_range("C", self.C, 0, 1e6, low_open=True)
        check_range("max_iter", self.max_iter, 10, 100_000)

    def as_dict(self) -> dict:
        return asdict(self)


def three_splits(labels: np.ndarray, seed: int, fractions=THREE_SPLITS) -> dict[str, np.ndarray]:
    """Rows of labelled accounts (0/1; -1 unlabelled) in train-1, train-2 and test, stratified, disjoint."""
    parts = account_splits(np.asarray(labels), seed, fractions)
    return {"train1": parts["train"], "train2": parts["val"], "test": parts["test"]}


def transform(signal: str, values) -> np.ndarray:
    """A signal's raw values as the model reads them (NaN stays NaN)."""
    x = np.asarray(values, dtype=np.float64)
    if signal in PROBABILITY_SIGNALS:
        p = np.clip(x, EPS, 1 - EPS)
        return np.log(p / (1 - p))
    if signal in COUNT_SIGNALS:
        return np.log1p(np.clip(x, 0, None))
    return x


def signal_frame(accounts, signals: dict[str, dict]) -> pd.DataFrame:
    """One row per account (``accounts`` order), one column per signal given, raw values; NaN where missing."""
    unknown = sorted(set(signals) - set(SIGNALS))
    if unknown:
        raise BehaviourError(f"unknown signal(s) {unknown}; known: {', '.join(SIGNALS)}")
    index = pd.Index(list(accounts), name="account")
    columns = {s: [float(signals[s][a]) if signals[s].get(a) is not None else np.nan for a in index]
               for s in SIGNALS if s in signals}
    return pd.DataFrame(columns, index=index, dtype=np.float64)


def check_two_classes(y: np.ndarray, where: str, minimum: int = 1) -> None:
    positives, negatives = int((y == 1).sum()), int((y == 0).sum())
    if min(positives, negatives) < minimum:
        raise BehaviourError(
            f"the label has one class only in {where} ({positives} positive, {negatives} negative accounts); "
            f"the hybrid needs at least {minimum} of each"
        )


class HybridModel:
    """The stacked logistic regression. ``fit(signals, y)`` on train-2 → self; ``explain(signals)`` → logit,
    probability and each feature's contribution. Learnt state: ``features_``, ``means_`` (imputation),
    ``center_``/``scale_`` (standardisation), ``coef_``, ``intercept_``, ``dropped_``."""

    def __init__(self, config: HybridConfig = HybridConfig()):
        self.config = config

    def fit(self, signals: pd.DataFrame, y) -> HybridModel:
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(y, dtype=int)
        check_two_classes(y, "train-2")
        raw = self._read(signals)
        self.signals_ = [s for s in raw.columns if raw[s].notna().any()]
        self.dropped_ = [s for s in raw.columns if s not in self.signals_]
        if not self.signals_:
            raise BehaviourError("no signal has a value for any train-2 account")
        self.means_ = {s: float(raw[s].mean()) for s in self.signals_}
        self.indicators_ = [s for s in self.signals_ if raw[s].isna().any()]
        design = self._design(raw)
        self.features_ = list(design.columns)
        self.center_ = design.mean().to_numpy()
        scale = design.std(ddof=0).to_numpy()
        self.scale_ = np.where(scale > 0, scale, 1.0)
        model = LogisticRegression(C=self.config.C, max_iter=self.config.max_iter)
        model.fit(self._standardised(design), y)
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        return self

    def _read(self, signals: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({s: transform(s, signals[s]) for s in signals.columns}, index=signals.index)

    def _design(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Imputed signals, then the missing indicators."""
        columns = {}
        for s in self.signals_:
            values = raw[s] if s in raw else pd.Series(np.nan, index=raw.index)
            columns[s] = values.fillna(self.means_[s]).to_numpy()
        for s in self.indicators_:
            values = raw[s] if s in raw else pd.Series(np.nan, index=raw.index)
            columns[s + MISSING] = values.isna().to_numpy(dtype=np.float64)
        return pd.DataFrame(columns, index=raw.index)

    def _standardised(self, design: pd.DataFrame) -> np.ndarray:
        return (design.to_numpy(dtype=np.float64) - self.center_) / self.scale_

    def explain(self, signals: pd.DataFrame) -> dict:
        """{"logit", "probability"} arrays and ``contributions`` (a frame: one column per feature) such that
        ``intercept_ + contributions.sum(axis=1) == logit``; ``by_signal`` folds each indicator into its signal."""
        z = self._standardised(self._design(self._read(signals)))
        terms = z * self.coef_
        logit = self.intercept_ + terms.sum(axis=1)
        contributions = pd.DataFrame(terms, index=signals.index, columns=self.features_)
        by_signal = pd.DataFrame({s: contributions[s] + (contributions[s + MISSING] if s in self.indicators_ else 0.0)
                                  for s in self.signals_}, index=signals.index)
        return {"logit": logit, "probability": 1.0 / (1.0 + np.exp(-logit)), "contributions": contributions,
                "by_signal": by_signal}

    def predict_proba(self, signals: pd.DataFrame) -> np.ndarray:
        return self.explain(signals)["probability"]

    def coefficients(self) -> list[dict]:
        """The coefficient table: each feature, its coefficient (per standard deviation) and the train-2 mean and
        standard deviation it is standardised with (of the transformed value: log-odds or log(1 + x))."""
        return [{"feature": f, "signal": f.removesuffix(MISSING), "indicator": f.endswith(MISSING),
                 "coefficient": float(c), "mean": float(m), "sd": float(s)}
                for f, c, m, s in zip(self.features_, self.coef_, self.center_, self.scale_)]


def fit_hybrid(ties: dict, labels: dict, signals: dict[str, dict] | None = None, *, ties_split: dict | None = None,
               seed: int = 0, config: HybridConfig = HybridConfig()) -> dict:
    """The hybrid on one collection's accounts.

    1. the accounts: those with a TIES score (accounts with interactions); ``labels``: {account: 0/1};
    2. the splits: ``ties_split`` ({account: "train"/"val"/"test"} from the behaviour run that made the TIES scores)
       gives train-1 = its train, train-2 = its validation, test = its test, so no account that TIES trained on
       trains the regression; without it, ``three_splits`` at ``seed``;
    3. fit on train-2; 4. every account's logit, probability and contributions; 5. test metrics of the hybrid and
       of each signal alone (its raw value ranks the accounts; a missing value ranks as the train-2 mean).
    """
    accounts = sorted(ties, key=str)
    if not accounts:
        raise BehaviourError("no account has interactions, so none has a TIES score")
    frame = signal_frame(accounts, {"ties": ties, **(signals or {})})
    y = label_array(accounts, labels)
    check_two_classes(y, "the labelled accounts with interactions", MIN_PER_CLASS)
    parts = _parts(accounts, y, ties_split, seed)
    check_two_classes(y[parts["test"]], "the test split")
    model = HybridModel(config).fit(frame.iloc[parts["train2"]], y[parts["train2"]])
    explained = model.explain(frame)
    split_of = np.full(len(accounts), "", dtype=object)
    for name, rows in parts.items():
        split_of[rows] = name
    test = parts["test"]
    alone = {s: ranking_metrics(y[test], frame[s].iloc[test].fillna(frame[s].iloc[parts["train2"]].mean())
                                .fillna(0.0).to_numpy())
             for s in model.signals_}
    return {
        "accounts": accounts, "labels": y, "split": split_of.tolist(), "signals": frame,
        "logit": explained["logit"], "probability": explained["probability"],
        "contributions": explained["contributions"], "by_signal": explained["by_signal"],
        "intercept": model.intercept_, "coefficients": model.coefficients(), "model": model,
        "metrics": {"test": ranking_metrics(y[test], explained["probability"][test]), "alone": alone,
                    "train1": int(len(parts["train1"])), "train2": int(len(parts["train2"])), "test_n": int(len(test))},
        "missing": {s: int(frame[s].isna().sum()) for s in frame.columns},
        "dropped": model.dropped_, "splits_from": "behaviour" if ties_split else "random",
    }


def _parts(accounts: list, y: np.ndarray, ties_split: dict | None, seed: int) -> dict[str, np.ndarray]:
    if ties_split is None:
        return three_splits(y, seed)
    names = {"train": "train1", "val": "train2", "test": "test"}
    labelled = y >= 0
    parts = {name: np.flatnonzero(labelled & np.array([ties_split.get(a) == key for a in accounts], dtype=bool))
             for key, name in names.items()}
    # A labelled account TIES never split (labelled after the behaviour run) was not trained on: it joins train-2.
    unseen = np.flatnonzero(labelled & np.array([ties_split.get(a) not in names for a in accounts], dtype=bool))
    parts["train2"] = np.sort(np.concatenate([parts["train2"], unseen]))
    return parts
