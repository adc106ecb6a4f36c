"""The embedding map's model code: posts on two clearly different topics land apart in 2-D, an account's vector is
the mean of its posts', the cap's sample is reproducible, and bad inputs say what is wrong."""
from __future__ import annotations

import random

import numpy as np
import pytest

from ml.checks import ParamError
from ml.embedding import (
    EmbeddingError,
    MapConfig,
    PostEncoder,
    account_means,
    build_map,
    effective_perplexity,
    knn_accuracy,
    project,
    sample_indices,
    sample_per_group,
)

FOOTBALL = ("the striker scored a late winner", "our keeper saved a penalty in the derby",
            "the coach changed the formation at half time", "fans sang as the team won the league match",
            "the referee sent off their captain", "a header in extra time won the cup")
COOKING = ("slow roast the garlic with olive oil and thyme", "knead the dough and let it rise overnight",
           "simmer the tomato sauce for an hour", "whisk the eggs with sugar and melted butter",
           "season the lentil soup with cumin and fresh coriander", "bake the sourdough loaf until the crust is golden")
TAILS = ("today", "tonight", "again!", "what a day", "#weekend", "at last", "no doubt", "honestly")


def topic_posts(n: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """``n`` posts alternating between football (0) and cooking (1), each a topic sentence with a varied tail."""
    rng = random.Random(seed)
    texts, topics = [], []
    for i in range(n):
        topic = i % 2
        sentence = rng.choice(FOOTBALL if topic == 0 else COOKING)
        texts.append(f"{sentence.capitalize()} {rng.choice(TAILS)} ({i})")
        topics.append(topic)
    return texts, topics


class FixedEncoder:
    """Stands in for an encoder: the vectors it was given, in order."""

    def __init__(self, vectors):
        self.vectors = np.asarray(vectors, dtype=np.float32)

    def embed(self, texts, on_step=None):
        assert len(texts) == len(self.vectors)
        if on_step:
            on_step({"step": 1, "total_steps": 1, "fraction": 1.0, "embedded": len(texts), "distinct": len(texts)})
        return self.vectors


@pytest.fixture(scope="module")
def minilm():
    return PostEncoder()  # the bundled MiniLM-L6, loaded once per process


def test_the_map_keeps_two_topics_apart_and_reports_each_stage(minilm):
    texts, topics = topic_posts(100)
    stages = []
    built = build_map(texts, [f"a{i % 10}" for i in range(100)], unit="post", encoder=minilm,
                      config=MapConfig(seed=1), on_progress=lambda f, stage: stages.append((f, stage)))
    assert built["xy"].shape == (100, 2) and built["ids"] == list(range(100)) and built["dimensions"] == 384
    assert knn_accuracy(built["xy"], topics, k=10) >= 0.95
    assert knn_accuracy(np.random.default_rng(0).normal(size=(100, 2)), topics, k=10) < 0.8  # the measure can fail
    fractions = [f for f, _ in stages]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert "Embedding posts: 50 of 100 (batch 1 of 2)" in [s for _, s in stages]
    assert "t-SNE: iteration 750 of 750 (optimisation)" in [s for _, s in stages]


def test_each_distinct_text_is_embedded_once_and_vectors_have_unit_length(minilm):
    vectors = minilm.embed(["same words", "other words entirely", "same words"])
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2]) and not np.allclose(vectors[0], vectors[1])


def test_an_account_is_the_mean_of_its_posts():
    vectors = np.array([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0], [5.0, 5.0], [2.0, 2.0]])
    keys, means, counts = account_means(vectors, ["b", "a", "b", "c", "a"])
    assert keys == ["b", "a", "c"] and counts.tolist() == [2, 2, 1]
    assert np.allclose(means, [[0.5, 2.0], [2.5, 2.0], [5.0, 5.0]])
    rng = np.random.default_rng(0)
    posts = np.vstack([rng.normal(size=(30, 8)) + 6, rng.normal(size=(30, 8)) - 6])
    accounts = [f"op{i % 6}" if i < 30 else f"user{i % 6}" for i in range(60)]
    built = build_map([str(i) for i in range(60)], accounts, list(range(100, 160)), unit="account",
                      encoder=FixedEncoder(posts), config=MapConfig(n_iter=250))
    assert built["ids"] == built["accounts"] == [*(f"op{i}" for i in range(6)), *(f"user{i}" for i in range(6))]
    assert built["posts"] == [5] * 12 and built["xy"].shape == (12, 2) and built["perplexity"] == pytest.approx(11 / 3)
    assert knn_accuracy(built["xy"], [a[:2] for a in built["accounts"]], k=3) == 1.0


