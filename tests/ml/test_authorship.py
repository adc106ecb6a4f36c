"""Authorship (docs/methods.md §authorship): the seed's stemmed word-presence vectors, a time-ordered test, and an
injected foreign post that the account's model ranks among its least-like posts."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from ml.authorship import (
    CHARS,
    SEED,
    AuthorshipError,
    AuthorshipModel,
    account_set,
    authorship_report,
    make_vectorizer,
    own_posts,
    posts_frame,
    stem_analyzer,
)
from ml.authorship.model import make_classifier

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "ira" / "ira_dev_sample_en.csv"
HACKED = "Breaking: Two Explosions in the White House and Barack Obama is injured."
SMALL = replace(SEED, min_posts=20, cv_folds=3)


def synthetic_posts(n_alice=60, n_bob=60):
    """Alice writes about her garden in lower case; Bob shouts about football."""
    days = pd.date_range("2020-01-01", periods=max(n_alice, n_bob), freq="D")
    alice = [{"account": "alice", "text": f"my tomatoes and roses grew {i} cm today, lovely garden", "time": days[i]}
             for i in range(n_alice)]
    bob = [{"account": "bob", "text": f"GOAL!!! United won {i}-0 tonight, what a match #football", "time": days[i]}
           for i in range(n_bob)]
    return alice + bob


@pytest.fixture(scope="module")
def sample():
    if not SAMPLE.exists():
        pytest.skip(f"{SAMPLE} is absent: the real-data tests need ../shared/data beside the checkout")
    frame = pd.read_csv(SAMPLE, usecols=["author_id", "publish_date", "content", "is_retweet"])
    return posts_frame(frame.rename(columns={"author_id": "account", "content": "text", "publish_date": "time"}))


def test_the_stemmer_reduces_the_hacked_tweet_to_porter_stems():
    # The classic 1980 algorithm, as the seed's stemmer: it turns "is" into "i" (NLTK's extensions would not).
    assert stem_analyzer(HACKED) == ["break", "two", "explos", "in", "the", "white", "hous", "and", "barack",
                                     "obama", "i", "injur"]


def test_it_keeps_hashtags_and_mentions_whole_and_marks_links():
    assert stem_analyzer("RT @AP: Running #Elections2016 https://t.co/abc") == ["rt", "@ap", "run", "#elections2016",
                                                                               "_url_"]


def test_the_word_vectoriser_marks_presence_of_training_stems_only():
    vectoriser = make_vectorizer(SEED).fit(["explosions explode", "the house"])
    row = vectoriser.transform(["explosion explosion in the white house"]).toarray()[0]
    assert dict(zip(vectoriser.get_feature_names_out(), row)) == {"explod": 0, "explos": 1, "hous": 1, "the": 1}


def test_tfidf_weighting_is_an_option():
    vectoriser = make_vectorizer(replace(SEED, weighting="tfidf")).fit(["explosions explode", "the house"])
    row = vectoriser.transform(["the explosions"]).toarray()[0]
    assert 0 < row.max() < 1


def test_the_character_vectoriser_keeps_case_the_seed_threw_away():
    vectoriser = make_vectorizer(replace(CHARS, min_df=1)).fit(["BREAKING news", "Breaking news"])
    assert "BR" in vectoriser.get_feature_names_out() and "Br" in vectoriser.get_feature_names_out()


def test_the_seeds_gaussian_sigma_2_is_gamma_one_eighth():
    assert make_classifier(replace(SEED, model="rbf_svm")).gamma == 1 / 8


def test_an_account_with_too_few_posts_gets_a_clear_message():
    with pytest.raises(AuthorshipError, match=r"@alice has 12 posts .* at least 50"):
        account_set(posts_frame(synthetic_posts(n_alice=12)), "alice", SEED)


def test_an_unknown_account_gets_a_clear_message():
    with pytest.raises(AuthorshipError, match="@carol has no posts"):
        authorship_report(synthetic_posts(), account="carol")


def test_the_test_split_holds_each_sides_latest_posts():
    aset = account_set(posts_frame(synthetic_posts()), "alice", SMALL)
    for label in (0, 1):
        side = aset.posts[aset.posts["label"] == label]
        assert side[~side["is_test"]]["time"].max() < side[side["is_test"]]["time"].min()
        assert side["is_test"].mean() == pytest.approx(SMALL.test_share, abs=0.02)


def test_retweets_and_repeats_are_not_the_accounts_own_writing():
    posts = posts_frame([{"account": "a", "text": t, "time": "2020-01-01"}
                         for t in ("RT @b: hello", "Hi https://t.co/1", "hi https://t.co/2", "bye")])
    assert list(own_posts(posts, SEED)["text"]) == ["Hi https://t.co/1", "bye"]


def test_the_model_is_shaped_like_a_scikit_learn_estimator():
    model = AuthorshipModel(SMALL)
    assert clone(model).get_params() == {"config": SMALL, "calibrate": True}
    texts, labels = ["garden roses"] * 10 + ["football goal"] * 10, [1] * 10 + [0] * 10
    assert model.fit(texts, labels) is model and hasattr(model, "vectorizer_")


def test_the_report_tells_two_authors_apart_and_is_json(tmp_path):
    seen = []
    report = authorship_report(synthetic_posts(), account="alice", methods={"words": SMALL},
                               pasted=["GOAL!!! what a match #football", "roses in my garden"],
                               on_progress=lambda fraction, stage: seen.append(fraction))
    json.dumps(report)
    assert report["methods"]["words"]["test_accuracy"] == 1.0
    assert report["pasted"][0]["probability"] < 0.5 < report["pasted"][1]["probability"]
    assert seen[0] == 0 and seen[-1] == 1.0 and seen == sorted(seen)
    assert [p["probability"] for p in report["posts"]] == sorted(p["probability"] for p in report["posts"])


@pytest.mark.parametrize("method", ["words", "chars"])
def test_posts_injected_into_a_news_feed_rank_near_its_bottom(sample, method):
    config = replace({"words": SEED, "chars": CHARS}[method], cv_folds=3)
    donor = own_posts(sample[sample["account"] == "Jenn_Abrams"], config).iloc[[10, 50, 90]]
    frame = pd.concat([sample[sample["account"] != "Jenn_Abrams"],  # the hijacker is no known negative
                       donor.assign(account="TodayNYCity", post_id=[-1, -2, -3])])
    report = authorship_report(frame, account="TodayNYCity", methods={method: config}, curves=False, limit=None)
    injected = [p["percentile"] for p in report["posts"] if p["post_id"] < 0]
    assert len(injected) == 3 and np.median(injected) <= 0.05, injected


def test_the_hacked_tweet_does_not_fit_a_right_wing_persona(sample):
    report = authorship_report(sample, account="Jenn_Abrams", methods={"words": SEED}, curves=False,
                               pasted=[HACKED])
    assert report["pasted"][0]["probability"] < 0.5
    assert report["posts"][0]["stems_for"] or report["posts"][0]["stems_against"]


def test_the_learning_curves_of_both_methods_share_one_figure():
    from ml.authorship.charts import learning_curve_figure

    small_chars = replace(CHARS, min_posts=20, cv_folds=3, min_df=1)
    report = authorship_report(synthetic_posts(), account="alice", methods={"words": SMALL, "chars": small_chars})
    curve = report["methods"]["chars"]["learning_curve"]
    assert len(curve["sizes"]) == len(curve["train"]) == len(curve["cv"]) and curve["sizes"] == sorted(curve["sizes"])
    figure = learning_curve_figure(report)
    assert [t["name"] for t in figure["data"]] == ["words training", "words cross-validation", "chars training",
                                                    "chars cross-validation"]


def test_the_investigation_pass_finds_a_post_written_in_another_accounts_style():
    from ml.authorship import InvestigationConfig, investigation_pass

    posts = synthetic_posts()
    posts.append({"account": "alice", "text": "GOAL!!! United won 7-0 tonight, what a match #football",
                  "time": "2020-03-15", "post_id": "odd-one"})
    config = InvestigationConfig(top_n=2, features=replace(CHARS, min_df=1), components=5)
    result = investigation_pass(posts, config=config)
    assert result["misplaced"][0]["post_id"] == "odd-one" and result["misplaced"][0]["fits_better"] == "bob"
