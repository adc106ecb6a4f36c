"""How far a post lies from a classifier's training posts (no Django, no model code): the Mahalanobis distance of
its embedding to the nearest class mean, under one covariance shared by the classes (Lee et al., "A Simple Unified
Framework for Detecting Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018).

A classifier's score means something only for posts like those it was trained on: a post on a topic, in a style or
a language the training never met still gets a confident P(IO), because the head has to put it on one side. The
distance says how unlike the training posts it is; the training range is the 95th and 99th percentile of the
training posts' own distances, and a post beyond the 99th is marked ``unreliable``.

1. ``fit(X, y, groups)``: per-class means, and a Ledoit-Wolf covariance of the class-centred embeddings (shrunk
   towards a scaled identity: 384 dimensions from a few thousand posts would give a singular sample covariance).
2. The training range from the training posts' own distances, each measured **out of fold** (5 folds, by account
   when accounts are given): a post's distance to a summary fitted on itself is biased low (in-sample, a few
   thousand posts in 384 dimensions sit closer to their own means than new posts from the same accounts' kind do),
   so an in-sample 99th percentile would mark far more than 1 % of new, ordinary posts unreliable. The summary
   kept is fitted on all the training posts.
3. ``distances(X)``: the whitened distance to each class mean, the smallest kept.

The summary is small: the means (classes x dims) and the precision matrix (dims x dims, float32: 0.6 MB at 384).

**What the product fits now: ``SentenceKNNOOD``** (Sun et al., "Out-of-Distribution Detection with Deep Nearest
Neighbors", ICML 2022), on the bundled MiniLM's *sentence* embeddings (mean-pooled, unit length), not the fine-tuned
classifier's. Fine-tuning collapses topics: a classifier trained to tell the IRA from airline passengers maps a COVID
claim next to the posts of whichever class it resembles, so a distance in its space misses off-topic posts
(docs/quality.md: 4.8 % of Constraint's COVID posts marked). The general-purpose MiniLM keeps topics apart, and a
nearest-neighbour distance follows a class that is many topics at once (the IRA's news, hashtag games and chat),
where one mean per class cannot. A post's distance is 1 − the mean cosine similarity of its ``k`` nearest training
posts; the range is measured out of fold as above. The summary is the training posts' unit vectors in float16 (at
most ``MAX_REFERENCE`` of them, a seeded sample: 0.77 kB a post, 3.8 MB at the cap). The cost is a second forward
pass (the bundled MiniLM) over every training and every scored post: scoring runs at about half the speed.
``fit_text_ood`` picks it; ``load_ood`` reads whichever summary a model directory holds (older models keep theirs).

**A scored collection against the training posts: ``CollectionShift``** (a classifier two-sample test; Lopez-Paz &
Oquab, ICLR 2017; Rabanser et al., "Failing Loudly", NeurIPS 2019). A distance to the nearest training posts cannot
see a collection that is unlike the training posts *as a whole* while each of its posts has some training post
nearby: the IRA class spans news headlines, hashtag games and chat, so its own tail reaches as far as a COVID
headline (docs/quality.md). Before scoring, a logistic regression learns to tell a sample of the collection's posts
(at most ``SHIFT_SAMPLE`` distinct texts) from the kept training posts, in the same sentence space, with balanced
class weights and 5-fold cross-fitting: its out-of-fold AUC says how far the collection as a whole lies from the
training posts (0.5: indistinguishable), and each post's probability is the odds that a post like it comes from the
collection rather than from the training posts (the sampled posts get their out-of-fold probability; the others the
fold models' mean). The limit follows the distance's rule: the 99th percentile of the *training posts'* own
out-of-fold probabilities, so a collection drawn like the training posts has about 1 % of its posts beyond it by
construction, whatever the classifier's regularisation does to the probabilities' scale (a fixed odds limit of 9 to 1
did not: docs/quality.md). A post beyond it is marked unreliable too: the model never met posts like it. Nothing is
stored with the model; the check runs per scoring, on the collection scored, and its sample's sentence vectors serve
the scoring pass's distances too (those posts are encoded once).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .calibration import sigmoid
from .config import TextModelError

FILE = "ood.npz"
KNN_FILE = "ood_knn.npz"
NEIGHBOURS = 10
MAX_REFERENCE = 5_000
DEFAULT_METHOD = "knn-minilm"  # what fit_text_ood fits; "mahalanobis" measures the classifier's own embeddings
FOLDS = 5
PERCENTILES = (95, 99)
UNRELIABLE = "p99"  # beyond this, a post is marked unreliable
SHIFT_SAMPLE = 2_000  # distinct scored texts the collection's shift classifier learns from
SHIFT_MIN_POSTS = 30  # fewer distinct texts than this: no shift check (the page says so)
SHIFT_PERCENTILE = 99  # of the training posts' own shift probabilities: a scored post above it is unreliable


class MahalanobisOOD:
    """Distance to the training embeddings; scikit-learn shape (``fit`` returns self, learned state ends in ``_``)."""

    def __init__(self, folds: int = FOLDS, seed: int = 0):
        self.folds = folds
        self.seed = seed

    # -- fitting ----------------------------------------------------------------------------------
    def fit(self, X, y, groups=None) -> "MahalanobisOOD":
        """1. the summary on every post; 2. the range from out-of-fold distances (in-sample when too few posts)."""
        X, y = _check(X, y)
        self.means_, self.precision_, self.shrinkage_ = _summary(X, y)
        self._whitener = None
        own, how = self._out_of_fold(X, y, groups)
        self.range_ = _range_of(own)
        self.fitted_on_ = {"posts": int(len(X)), "dims": int(X.shape[1]), "classes": int(len(self.means_)),
                           "range_from": how, "shrinkage": float(self.shrinkage_),
                           "median": float(np.median(own))}
        return self

    def _out_of_fold(self, X, y, groups) -> tuple[np.ndarray, str]:
        def measure(X_fit, y_fit, X_held):
            means, precision, _ = _summary(X_fit, y_fit)
            return _distances(X_held, means, precision)

        return _out_of_fold(X, y, groups, self.folds, self.seed, measure, self.distances)

    # -- use ----------------------------------------------------------------------------------------
    def distances(self, X) -> np.ndarray:
        """Per row of ``X``: the Mahalanobis distance to the nearest class mean of the training posts."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.means_.shape[1]:
            raise TextModelError(f"embeddings must be rows of {self.means_.shape[1]} numbers, got shape {X.shape}")
        if self._whitener is None:
            self._whitener = _whitener(self.precision_)
        return _whitened_distances(X, self.means_, self._whitener)

    def batch_distances(self, texts, vectors) -> np.ndarray:
        """What scoring calls per batch: this summary measures the classifier's own embeddings (``vectors``)."""
        return self.distances(vectors)

    def batch_measures(self, texts, vectors, shift: "CollectionShift | None" = None) -> np.ndarray:
        """(posts x 2): the distance and the shift probability (NaN: this summary keeps no sentence vectors, so
        it has no shift check)."""
        return np.column_stack([self.batch_distances(texts, vectors), np.full(len(texts), np.nan)])

    def fit_shift(self, texts, seed: int = 0) -> "CollectionShift | None":
        return None

    def unreliable(self, distances, shift=None, shift_limit: float | None = None) -> np.ndarray:
        """True where a distance lies beyond the training range's 99th percentile, or (``shift``: per post, NaN
        where unmeasured) where the collection's shift probability lies above ``shift_limit``."""
        self._check_fitted()
        far = np.asarray(distances, dtype=float) > self.range_[UNRELIABLE]
        if shift is None or shift_limit is None:
            return far
        with np.errstate(invalid="ignore"):
            return far | (np.asarray(shift, dtype=float) > shift_limit)

    def describe(self, distances) -> dict:
        """The range and how many of these posts lie beyond each of its percentiles (shares of the posts)."""
        d = np.asarray(distances, dtype=float)
        outside = {f"outside_{k}": float((d > v).mean()) if len(d) else 0.0 for k, v in self.range_.items()}
        return {**self.range_, **outside, "posts": int(len(d)), "limit": UNRELIABLE,
                "median": float(np.median(d)) if len(d) else None}

    def report(self) -> dict:
        """What the model's metrics keep: the range and how it was fitted (JSON)."""
        self._check_fitted()
        return {**self.range_, **self.fitted_on_, "limit": UNRELIABLE, "method": "mahalanobis"}

    # -- storage ------------------------------------------------------------------------------------
    def save(self, directory) -> Path:
        self._check_fitted()
        path = Path(directory) / FILE
        np.savez_compressed(
            path, means=self.means_.astype(np.float32), precision=self.precision_.astype(np.float32),
            **_range_arrays(self.range_),
        )
        return path

    @classmethod
    def load(cls, directory, report: dict | None = None) -> "MahalanobisOOD | None":
        """The summary saved in ``directory``, or None where there is none (a model trained before it existed)."""
        path = Path(directory) / FILE
        if not path.is_file():
            return None
        with np.load(path) as stored:
            self = cls()
            self.means_ = stored["means"].astype(np.float64)
            self.precision_ = stored["precision"].astype(np.float64)
            self.range_ = _stored_range(stored)
        self.shrinkage_ = (report or {}).get("shrinkage")
        self.fitted_on_ = {k: v for k, v in (report or {}).items() if k not in self.range_}
        self._whitener = None
        return self

    def _check_fitted(self):
        if not hasattr(self, "means_"):
            raise TextModelError("this out-of-distribution summary is not fitted: call fit() or load() first")


