"""Language models per collection (docs/methods.md §language models): a third held out, the cross-perplexity matrix
whose
diagonal wins, attribution of a new collection, and generations marked synthetic. Tiny GPT-2s only."""
from __future__ import annotations

import json
import random

import pytest

from ml.text import (
    CollectionLM,
    LMConfig,
    TextModelError,
    TrainConfig,
    attribute,
    charts,
    cross_perplexity,
    load_text_model,
    train_bpe_tokenizer,
)

CONFIG = LMConfig(train=TrainConfig(learning_rate=3e-3, epochs=4, batch_size=16, patience=1))
TEMPLATES = {
    "ira": [
        "the deep state lies again {n} #maga",
        "wake up america they are lying {n}",
        "share this before they delete it {n}",
    ],
    "airline": [
        "my flight {n} was delayed again @united",
        "lost my bag on flight {n}",
        "great crew on flight {n} today",
    ],
    "election": ["polls open at {n} am, go vote", "count every vote in district {n}", "volunteers needed at booth {n}"],
}


def collection(name, posts=60, seed=0):
    rng = random.Random(seed)
    return [rng.choice(TEMPLATES[name]).format(n=rng.randint(0, 99)) for _ in range(posts)]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models gain nothing from two threads, and lose a lot when other processes hold the cores
    (see docs/benchmarks.md, "Language models")."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def shared_vocabulary():
    return train_bpe_tokenizer([p for name in TEMPLATES for p in collection(name)], vocab_size=400)


@pytest.fixture(scope="module")
def lms(shared_vocabulary):
    return {
        name: CollectionLM(config=CONFIG, tokenizer=shared_vocabulary, name=name).fit(collection(name))
        for name in ("ira", "airline")
    }


def test_it_holds_out_a_third_of_the_posts(lms):
    assert len(lms["ira"].held_out_) == 20
    # The positions say which posts were held out, so a caller can store their ids.
    assert [collection("ira")[i] for i in lms["ira"].held_out_index_] == lms["ira"].held_out_
    assert lms["ira"].history_["train"] and lms["ira"].held_out_perplexity_ < 50


def test_each_model_finds_its_own_collection_least_surprising(lms):
    matrix = cross_perplexity(lms, {name: lm.held_out_ for name, lm in lms.items()})
    assert matrix["rows"] == matrix["columns"] == ["ira", "airline"] and matrix["unit"] == "token"
    assert matrix["lowest_row_per_column"] == ["ira", "airline"]
    (a, b), (c, d) = matrix["perplexity"]
    assert a < b and d < c
    figure = charts.perplexity_matrix_figure(matrix)
    json.dumps(figure, allow_nan=False)
    assert figure["data"][0]["z"] == matrix["perplexity"]


def test_the_untuned_base_is_a_row(lms, tmp_path):
    # A fresh tiny GPT-2 saved to disk stands in for a base checkpoint: it knows no collection.
    untrained = CollectionLM(
        config=LMConfig(train=TrainConfig(epochs=1, learning_rate=1e-9)),
        tokenizer=lms["ira"].tokenizer_,
        name="untrained",
    ).fit(collection("ira", 12))
    untrained.save(tmp_path / "base")
    base = CollectionLM.base(tmp_path / "base")
    matrix = cross_perplexity(lms, {"ira": lms["ira"].held_out_}, base=base)
    assert matrix["rows"] == ["ira", "airline", "base"]
    assert matrix["perplexity"][2][0] > matrix["perplexity"][0][0]


def test_it_attributes_a_new_collection_to_the_closest_model(lms):
    ranking = attribute(lms, collection("ira", 15, seed=5))
    assert [r["model"] for r in ranking] == ["ira", "airline"] and ranking[0]["rank"] == 1


def test_models_with_different_vocabularies_compare_per_byte(lms):
    own = CollectionLM(config=CONFIG, name="election").fit(collection("election"))
    matrix = cross_perplexity({**lms, "election": own}, {"election": own.held_out_})
    assert matrix["unit"] == "byte" and matrix["lowest_row_per_column"] == ["election"]
    with pytest.raises(TextModelError, match="different vocabularies"):
        attribute({**lms, "election": own}, ["vote"], unit="token")


def test_samples_are_marked_synthetic(lms):
    samples = lms["ira"].sample("wake up", n=2, max_new_tokens=8)
    assert len(samples) == 2
    assert all(s["synthetic"] is True and s["model"] == "ira" and s["text"].startswith("wake up") for s in samples)


def test_it_saves_and_loads_a_language_model(lms, tmp_path):
    lms["airline"].save(tmp_path / "lm")
    again = load_text_model(tmp_path / "lm")
    assert again.name == "airline" and len(again.held_out_) == 20
    assert again.perplexity(again.held_out_) == pytest.approx(lms["airline"].held_out_perplexity_, rel=1e-5)


def test_it_needs_enough_posts_and_a_fitted_model():
    with pytest.raises(TextModelError, match="empty part"):
        CollectionLM(config=CONFIG).fit(["only one post"])
    with pytest.raises(TextModelError, match="not fitted"):
        CollectionLM().perplexity(["a post"])