def test_the_same_seed_draws_the_same_map():
    vectors = np.random.default_rng(2).normal(size=(40, 16))
    short = {"n_iter": 50, "early_exaggeration_iter": 50}
    first, second, other = (project(vectors, MapConfig(seed=s, **short)).xy for s in (5, 5, 6))
    assert np.array_equal(first, second) and not np.allclose(first, other)


def test_large_maps_run_the_shorter_early_phase_and_a_smaller_neighbour_forest():
    """The speed settings measured at 100,000 x 384 (docs/benchmarks.md): 125 early-exaggeration iterations from
    50,000 points (250 below, and whatever the caller names), Annoy with the config's forest from 1,000 points.
    The progress the map reports counts the phases it really ran."""
    from ml.embedding.tsne import neighbour_search

    config = MapConfig()
    assert [config.exaggeration_iterations(n) for n in (1_000, 49_999, 50_000, 100_000)] == [250, 250, 125, 125]
    assert MapConfig(early_exaggeration_iter=40).exaggeration_iterations(100_000) == 40
    assert neighbour_search(config, 999) == {}
    assert neighbour_search(MapConfig(neighbour_trees=7), 1_000) == {"neighbors": "annoy", "knn_kwargs": {"n_trees": 7}}
    with pytest.raises(ParamError) as caught:
        MapConfig(neighbour_trees=0)
    assert caught.value.field == "neighbour_trees"
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 16)) * 10
    vectors = np.vstack([c + rng.normal(size=(600, 16)) for c in centres])
    steps = []
    projected = project(vectors, MapConfig(n_iter=60, early_exaggeration_iter=30, callbacks_every=30),
                        on_step=steps.append)
    assert steps[-1]["total_iterations"] == 90 and steps[-1]["iteration"] == 90
    assert knn_accuracy(projected.xy, [0] * 600 + [1] * 600, k=5) > 0.99


def test_the_cap_takes_a_reproducible_sample():
    picked = sample_indices(1_000, 100, seed=3)
    assert len(picked) == 100 and len(set(picked)) == 100 and list(picked) == sorted(picked)
    assert np.array_equal(picked, sample_indices(1_000, 100, seed=3))
    assert not np.array_equal(picked, sample_indices(1_000, 100, seed=4))
    assert sample_indices(7, 100, seed=3).tolist() == list(range(7))
    groups = ["a"] * 10 + ["b"] * 2
    kept = sample_per_group(groups, 3, seed=0)
    assert [groups[i] for i in kept].count("a") == 3 and [groups[i] for i in kept].count("b") == 2
    assert np.array_equal(kept, sample_per_group(groups, 3, seed=0))


def test_bad_inputs_say_what_is_wrong(tmp_path):
    with pytest.raises(ParamError) as caught:
        MapConfig(perplexity=1)
    assert caught.value.field == "perplexity"
    with pytest.raises(EmbeddingError, match="at least 5 points"):
        project(np.zeros((3, 4)))
    with pytest.raises(EmbeddingError, match="NaN"):
        project(np.full((10, 4), np.nan))
    with pytest.raises(EmbeddingError, match="does not exist"):
        PostEncoder(tmp_path / "nothing").embed(["a post"])
    with pytest.raises(EmbeddingError, match="unit must be one of"):
        build_map(["a"], ["b"], unit="hashtag")
    assert effective_perplexity(30, 31) == 10 and effective_perplexity(30, 5_000) == 30


def test_a_stored_text_models_encoder_embeds_posts(tmp_path):
    from ml.text import save_tiny_bert

    texts, _ = topic_posts(40)
    directory = save_tiny_bert(texts, tmp_path / "tiny", hidden=32, layers=1)
    vectors = PostEncoder(directory).embed(texts[:5])
    assert vectors.shape == (5, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
