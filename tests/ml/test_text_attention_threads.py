"""Attention weights under concurrent requests (ml/text/attention.py): the portal serves a post page and its
two bertviz frames at once from one loaded model, and each switches that model to eager attention.

Two analysts' requests, Alice's and Bob's, are interleaved on purpose: Bob's forward pass starts while
Alice's call holds the model switched and runs only after Alice's call has returned. Unguarded, Bob found
the model eager and switched nothing, Alice's exit put SDPA back under Bob's pass, and Bob got the weights
of none of the layers here; in the portal, where the exit can fall mid-pass, of only the first ones,
silently (the browser test saw 60 of MiniLM's 72 bertviz thumbnails)."""
from __future__ import annotations

import threading

import pytest

from ml.text import save_tiny_bert
from ml.text.attention import attention_data

LAYERS = 3
WAIT_S = 2  # how long Alice waits for Bob's pass to start: it cannot start while she holds the switch


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from transformers import AutoModel, AutoTokenizer

    texts = ["the dam at riverton is failing", "officials hide the truth", "share before they delete it"]
    directory = save_tiny_bert(texts, tmp_path_factory.mktemp("tiny-bert"), layers=LAYERS, hidden=32, heads=2)
    model = AutoModel.from_pretrained(directory, attn_implementation="sdpa").eval()
    return model, AutoTokenizer.from_pretrained(directory)


def test_a_second_request_gets_every_layer_while_the_first_holds_the_model(tiny_bert):
    model, tokenizer = tiny_bert
    batch = tokenizer(["the dam at riverton is failing"], return_tensors="pt")
    tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist())
    forward = lambda: model(**batch, output_attentions=True).attentions  # noqa: E731
    alice_running, bob_running, alice_done = threading.Event(), threading.Event(), threading.Event()
    results = {}

    def alice_run():
        alice_running.set()
        bob_running.wait(WAIT_S)
        return forward()

    def bob_run():
        bob_running.set()
        alice_done.wait(WAIT_S)
        return forward()

    def alice():
        results["alice"] = attention_data(model, alice_run, tokens, 0)
        alice_done.set()

    def bob():
        alice_running.wait(WAIT_S)
        try:
            results["bob"] = attention_data(model, bob_run, tokens, 0)
        except RuntimeError as exc:  # the check that a short answer is never returned as a whole one
            results["bob"] = exc

    threads = [threading.Thread(target=alice), threading.Thread(target=bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not isinstance(results["bob"], Exception), results["bob"]
    assert results["alice"]["layers"] == results["bob"]["layers"] == LAYERS
    assert results["alice"]["attention"] == results["bob"]["attention"]
    assert model.config._attn_implementation == "sdpa"  # put back once both calls have returned
