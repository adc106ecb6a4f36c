"""Temperature scaling, reliability and thresholds (ml.text.calibration) on synthetic logits whose truth is known."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from ml.text import TextModelError
from ml.text.calibration import (
    calibrate,
    choose_threshold,
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
    sigmoid,
)
from ml.text.charts import reliability_figure

TRUE_T = 2.5


@pytest.fixture(scope="module")
def overconfident():
    """Labels drawn from sigmoid(z): z is calibrated. The 'model' reports z × 2.5, an overconfident logit,
    so the temperature that undoes it is 2.5."""
    rng = np.random.default_rng(0)
    z = rng.normal(0.0, 1.5, 8_000)
    y = (rng.random(len(z)) < sigmoid(z)).astype(int)
    return z * TRUE_T, y


def test_it_recovers_a_known_temperature(overconfident):
    logits, labels = overconfident
    fitted = fit_temperature(logits, labels)
    assert fitted["temperature"] == pytest.approx(TRUE_T, rel=0.06)
    assert not fitted["clipped"] and not fitted["separable"]


def test_it_recovers_an_underconfident_temperature_too(overconfident):
    logits, labels = overconfident
    assert fit_temperature(logits / TRUE_T / 2, labels)["temperature"] == pytest.approx(0.5, rel=0.06)
    # A barely trained model: logits near 0, where the NLL is nearly flat in T.
    assert fit_temperature(logits / TRUE_T / 100, labels)["temperature"] == pytest.approx(0.01, rel=0.06)


def test_temperature_scaling_lowers_the_calibration_error_and_the_nll(overconfident):
    report = calibrate(*overconfident)
    assert report["ece_before"] > 0.05 and report["ece_after"] < report["ece_before"] / 3
    assert report["nll_after"] < report["nll_before"]
    # The bins: 10 of equal width, every post in one, and after T each bin's share of label 1 is near its mean score.
    bins = report["bins_after"]
    assert len(bins) == 10 and sum(b["count"] for b in bins) == len(overconfident[1])
    assert [b["low"] for b in bins] == pytest.approx([i / 10 for i in range(10)])
    full = [b for b in bins if b["count"] >= 300]
    assert full and all(abs(b["accuracy"] - b["confidence"]) < 0.05 for b in full)


def test_the_error_is_the_weighted_gap_of_the_bins():
    p = [0.05, 0.15, 0.15, 0.95, 1.0]
    y = [0, 1, 0, 1, 1]
    bins = reliability_bins(p, y)
    assert [b["count"] for b in bins] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 2]  # a score of exactly 1 is in the last bin
    assert bins[1]["confidence"] == pytest.approx(0.15) and bins[1]["accuracy"] == 0.5
    assert bins[2]["confidence"] is None
    # |0 - .05| * 1/5 + |.5 - .15| * 2/5 + |1 - .975| * 2/5
    assert expected_calibration_error(p, y) == pytest.approx(0.05 / 5 + 0.35 * 2 / 5 + 0.025 * 2 / 5)


SCORES = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1]
LABELS = [1, 1, 0, 1, 0, 0, 0, 0]


def test_the_f1_threshold_is_the_best_cut_and_sits_in_its_gap():
    # Cuts: 0.9 → F1 .50, 0.8 → .80, 0.7 → .67, 0.6 → .857 (3 found, 1 false), 0.4 → .75 ...
    chosen = choose_threshold(SCORES, LABELS, "f1")
    assert chosen["threshold"] == pytest.approx(0.5)  # midway between 0.6 (flagged) and 0.4 (not)
    flagged = (np.array(SCORES) >= chosen["threshold"]).astype(int)
    assert chosen["f1"] == pytest.approx(f1_score(LABELS, flagged)) == pytest.approx(6 / 7)
    assert (chosen["precision"], chosen["recall"], chosen["flagged"]) == (0.75, 1.0, 4)


def test_the_f1_threshold_matches_a_brute_force_search():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 150)
    p = np.clip(0.35 * y + rng.random(150) * 0.65, 0, 1)
    chosen = choose_threshold(p, y, "f1")
    best = max(f1_score(y, (p >= t).astype(int)) for t in np.unique(p))
    assert chosen["f1"] == pytest.approx(best)
    assert f1_score(y, (p >= chosen["threshold"]).astype(int)) == pytest.approx(best)


def test_a_precision_goal_takes_the_lowest_threshold_that_reaches_it():
    chosen = choose_threshold(SCORES, LABELS, "precision", target_precision=0.9, min_flagged=2)
    assert chosen["reached"] and chosen["threshold"] == pytest.approx(0.75)  # flags 0.9 and 0.8, both IO
    assert (chosen["precision"], chosen["recall"]) == (1.0, pytest.approx(2 / 3))
    # A looser goal finds more at a lower threshold: 3 of 4 flagged are IO at 0.6.
    looser = choose_threshold(SCORES, LABELS, "precision", target_precision=0.7, min_flagged=2)
    assert looser["threshold"] == pytest.approx(0.5) and looser["recall"] == 1.0
    flagged = (np.array(SCORES) >= looser["threshold"]).astype(int)
    assert precision_score(LABELS, flagged) >= 0.7 and recall_score(LABELS, flagged) == 1.0


def test_an_unreachable_precision_says_so_and_keeps_the_best_precision():
    chosen = choose_threshold(SCORES, [0, 1, 0, 1, 0, 1, 0, 0], "precision", target_precision=0.9, min_flagged=1)
    assert not chosen["reached"] and chosen["precision"] == 0.5
    assert chosen["flagged"] == 6  # of the cuts at precision 0.5, the one that finds the most


def test_a_precision_reached_on_a_handful_of_posts_does_not_count():
    # The top 3 posts are IO, then IO and control alternate: precision 0.9 holds only on the top 3.
    scores = np.linspace(1, 0, 40)
    labels = np.array([1, 1, 1] + [0, 1] * 18 + [0])
    few = choose_threshold(scores, labels, "precision", target_precision=0.9, min_flagged=1)
    assert few["reached"] and few["flagged"] == 3
    chosen = choose_threshold(scores, labels, "precision", target_precision=0.9)  # at least 10 flagged
    assert not chosen["reached"] and chosen["flagged"] >= 10
    assert chosen["precision"] == max(labels[:n].mean() for n in range(10, 41))


def test_a_perfectly_separated_split_keeps_t_1_and_says_so():
    # Its NLL falls without end as T → 0: sharpening there would push every score to 0 or 1.
    assert fit_temperature([5.0, 6.0, -5.0, -7.0], [1, 1, 0, 0]) == {"temperature": 1.0, "clipped": False,
                                                                       "separable": True}


def test_bad_inputs_are_refused_with_a_reason():
    with pytest.raises(TextModelError, match="both classes"):
        fit_temperature([1.0, 2.0], [1, 1])
    with pytest.raises(TextModelError, match="threshold goal"):
        choose_threshold(SCORES, LABELS, "recall")
    with pytest.raises(TextModelError, match="logits"):
        fit_temperature([1.0, 2.0], [1, 0, 1])


def test_the_reliability_figure_draws_the_held_out_bins_before_and_after(overconfident):
    report = calibrate(*overconfident)
    report["test"] = {k: report[k] for k in ("ece_before", "ece_after", "bins_before", "bins_after")}
    figure = reliability_figure(report)
    before, after, diagonal = figure["data"]
    assert "held-out test" in figure["layout"]["title"]["text"]
    assert after["name"].startswith(f"after T = {report['temperature']:.2f}")
    assert after["x"] == [b["confidence"] for b in report["bins_after"] if b["count"]]
    assert diagonal["x"] == [0, 1] and diagonal["y"] == [0, 1]
