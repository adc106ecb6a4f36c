"""The out-of-distribution distance (ml.text.ood) and the confound check (ml.text.baselines), issue 16 items 1-2.

Personas: the training posts are two clouds of embeddings (operation and control) drawn from one generator; new
posts from the same generator are ordinary, posts from a shifted generator are off-distribution. For the confound
check, two collections either talk about different things (flights against politics) or draw from one shared
vocabulary."""
from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.covariance import LedoitWolf
from sklearn.metrics import roc_auc_score

from ml.text import ClassifierConfig, EncoderClassifier, TextModelError, TrainConfig, save_tiny_bert
from ml.text.baselines import baselines, confound_checks, majority, tfidf_lr, topic_probe
from ml.text.ood import (
    FILE,
    KNN_FILE,
    CollectionShift,
    MahalanobisOOD,
    SentenceKNNOOD,
    fit_text_ood,
    load_ood,
)

DIMS = 32


def generator(n, rng, shift=0.0):
    """Rows from one correlated Gaussian per class (label 1 offset along the first axes); ``shift`` moves the
    whole cloud: another generator."""
    mixing = np.random.default_rng(7).normal(size=(DIMS, DIMS)) / np.sqrt(DIMS)
    y = (rng.random(n) < 0.5).astype(int)
    x = rng.normal(size=(n, DIMS)) @ mixing
    x[y == 1, :4] += 1.0
    return x + shift, y


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    x, y = generator(600, rng)
    groups = [f"account{i % 60}" for i in range(600)]
    return MahalanobisOOD().fit(x, y, groups), rng


def test_an_off_distribution_cluster_is_flagged_and_ordinary_posts_are_not(fitted):
    ood, rng = fitted
    ordinary, _ = generator(2000, rng)
    elsewhere, _ = generator(300, rng, shift=np.linspace(-1.5, 1.5, DIMS))
    near, far = ood.distances(ordinary), ood.distances(elsewhere)
    # The range promises about 1 % of ordinary new posts beyond the 99th percentile, 5 % beyond the 95th.
    assert ood.unreliable(near).mean() < 0.03 and 0.02 < (near > ood.range_["p95"]).mean() < 0.09
    assert ood.unreliable(far).mean() > 0.95
    labels = np.r_[np.zeros(len(near)), np.ones(len(far))]
    assert roc_auc_score(labels, np.r_[near, far]) > 0.99  # the other generator's posts rank above
    described = ood.describe(np.r_[near, far])
    assert described["outside_p99"] == pytest.approx((np.r_[near, far] > ood.range_["p99"]).mean())
    assert described["posts"] == 2300 and described["p99"] == ood.range_["p99"]


def test_the_distance_is_the_mahalanobis_distance_to_the_nearest_class_mean(fitted):
    ood, rng = fitted
    x, _ = generator(5, rng)
    precision = ood.precision_
    expected = [min(np.sqrt((row - mu) @ precision @ (row - mu)) for mu in ood.means_) for row in x]
    assert ood.distances(x) == pytest.approx(expected, rel=1e-6)
    assert ood.report()["range_from"] == "out of fold (5 folds by account)"


def test_the_covariance_is_ledoit_wolf_of_the_class_centred_posts():
    rng = np.random.default_rng(1)
    x, y = generator(300, rng)
    ood = MahalanobisOOD().fit(x, y)
    centred = x - np.stack([x[y == c].mean(axis=0) for c in (0, 1)])[y]
    lw = LedoitWolf(assume_centered=True).fit(centred)
    assert ood.precision_ == pytest.approx(lw.precision_) and ood.shrinkage_ == pytest.approx(lw.shrinkage_)