def _range_of(own: np.ndarray) -> dict[str, float]:
    """The training range: its posts' own (out-of-fold) distances at each of ``PERCENTILES``."""
    return {f"p{q}": float(np.percentile(own, q)) for q in PERCENTILES}


def _range_arrays(range_: dict[str, float]) -> dict[str, np.ndarray]:
    """The range as a summary file stores it (``_stored_range`` reads it back)."""
    return {"range": np.array([range_[f"p{q}"] for q in PERCENTILES]), "percentiles": np.array(PERCENTILES)}


def _stored_range(stored) -> dict[str, float]:
    return {f"p{int(q)}": float(v) for q, v in zip(stored["percentiles"], stored["range"])}


def _check(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=int).reshape(-1)
    if X.ndim != 2 or len(X) != len(y):
        raise TextModelError(f"need one embedding row per label; got shape {X.shape} for {len(y)} labels")
    if len(X) < 3:
        raise TextModelError("an out-of-distribution summary needs at least 3 posts")
    if not np.isfinite(X).all():
        raise TextModelError("embeddings must be finite numbers")
    return X, y


def _summary(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(class means, precision matrix, shrinkage): Ledoit-Wolf on the class-centred rows."""
    from sklearn.covariance import LedoitWolf

    labels = np.unique(y)
    means = np.stack([X[y == c].mean(axis=0) for c in labels])
    centred = X - means[np.searchsorted(labels, y)]
    lw = LedoitWolf(assume_centered=True).fit(centred)
    return means, lw.precision_, float(lw.shrinkage_)


def _whitener(precision: np.ndarray) -> np.ndarray:
    """W with W Wᵀ = precision, so ‖(x − μ) W‖ is the Mahalanobis distance (symmetric square root: robust to a
    float32 round trip that can leave the stored matrix a hair from positive definite)."""
    values, vectors = np.linalg.eigh((precision + precision.T) / 2)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def _whitened_distances(X: np.ndarray, means: np.ndarray, whitener: np.ndarray) -> np.ndarray:
    z, centres = X @ whitener, means @ whitener
    squared = (z**2).sum(axis=1)[:, None] - 2 * z @ centres.T + (centres**2).sum(axis=1)[None, :]
    return np.sqrt(np.clip(squared.min(axis=1), 0.0, None))


def _distances(X: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    return _whitened_distances(X, means, _whitener(precision))


def _out_of_fold(X, y, groups, folds: int, seed: int, measure, in_sample) -> tuple[np.ndarray, str]:
    """Each post's distance to a summary fitted without it (``measure(X_fit, y_fit, X_held)``): folds by account when
    every class has at least ``folds`` accounts, else stratified folds by post, else (too few posts) in sample."""
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    classes = np.unique(y)
    smallest = min(int((y == c).sum()) for c in classes)
    fewest_accounts = 0
    if groups is not None:
        groups = np.asarray(groups)
        fewest_accounts = min(len(set(groups[y == c].tolist())) for c in classes)
    if groups is not None and fewest_accounts >= folds:
        splits = GroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y, groups)
        how = f"out of fold ({folds} folds by account)"
    elif smallest >= folds:
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y)
        how = f"out of fold ({folds} folds)"
    else:
        return in_sample(X), "in sample (too few posts for folds)"
    own = np.empty(len(X))
    for fit_index, held in splits:
        own[held] = measure(X[fit_index], y[fit_index], X[held])
    return own, how


# -- nearest neighbours on general-purpose sentence embeddings ----------------------------------------------
_ENCODERS: dict = {}


class SentenceEncoder:
    """Unit-length mean-pooled sentence embeddings from a local encoder directory (default: the bundled MiniLM, as
    sentence-transformers pools it); one loaded copy per directory and process."""

    def __init__(self, directory=None, max_length: int = 64, batch_size: int = 64):
        self.directory = str(directory) if directory else None
        self.max_length = max_length
        self.batch_size = batch_size

    def _loaded(self):
        from transformers import AutoModel, AutoTokenizer

        from .models import bundled_encoder_directory, check_model_directory

        path = str(check_model_directory(self.directory or bundled_encoder_directory()))
        if path not in _ENCODERS:
            _ENCODERS.clear()  # one at a time: a worker keeps one sentence encoder's memory
            _ENCODERS[path] = (AutoTokenizer.from_pretrained(path, local_files_only=True),
                               AutoModel.from_pretrained(path, local_files_only=True).eval())
        return _ENCODERS[path]

    def encode(self, texts) -> np.ndarray:
        """(posts x dims) float32, unit rows; batches of similar length (little padding)."""
        import torch

        texts = [str(t) for t in texts]
        tokenizer, model = self._loaded()
        out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), self.batch_size):
            index = order[start:start + self.batch_size]
            batch = tokenizer([texts[i] for i in index], padding=True, truncation=True, max_length=self.max_length,
                              return_tensors="pt")
            with torch.inference_mode():
                hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
            out[index] = torch.nn.functional.normalize(pooled, dim=1).numpy()
        return out


class SentenceKNNOOD:
    """Distance of a post to its ``k`` nearest training posts in a general-purpose sentence space; the same shape
    and range as ``MahalanobisOOD`` (``fit`` on unit vectors; ``batch_distances`` encodes the texts itself)."""

    method = DEFAULT_METHOD

    def __init__(self, k: int = NEIGHBOURS, folds: int = FOLDS, seed: int = 0, max_reference: int = MAX_REFERENCE,
                 encoder: SentenceEncoder | None = None):
        self.k = k
        self.folds = folds
        self.seed = seed
        self.max_reference = max_reference
        self.encoder = encoder or SentenceEncoder()

    def fit(self, X, y, groups=None) -> "SentenceKNNOOD":
        """1. the range from out-of-fold distances (each post against the other folds' posts); 2. the reference:
        every training post, or a seeded sample of ``max_reference``."""
        X, y = _check(X, y)
        X = _unit(X)
        self.reference_ = X.astype(np.float32)
        own, how = _out_of_fold(X, y, groups, self.folds, self.seed,
                                lambda X_fit, _y, X_held: _knn_distances(X_held, X_fit, self.k),
                                lambda rows: _knn_distances(rows, rows, self.k + 1, skip_self=True))
        if len(X) > self.max_reference:
            keep = np.sort(np.random.default_rng(self.seed).choice(len(X), self.max_reference, replace=False))
            self.reference_ = self.reference_[keep]
        self.range_ = _range_of(own)
        self.fitted_on_ = {"posts": int(len(X)), "dims": int(X.shape[1]), "reference": int(len(self.reference_)),
                           "k": int(self.k), "range_from": how, "median": float(np.median(own)),
                           "encoder": self.encoder.directory or "bundled MiniLM"}
        return self

    def fit_texts(self, texts, y, groups=None) -> "SentenceKNNOOD":
        return self.fit(self.encoder.encode(texts), y, groups)

    def distances(self, X) -> np.ndarray:
        """Per row of ``X`` (sentence vectors): 1 − mean cosine similarity of its k nearest training posts."""
        self._check_fitted()
        X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.reference_.shape[1]:
            raise TextModelError(f"embeddings must be rows of {self.reference_.shape[1]} numbers, got shape {X.shape}")
        return _knn_distances(_unit(X), self.reference_, self.k)

    def batch_distances(self, texts, vectors=None) -> np.ndarray:
        """What scoring calls per batch: the texts' own sentence vectors (the classifier's are not used)."""
        return self.distances(self.encoder.encode(texts))

    def batch_measures(self, texts, vectors=None, shift: "CollectionShift | None" = None) -> np.ndarray:
        """(posts x 2): each text's distance and, with ``shift``, its shift probability (else NaN); one encoder
        pass gives both."""
        texts = [str(t) for t in texts]
        known = shift.vectors if shift is not None else {}
        missing = list(dict.fromkeys(t for t in texts if t not in known))  # the shift's sample is encoded already
        fresh = dict(zip(missing, self.encoder.encode(missing))) if missing else {}
        sentences = np.stack([known[t] if t in known else fresh[t] for t in texts]) if texts else np.zeros(
            (0, self.reference_.shape[1]), np.float32)
        probability = shift.probabilities(texts, sentences) if shift is not None else np.full(len(texts), np.nan)
        return np.column_stack([self.distances(sentences), probability])

    def fit_shift(self, texts, seed: int = 0) -> "CollectionShift | None":
        """The scored collection against the training posts (``CollectionShift``), on a seeded sample of at most
        ``SHIFT_SAMPLE`` of its distinct texts; None below ``SHIFT_MIN_POSTS`` distinct texts on either side (a
        model kept from a few training posts has too few to compare with, and the folds need both classes)."""
        self._check_fitted()
        distinct = list(dict.fromkeys(str(t) for t in texts))
        if min(len(distinct), len(self.reference_)) < SHIFT_MIN_POSTS:
            return None
        if len(distinct) > SHIFT_SAMPLE:
            keep = np.sort(np.random.default_rng(seed).choice(len(distinct), SHIFT_SAMPLE, replace=False))
            distinct = [distinct[i] for i in keep]
        return CollectionShift.fit(self.reference_, self.encoder.encode(distinct), distinct, seed=seed)

    unreliable = MahalanobisOOD.unreliable
    describe = MahalanobisOOD.describe

    def report(self) -> dict:
        self._check_fitted()
        return {**self.range_, **self.fitted_on_, "limit": UNRELIABLE, "method": self.method}

    def save(self, directory) -> Path:
        self._check_fitted()
        path = Path(directory) / KNN_FILE
        np.savez_compressed(path, reference=self.reference_.astype(np.float16), k=np.array(self.k),
                            **_range_arrays(self.range_))
        return path

    @classmethod
    def load(cls, directory, report: dict | None = None) -> "SentenceKNNOOD | None":
        path = Path(directory) / KNN_FILE
        if not path.is_file():
            return None
        with np.load(path) as stored:
            self = cls(k=int(stored["k"]))
            self.reference_ = stored["reference"].astype(np.float32)
            self.range_ = _stored_range(stored)
        self.fitted_on_ = {k: v for k, v in (report or {}).items() if k not in self.range_}
        return self

    def _check_fitted(self):
        if not hasattr(self, "reference_"):
            raise TextModelError("this out-of-distribution summary is not fitted: call fit() or load() first")


class CollectionShift:
    """A classifier two-sample test of a scored collection against a model's training posts (module docstring):
    ``fit`` on the training posts' and a sample of the collection's sentence vectors; ``probabilities`` per post."""

    method = "logistic regression, training posts against the scored collection (sentence vectors, 5 folds)"

    def __init__(self, coef: np.ndarray, intercept: float, auc: float, out_of_fold: dict[str, float],
                 reference_posts: int, limit: float, vectors: dict[str, np.ndarray] | None = None):
        self.coef, self.intercept, self.auc = coef, intercept, auc
        self.out_of_fold, self.reference_posts, self.limit = out_of_fold, reference_posts, limit
        self.vectors = vectors or {}  # the sample's sentence vectors, so the scoring pass does not encode them again

    @classmethod
    def fit(cls, reference: np.ndarray, sample: np.ndarray, sample_texts: list[str], *, folds: int = FOLDS,
            seed: int = 0) -> "CollectionShift":
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import StratifiedKFold

        X = np.concatenate([_unit(np.asarray(reference, np.float32)), _unit(np.asarray(sample, np.float32))])
        y = np.r_[np.zeros(len(reference)), np.ones(len(sample))]
        own, coefs, intercepts = np.empty(len(X)), [], []
        for fit_index, held in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y):
            model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(X[fit_index], y[fit_index])
            own[held] = model.predict_proba(X[held])[:, 1]
            coefs.append(model.coef_[0])
            intercepts.append(model.intercept_[0])
        out_of_fold = dict(zip(sample_texts, own[len(reference):].tolist()))
        limit = float(np.percentile(own[: len(reference)], SHIFT_PERCENTILE))
        return cls(np.mean(coefs, axis=0), float(np.mean(intercepts)), float(roc_auc_score(y, own)), out_of_fold,
                   len(reference), limit, dict(zip(sample_texts, np.asarray(sample, np.float32))))

    def probabilities(self, texts, vectors) -> np.ndarray:
        """Per post: the odds, as a probability, that a post like it comes from the collection rather than from the
        training posts (out of fold for the sampled texts)."""
        p = sigmoid(_unit(np.asarray(vectors, np.float32)).astype(np.float64) @ self.coef + self.intercept)
        for i, text in enumerate(texts):
            own = self.out_of_fold.get(str(text))
            if own is not None:
                p[i] = own
        return p

    def describe(self, probabilities) -> dict:
        """What the score page shows: the collection's AUC against the training posts, the sample sizes, the
        limit (the training posts' own 99th percentile) and the share of posts above it."""
        p = np.asarray(probabilities, dtype=float)
        return {"available": True, "auc": self.auc, "sample_posts": len(self.out_of_fold),
                "reference_posts": self.reference_posts, "limit": self.limit, "limit_from": f"p{SHIFT_PERCENTILE}",
                "share": float((p > self.limit).mean()) if len(p) else 0.0, "method": self.method}


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def _knn_distances(X: np.ndarray, reference: np.ndarray, k: int, skip_self: bool = False, chunk: int = 1024):
    """1 − mean cosine similarity of each row's k nearest reference rows (unit rows; ``skip_self``: the reference is
    ``X`` itself and each row's own similarity, the largest, is left out). Chunked: memory stays chunk x reference."""
    k = max(1, min(k, len(reference)))
    out = np.empty(len(X))
    for start in range(0, len(X), chunk):
        sims = X[start:start + chunk].astype(np.float32) @ reference.T.astype(np.float32)
        top = -np.partition(-sims, k - 1, axis=1)[:, :k]
        if skip_self:
            top = np.sort(top, axis=1)[:, :-1] if k > 1 else top
        out[start:start + chunk] = 1.0 - top.mean(axis=1)
    return out


def fit_text_ood(texts, labels, groups=None, *, embed=None, seed: int = 0, method: str = DEFAULT_METHOD,
                 encoder: SentenceEncoder | None = None):
    """The summary a classifier keeps of its training posts: ``method`` "knn-minilm" (the texts' sentence vectors,
    ``encoder`` or the bundled MiniLM) or "mahalanobis" (``embed(texts)``: the classifier's own embeddings)."""
    if method == "mahalanobis":
        return MahalanobisOOD(seed=seed).fit(embed(texts), labels, groups)
    if method != DEFAULT_METHOD:
        raise TextModelError(f"unknown out-of-distribution method {method!r}")
    return SentenceKNNOOD(seed=seed, encoder=encoder).fit_texts(texts, labels, groups)


def load_ood(directory, report: dict | None = None):
    """The summary a model directory holds: the sentence-kNN one, else the older Mahalanobis one, else None."""
    return SentenceKNNOOD.load(directory, report) or MahalanobisOOD.load(directory, report)
