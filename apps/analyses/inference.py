"""Models used inside a request (a post's attention, an LM's samples): loaded from a TextModel's weights and
kept, one per process, in one place. A job loads its own (``kinds``); nothing here writes.

The cache key is the row's id and creation time, so a model trained again under a reused id is reloaded;
one model at a time keeps a web process's memory at one model's size."""
from __future__ import annotations

import threading

_LOCK = threading.Lock()
_LOADED: dict = {}


def _cached(model, load):
    key = (model.pk, model.created_at)
    with _LOCK:
        if key not in _LOADED:
            _LOADED.clear()
            _LOADED[key] = load(model.weights_dir)
        return _LOADED[key]


def text_classifier(model):
    """A text classifier's scorer (attention, scores of one post)."""
    from ml.text import load_text_model

    return _cached(model, load_text_model)


def language_model(model):
    """A collection's language model (samples)."""
    from ml.text import CollectionLM

    return _cached(model, CollectionLM.load)