def test_an_in_sample_range_would_call_ordinary_new_posts_unreliable():
    """Why the range is measured out of fold: in 64 dimensions from 400 posts, the posts' distances to a summary
    of themselves are smaller than a new post's, so an in-sample 99th percentile leaves out far more than 1 %."""
    rng = np.random.default_rng(2)
    mixing = np.random.default_rng(3).normal(size=(64, 64)) / 8
    x, new = rng.normal(size=(400, 64)) @ mixing, rng.normal(size=(1000, 64)) @ mixing
    y = np.arange(400) % 2
    out_of_fold, in_sample = MahalanobisOOD().fit(x, y), MahalanobisOOD(folds=10**6).fit(x, y)
    assert in_sample.report()["range_from"].startswith("in sample")
    false_alarms = in_sample.unreliable(in_sample.distances(new)).mean()  # 0.09 measured; promised: 0.01
    honest = out_of_fold.unreliable(out_of_fold.distances(new)).mean()  # 0.014 measured
    assert false_alarms > 0.05 and honest < 0.03 and false_alarms > 4 * honest


def test_the_summary_saves_small_and_loads_the_same(fitted, tmp_path):
    ood, rng = fitted
    ood.save(tmp_path)
    assert (tmp_path / FILE).stat().st_size < 20_000
    again = MahalanobisOOD.load(tmp_path, ood.report())
    x, _ = generator(50, rng)
    assert again.distances(x) == pytest.approx(ood.distances(x), rel=1e-5)
    assert again.range_ == ood.range_ and MahalanobisOOD.load(tmp_path / "nothing") is None


def test_it_refuses_bad_embeddings(fitted):
    ood, _ = fitted
    with pytest.raises(TextModelError, match="rows of 32 numbers"):
        ood.distances(np.zeros((2, 3)))
    with pytest.raises(TextModelError, match="one embedding row per label"):
        MahalanobisOOD().fit(np.zeros((4, 2)), [0, 1])
    with pytest.raises(TextModelError, match="not fitted"):
        MahalanobisOOD().distances(np.zeros((1, 2)))


# -- nearest neighbours on sentence embeddings (what the product fits) ----------------------------------------
def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_the_neighbour_distance_ranks_another_generator_above_posts_like_the_training():
    """A class made of many topics (here 12 clusters on the sphere): one mean per class sits between them, the k
    nearest training posts do not. Posts from a 13th cluster (another generator), placed between the 12, rank above
    new posts of the 12."""
    rng = np.random.default_rng(4)
    centres = unit(rng.normal(size=(13, DIMS)))
    centres[12] = unit(centres[:12].mean(axis=0, keepdims=True))[0]

    def posts(n, clusters):
        which = rng.choice(clusters, size=n)
        return unit(centres[which] + 0.8 * rng.normal(size=(n, DIMS)) / np.sqrt(DIMS)), which

    x, which = posts(1200, np.arange(12))
    y, groups = (which % 2).astype(int), [f"account{i % 80}" for i in range(1200)]
    knn = SentenceKNNOOD(k=10).fit(x, y, groups)
    near, far = knn.distances(posts(1000, np.arange(12))[0]), knn.distances(posts(300, [12])[0])
    assert roc_auc_score(np.r_[np.zeros(1000), np.ones(300)], np.r_[near, far]) > 0.99
    assert knn.unreliable(near).mean() < 0.03 and knn.unreliable(far).mean() > 0.95
    assert knn.report()["range_from"] == "out of fold (5 folds by account)" and knn.report()["k"] == 10
    # The class-mean summary of the same posts misses most of them: each class mean sits among its six topics.
    mahalanobis = MahalanobisOOD().fit(x, y, groups)
    assert mahalanobis.unreliable(mahalanobis.distances(posts(300, [12])[0])).mean() < 0.6  # 0.35 measured


def test_the_neighbour_distance_is_one_minus_the_mean_similarity_of_the_k_nearest(tmp_path):
    rng = np.random.default_rng(5)
    x = unit(rng.normal(size=(40, 8)))
    knn = SentenceKNNOOD(k=3).fit(x, np.arange(40) % 2)
    q = unit(rng.normal(size=(4, 8)))
    expected = [1 - np.sort(x @ row)[-3:].mean() for row in q]
    assert knn.distances(q) == pytest.approx(expected, abs=1e-6)
    knn.save(tmp_path)
    again = load_ood(tmp_path, knn.report())
    assert isinstance(again, SentenceKNNOOD) and again.range_ == knn.range_ and again.k == 3
    assert again.distances(q) == pytest.approx(knn.distances(q), abs=1e-3)
    assert (tmp_path / KNN_FILE).stat().st_size < 40 * 8 * 2 + 2_000  # float16 rows and the range
    big = SentenceKNNOOD(max_reference=25).fit(x, np.arange(40) % 2)
    assert len(big.reference_) == 25 and big.report()["posts"] == 40


