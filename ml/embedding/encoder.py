"""Post embeddings: the mean of an encoder's last hidden layer over each post's real tokens.

The encoder is any local Hugging Face directory, loaded with ``ml.text``'s loading code (checked
directory, local files only): the bundled MiniLM-L6 (sentence-transformers' all-MiniLM-L6-v2 pools the
same way) or a stored text model (an encoder classifier, a GPT-2 classifier or a collection LM: the
classification head is simply not used). torch and transformers are imported inside the functions.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import numpy as np

from .config import EmbeddingError, EncoderConfig


def _load(directory: Path):
    """(bare encoder, tokenizer) of a local directory, in eval mode; a GPT-2 tokenizer pads with its end token."""
    from transformers import AutoModel, AutoTokenizer

    from ml.text.config import TextModelError
    from ml.text.models import _from_pretrained, check_model_directory

    try:
        path = check_model_directory(directory)
        tokenizer = _from_pretrained(AutoTokenizer, path)
        model = _from_pretrained(AutoModel, path)
    except TextModelError as exc:
        raise EmbeddingError(str(exc)) from None
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise EmbeddingError(f"{str(directory)!r}: its tokenizer has neither a padding nor an end token")
        tokenizer.pad_token = tokenizer.eos_token
    return model.eval(), tokenizer


@functools.lru_cache(maxsize=2)
def _load_cached(directory: str, stamp: float):
    return _load(Path(directory))


def load_encoder(directory):
    """The encoder of ``directory``, kept for the process (a worker loads MiniLM once, about 7 s): the key
    holds config.json's modification time, so a directory written again is read again."""
    config_file = Path(directory) / "config.json"
    stamp = config_file.stat().st_mtime if config_file.is_file() else 0.0
    if not stamp:
        return _load(Path(directory))  # raises with the directory's own problem
    return _load_cached(str(Path(directory).resolve()), stamp)


def bundled_directory() -> Path:
    from ml.text.models import bundled_encoder_directory

    return bundled_encoder_directory()


class PostEncoder:
    """``embed(texts)`` → (n, hidden) float32. Each distinct text is encoded once (copy-paste campaigns
    repeat texts) in batches of similar token length (little padding)."""

    def __init__(self, directory=None, config: EncoderConfig = EncoderConfig()):
        self.directory = directory
        self.config = config

    def _model(self):
        if not hasattr(self, "model_"):
            self.model_, self.tokenizer_ = load_encoder(self.directory or bundled_directory())
        return self.model_, self.tokenizer_

    @property
    def dimensions(self) -> int:
        return int(self._model()[0].config.hidden_size)

    def embed(self, texts, on_step: Callable | None = None) -> np.ndarray:
        """1. Keep the distinct texts; 2. sort them by token length; 3. encode batch by batch, mean-pooling
        over the attention mask; 4. give every copy its text's vector. ``on_step`` gets a dict per batch:
        step, total_steps, fraction, embedded (posts, copies counted), distinct."""
        texts = [str(t) for t in texts]
        first: dict[str, int] = {}
        inverse = np.fromiter((first.setdefault(t, len(first)) for t in texts), dtype=np.int64, count=len(texts))
        distinct = list(first)
        vectors = np.zeros((len(distinct), self.dimensions), dtype=np.float32)
        if not distinct:
            return vectors
        _, tokenizer = self._model()
        tokens = tokenizer(distinct, truncation=True, max_length=self.config.max_length)["input_ids"]
        order = np.argsort([len(ids) for ids in tokens], kind="stable")
        size = self.config.batch_size
        total = -(-len(distinct) // size)
        for step, start in enumerate(range(0, len(distinct), size), start=1):
            index = order[start : start + size]
            vectors[index] = self._encode([distinct[i] for i in index])
            if on_step is not None:
                fraction = step / total
                on_step({"step": step, "total_steps": total, "fraction": fraction,
                         "embedded": round(fraction * len(texts)), "distinct": len(distinct)})
        return vectors[inverse]

    def _encode(self, batch_texts: list[str]) -> np.ndarray:
        import torch

        model, tokenizer = self._model()
        batch = tokenizer(batch_texts, padding=True, truncation=True, max_length=self.config.max_length,
                          return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        if self.config.normalise:
            pooled = torch.nn.functional.normalize(pooled, dim=1)
        return pooled.float().numpy()
