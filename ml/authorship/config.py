"""Settings for authorship models: one frozen dataclass, two presets (the seed's and ours)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace


class AuthorshipError(ValueError):
    """The data cannot support an authorship model (too few posts, unknown account, ...)."""


@dataclass(frozen=True)
class AuthorshipConfig:
    features: str = "words"  # "words": Porter stems (seed); "chars": character n-grams
    weighting: str = "binary"  # "binary": word presence (seed); "tfidf"
    model: str = "linear_svm"  # "linear_svm" (seed, best), "rbf_svm" (seed's first try), "logistic"
    C: float = 1.0
    rbf_sigma: float = 2.0  # the seed's "gaussian sigma 2"; scikit-learn's gamma = 1 / (2 sigma^2)
    char_ngrams: tuple[int, int] = (2, 5)
    min_df: int = 1
    negative_ratio: float = 1.0  # negatives per positive; the seed's set was "roughly half AP"
    topic_share: float = 0.3  # part of the negatives drawn from posts sharing the account's topic words
    topic_words: int = 15
    min_posts: int = 50  # own posts (after dropping retweets and duplicates) needed to train and test
    max_posts: int | None = None  # keep the latest N own posts; None keeps all
    test_share: float = 0.2  # the latest share of posts, held out in time order
    cv_folds: int = 5
    calibration_folds: int = 3
    drop_retweets: bool = True  # a retweet's text was written by someone else
    random_state: int = 0

    @property
    def name(self) -> str:
        return self.features

    def as_dict(self) -> dict:
        return {**asdict(self), "char_ngrams": list(self.char_ngrams)}


SEED = AuthorshipConfig()
SEED_RBF = replace(SEED, model="rbf_svm")
CHARS = AuthorshipConfig(features="chars", weighting="tfidf", model="logistic", C=10.0, min_df=2)
METHODS = {"words": SEED, "chars": CHARS}