def test_the_bundled_minilm_puts_another_topic_beyond_the_training_range():
    """Real sentence embeddings: a classifier's training posts about flights and politics; COVID posts (a topic it
    never met) lie farther than new posts on its own topics."""
    rng = random.Random(6)
    training = [f"{rng.choice(FLIGHTS)} {rng.choice(FLIGHTS)} {rng.choice(POLITICS)}" for _ in range(30)] + [
        f"{rng.choice(POLITICS)} {rng.choice(POLITICS)} {rng.choice(FLIGHTS)}" for _ in range(30)]
    ood = fit_text_ood(training, [0] * 30 + [1] * 30, [f"a{i % 12}" for i in range(60)])
    alike = [f"{rng.choice(FLIGHTS)} {rng.choice(POLITICS)} {rng.choice(FLIGHTS)}" for _ in range(10)]
    near, far = ood.batch_distances(alike), ood.batch_distances(ELSEWHERE * 3)
    assert far.min() > np.median(near) and ood.unreliable(far).mean() > 0.5 > ood.unreliable(near).mean()


def test_the_shift_check_tells_an_off_topic_collection_from_the_training_posts_and_not_a_like_one():
    """A classifier two-sample test in the bundled MiniLM's space: a collection of COVID posts is told apart from
    training posts on flights and politics (AUC near 1, most posts at the limit), a new collection drawn like the
    training posts is not (AUC near 0.5, few marked)."""
    rng = random.Random(11)

    def like(n):
        return [" ".join(rng.choice(FLIGHTS + POLITICS) for _ in range(6)) for _ in range(n)]

    training = like(120)
    ood = fit_text_ood(training, [i % 2 for i in range(120)], [f"a{i % 12}" for i in range(120)])
    covid = [" ".join(rng.choice(COVID) for _ in range(6)) for _ in range(60)]
    alike = like(60)
    off, same = ood.fit_shift(covid), ood.fit_shift(alike)
    assert isinstance(off, CollectionShift) and off.auc > 0.95 and same.auc < 0.75
    p_off = ood.batch_measures(covid, shift=off)[:, 1]
    p_same = ood.batch_measures(alike, shift=same)[:, 1]
    assert (p_off > off.limit).mean() > 0.8 and (p_same > same.limit).mean() < 0.1
    assert off.describe(p_off)["share"] == pytest.approx((p_off > off.limit).mean())
    # the sampled posts get their out-of-fold probability, not one from a model that saw them, and their distance
    # from the vectors the check encoded (the same as encoding them again)
    assert p_off[0] == pytest.approx(off.out_of_fold[covid[0]])
    encoded, encode = [], ood.encoder.encode
    ood.encoder.encode = lambda texts: encoded.append(len(texts)) or encode(texts)
    measured = ood.batch_measures(covid + ["a post the sample never held"], shift=off)[:, 0]
    ood.encoder.encode = encode
    assert encoded == [1]  # only the text outside the sample went through the encoder
    assert measured[:-1] == pytest.approx(ood.batch_distances(covid), abs=1e-5)
    assert ood.fit_shift(covid[:10]) is None  # too few distinct posts to compare
    few = fit_text_ood(training[:12], [i % 2 for i in range(12)])  # a model kept from 12 training posts
    assert few.fit_shift(covid) is None and few.batch_measures(covid)[:, 0] == pytest.approx(
        few.batch_distances(covid), abs=1e-5)


def test_a_post_is_unreliable_beyond_the_range_or_at_the_shift_limit_and_unmeasured_shift_marks_nothing():
    ood = MahalanobisOOD()
    ood.means_, ood.range_ = np.zeros((1, 2)), {"p95": 1.0, "p99": 2.0}
    distances = np.array([0.5, 3.0, 0.5, 0.5])
    shift = np.array([0.2, 0.2, 0.95, np.nan])
    assert ood.unreliable(distances).tolist() == [False, True, False, False]
    assert ood.unreliable(distances, shift, 0.9).tolist() == [False, True, True, False]
    assert ood.unreliable(distances, shift, None).tolist() == [False, True, False, False]


# -- a tiny classifier end to end ---------------------------------------------------------------------
SLOGANS = ["the deep state lies again maga", "wake up america they are lying", "share this before they delete it"]
COMPLAINTS = ["my flight was delayed again united", "thanks for the great service today", "lost my bag please help"]
ELSEWHERE = ["vaccine trial results published", "covid cases rise in hospitals", "mask mandate lifted today"]
COVID = ["vaccine", "covid", "virus", "hospital", "pandemic", "masks", "infections", "lockdown", "testing", "doses"]


def test_a_tiny_classifier_keeps_the_summary_and_scores_distances_in_one_pass(tmp_path):
    rng = random.Random(0)
    texts, labels, groups = [], [], []
    for a in range(20):
        words = SLOGANS if a % 2 else COMPLAINTS
        for _ in range(8):
            texts.append(f"{rng.choice(words)} {rng.choice(words)}")
            labels.append(a % 2)
            groups.append(f"a{a}")
    bert = save_tiny_bert(texts + ELSEWHERE * 3, tmp_path / "bert", layers=1, hidden=16, heads=2)
    config = ClassifierConfig(train=TrainConfig(learning_rate=2e-3, epochs=3, batch_size=16))
    model = EncoderClassifier(str(bert), config).fit(texts, labels, groups)
    report = model.ood_report_
    assert report["posts"] == model.split_["train"]["posts"] and report["dims"] == 384  # the bundled MiniLM's
    assert report["method"] == "knn-minilm" and isinstance(model.ood_, SentenceKNNOOD)
    assert report["test"]["posts"] == model.split_["test"]["posts"]
    fresh = [f"{rng.choice(SLOGANS)} {rng.choice(COMPLAINTS)}" for _ in range(20)]
    off = [f"{rng.choice(ELSEWHERE)} {rng.choice(ELSEWHERE)}" for _ in range(20)]
    logits, distances = model.logits_and_distances(fresh + off)
    assert logits == pytest.approx(model.logits(fresh + off), abs=1e-5)
    assert distances == pytest.approx(model.ood_.distances(model.ood_.encoder.encode(fresh + off)), abs=1e-5)
    # (Whether another topic lies farther is asserted on vectors above: a 16-wide encoder trained three epochs on
    # 160 posts separates the topics under one initialisation in three, so here only the mechanics are.)
    scored = model.score_accounts(fresh + off, ["x"] * 40)
    shift = scored["ood"]["shift"]  # the collection's shift check, or None where it has too few distinct posts
    limit = scored["ood"]["shift_check"].get("limit")
    assert scored["ood"]["unreliable"] == model.ood_.unreliable(distances, shift, limit).tolist()
    far = distances > model.ood_.range_["p99"]
    assert all(marked for marked, beyond in zip(scored["ood"]["unreliable"], far) if beyond)  # the shift only adds
    alone = model.score_accounts(fresh + off, ["x"] * 40, shift=False)["ood"]
    assert alone["shift"] is None and alone["shift_check"] == {"available": False, "reason": "not asked for"}
    assert alone["unreliable"] == (distances > model.ood_.range_["p99"]).tolist()
    model.save(tmp_path / "model")
    again = EncoderClassifier.load(tmp_path / "model")
    assert again.logits_and_distances(off)[1] == pytest.approx(distances[20:], abs=1e-3)  # float16 reference
    (tmp_path / "model" / KNN_FILE).unlink()  # a model saved before the check existed
    old = EncoderClassifier.load(tmp_path / "model")
    assert old.ood_ is None and old.logits_and_distances(off)[1] is None and old.score_accounts(off, ["x"] * 20)[
        "ood"] is None


# -- baselines and the confound check ----------------------------------------------------------------
FLIGHTS = ["flight", "delayed", "airport", "luggage", "crew", "gate", "boarding", "pilot", "seat", "runway"]
POLITICS = ["election", "senate", "border", "vote", "congress", "campaign", "president", "ballot", "party", "law"]
SHARED = FLIGHTS + POLITICS


def posts(words_for, n=400, seed=0):
    rng = random.Random(seed)
    labels = [i % 2 for i in range(n)]
    texts = [" ".join(rng.choice(words_for(label)) for _ in range(6)) + " https://t.co/x1" for label in labels]
    return texts, np.array(labels)


def split(n):
    order = np.random.default_rng(0).permutation(n)
    return {"train": order[: n * 3 // 4], "test": order[n * 3 // 4:]}


def test_the_confound_check_fires_when_labels_coincide_with_collections_whose_vocabularies_differ():
    texts, y = posts(lambda label: POLITICS if label else FLIGHTS)
    base = baselines(texts, y, split(len(y)))
    assert base["topic_probe"]["auc"] > 0.99 and base["topic_probe"]["cv_auc"] > 0.99 and base["majority"]["auc"] == 0.5
    assert set(base["topic_probe"]["words"]["1"]) <= set(POLITICS) and "https" not in base["topic_probe"]["words"]["0"]
    groups = [f"a{i % 80}" for i in range(len(y))]
    checks = confound_checks(model_auc=0.995, probe=base["topic_probe"], labels=y, groups=groups,
                             collections=("passengers", "trolls"), class_names=("passengers", "trolls"))
    assert checks["fired"] == ["probe", "collection"]
    assert "no better than a bag of topic words" in checks["checks"][0]["message"]
    assert "“trolls” positive, “passengers” negative" in checks["checks"][1]["message"]


def test_the_confound_check_stays_quiet_when_the_collections_share_their_vocabulary():
    texts, y = posts(lambda label: SHARED)
    base = baselines(texts, y, split(len(y)))
    assert base["topic_probe"]["auc"] < 0.65
    day = 86400.0
    times = [1.4e9 + (i % 50) * day for i in range(len(y))]
    checks = confound_checks(model_auc=0.9, probe=base["topic_probe"], labels=y, groups=[f"a{i % 80}" for i in
                                                                                         range(len(y))],
                             times=times, collections=("a", "b"))
    assert checks["fired"] == []
    assert checks["checks"][2]["time_auc"] < 0.6


def test_a_narrow_period_and_a_handful_of_accounts_are_confounds_too():
    y = np.array([1] * 100 + [0] * 100)
    times = [1.45e9 + i * 3600 for i in range(100)] + [1.40e9 + i * 86400 * 5 for i in range(100)]
    groups = [f"op{i % 3}" for i in range(100)] + [f"user{i}" for i in range(100)]
    probe = {"auc": 0.55}
    checks = confound_checks(model_auc=0.8, probe=probe, labels=y, groups=groups, times=times)
    assert checks["fired"] == ["time", "accounts"]
    time_check, accounts = checks["checks"][2], checks["checks"][3]
    assert time_check["time_auc"] == 1.0 and time_check["spans"]["1"]["days"] < 4
    assert accounts["classes"]["1"] == {"accounts": 3, "top_share": 1.0, "top": ["op0", "op1", "op2"],
                                        "largest_share": 0.34}
    assert "100% of the IO posts come from 3 account(s) (op0, op1, op2; op0 alone 34%)" in accounts["message"]
    # Text-only imports: no times, one stand-in account per post: neither check fires.
    quiet = confound_checks(model_auc=0.8, probe=probe, labels=y, groups=[f"row:{i}" for i in range(200)],
                            times=[None] * 200)
    assert quiet["fired"] == [] and quiet["checks"][2]["time_auc"] is None


def test_the_baselines_are_the_quality_report_s():
    texts, y = posts(lambda label: POLITICS if label else FLIGHTS, n=80)
    train, test = split(80)["train"], split(80)["test"]
    assert majority(y[train], y[test])["auc"] == 0.5
    tfidf = tfidf_lr([texts[i] for i in train], y[train], [texts[i] for i in test], y[test])
    assert tfidf["auc"] == 1.0 and tfidf["n"] == len(test)
    empty = topic_probe(["a b", "c d"], [0, 1], ["a b", "c d"], [0, 1])  # no word of 3 letters in 2 posts
    assert empty["vocabulary"] == 0 and empty["auc"] == 0.5
