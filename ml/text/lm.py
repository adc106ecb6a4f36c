"""Language models per collection (docs/methods.md §language models): a causal LM trained on one collection with
`<|endoftext|>` after each post and a third of the posts held out; the cross-perplexity matrix across
collections; attribution of a new collection to the stored LM that finds it least surprising; and
sample generations, always marked synthetic."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from .config import LMConfig, TextModelError
from .data import check_texts, holdout_texts
from .storage import read_manifest, save_pretrained, write_manifest
from .trainer import Trainer


class CollectionLM:
    """`fit(texts)` trains (from `model_dir`, or a tiny GPT-2 from the config with a BPE trained on the
    collection or the `tokenizer` given, so that several LMs can share one vocabulary)."""

    kind = "collection_lm"

    def __init__(self, model_dir=None, config: LMConfig = LMConfig(), tokenizer=None, name: str | None = None):
        self.model_dir = model_dir
        self.config = config
        self.tokenizer = tokenizer
        self.name = name

    @classmethod
    def base(cls, model_dir, name: str = "base"):
        """The untuned model of a directory, as a row of the perplexity matrix."""
        from .models import load_gpt2

        lm = cls(model_dir=model_dir, name=name)
        lm.model_, lm.tokenizer_ = load_gpt2(model_dir)
        lm.model_.eval()
        return lm

    def fit(self, texts, on_step: Callable | None = None):
        """1. Hold out `held_out` of the posts; 2. build the model; 3. train on the rest with early stopping
        on a slice of the training posts; 4. keep the held-out posts for the matrix."""
        import torch

        texts = check_texts(texts)
        config = self.config
        train, held = holdout_texts(len(texts), config.held_out, config.train.seed)
        torch.manual_seed(config.train.seed)
        train_texts = [texts[i] for i in train]
        self._build(train_texts)
        cut = max(1, len(train_texts) // 10)  # a tenth of the training posts decides early stopping
        fit_texts = train_texts[cut:]
        # Batches of posts of similar length: less padding to compute (the order stays seeded).
        self.history_ = Trainer(config.train).fit(
            self.model_,
            lambda model, batch: self._loss(model, batch)[0],
            fit_texts,
            train_texts[:cut],
            on_step,
            lengths=[len(t) for t in fit_texts],
        )
        self.held_out_ = [texts[i] for i in held]
        self.held_out_index_ = held.tolist()  # positions in `texts`: a caller maps them back to its post ids
        self.held_out_perplexity_ = self.perplexity(self.held_out_)
        return self

    def _build(self, train_texts):
        from .models import load_gpt2, tiny_gpt2
        from .vocab import train_bpe_tokenizer

        if self.model_dir is not None:
            self.model_, self.tokenizer_ = load_gpt2(self.model_dir)
            return
        self.tokenizer_ = self.tokenizer or train_bpe_tokenizer(train_texts, self.config.tiny.vocab_size)
        self.model_ = tiny_gpt2(self.tokenizer_, self.config.tiny)

    def _batch(self, texts):
        """`<|endoftext|>text<|endoftext|>`: the leading one is the previous post's end, as in a stream."""
        import torch

        tok, eos = self.tokenizer_, self.tokenizer_.eos_token_id
        limit = min(self.config.max_length, self.model_.config.n_positions) - 2
        bodies = tok(list(texts), add_special_tokens=False, truncation=True, max_length=limit)["input_ids"]
        ids = [[eos, *body, eos] for body in bodies]
        width = max(len(row) for row in ids)
        input_ids = torch.tensor([row + [eos] * (width - len(row)) for row in ids])
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in ids])
        return input_ids, mask

    def _loss(self, model, texts):
        """(mean token loss, summed loss, predicted tokens) for a batch of posts."""
        import torch.nn.functional as F

        input_ids, mask = self._batch(texts)
        logits = model(input_ids=input_ids, attention_mask=mask).logits[:, :-1]
        targets = input_ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
        summed = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="sum"
        )
        count = int((targets != -100).sum())
        return summed / max(count, 1), summed, count

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise TextModelError("this CollectionLM is not fitted: call fit(), base() or load() first")

    def log_likelihood(self, texts, batch_size: int = 32) -> dict:
        """Summed negative log-likelihood (nats) with its token and byte counts."""
        import torch

        self._check_fitted()
        texts = check_texts(texts)
        if not texts:
            raise TextModelError("no posts to compute a perplexity on")
        self.model_.eval()
        nll, tokens = 0.0, 0
        with torch.no_grad():
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
            for start in range(0, len(texts), batch_size):
                _, summed, count = self._loss(self.model_, [texts[i] for i in order[start : start + batch_size]])
                nll, tokens = nll + float(summed), tokens + count
        # Each post's closing <|endoftext|> counts as one byte so that per-byte figures compare across vocabularies.
        nbytes = sum(len(t.encode("utf-8")) + 1 for t in texts)
        return {"nll": nll, "tokens": tokens, "bytes": nbytes}

    def perplexity(self, texts, unit: str = "token") -> float:
        """exp(mean negative log-likelihood per token), or per byte (comparable across tokenizers)."""
        ll = self.log_likelihood(texts)
        return math.exp(ll["nll"] / ll["tokens" if unit == "token" else "bytes"])

    def sample(
        self,
        prompt: str = "",
        n: int = 3,
        max_new_tokens: int = 40,
        temperature: float = 1.0,
        top_k: int = 50,
        seed: int = 0,
    ) -> list[dict]:
        """Generations from `prompt`, each marked synthetic so no one mistakes them for collected posts."""
        import torch

        self._check_fitted()
        tok = self.tokenizer_
        ids = [tok.eos_token_id, *tok(prompt, add_special_tokens=False)["input_ids"]]
        torch.manual_seed(seed)
        with torch.no_grad():
            out = self.model_.generate(
                torch.tensor([ids] * n),
                attention_mask=torch.ones(n, len(ids), dtype=torch.long),
                do_sample=True,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                top_k=top_k,
                eos_token_id=tok.eos_token_id,
                pad_token_id=tok.eos_token_id,
            )
        texts = [tok.decode(row[len(ids) :], skip_special_tokens=True) for row in out.tolist()]
        return [{"prompt": prompt, "text": prompt + text, "synthetic": True, "model": self.name} for text in texts]

    def save(self, directory) -> Path:
        self._check_fitted()
        path = Path(directory)
        save_pretrained(path, self.model_, self.tokenizer_)
        return write_manifest(
            path,
            self.kind,
            name=self.name,
            config=self.config.as_dict(),
            history=getattr(self, "history_", None),
            held_out=getattr(self, "held_out_", None),
            held_out_perplexity=getattr(self, "held_out_perplexity_", None),
        )

    @classmethod
    def load(cls, directory):
        from .models import load_gpt2

        manifest = read_manifest(directory, cls.kind)
        lm = cls(model_dir=str(directory), config=LMConfig.from_dict(manifest["config"]), name=manifest.get("name"))
        lm.model_, lm.tokenizer_ = load_gpt2(directory)
        lm.model_.eval()
        for key in ("history", "held_out", "held_out_perplexity"):
            if manifest.get(key) is not None:
                setattr(lm, f"{key}_", manifest[key])
        return lm


def _same_vocabulary(lms) -> bool:
    vocabularies = {tuple(sorted(lm.tokenizer_.get_vocab().items())) for lm in lms}
    return len(vocabularies) == 1


def _unit(lms, unit: str) -> str:
    if unit not in ("auto", "token", "byte"):
        raise TextModelError(f"unit must be 'auto', 'token' or 'byte', got {unit!r}")
    if unit == "auto":
        return "token" if _same_vocabulary(lms) else "byte"
    if unit == "token" and not _same_vocabulary(lms):
        raise TextModelError(
            "per-token perplexities of models with different vocabularies do not compare: use unit='byte'"
        )
    return unit


def cross_perplexity(lms: dict, held_out: dict, base=None, unit: str = "auto", on_row: Callable | None = None) -> dict:
    """docs/methods.md §language models, paper fig. 4. Rows: the LMs (name -> fitted CollectionLM) plus the untuned
    `base` where one exists;
    columns: held-out posts per collection (name -> texts). Per token when all share a vocabulary,
    else per byte. Also says, per column, which row scores it lowest. `on_row(done, total)` after each row."""
    rows = dict(lms)
    if base is not None:
        rows = {**rows, base.name or "base": base}
    if not rows or not held_out:
        raise TextModelError("the perplexity matrix needs at least one language model and one collection")
    unit = _unit(rows.values(), unit)
    matrix = []
    for r in rows:
        matrix.append([rows[r].perplexity(held_out[c], unit) for c in held_out])
        if on_row is not None:
            on_row(len(matrix), len(rows))
    array = np.asarray(matrix)
    return {
        "rows": list(rows),
        "columns": list(held_out),
        "unit": unit,
        "perplexity": matrix,
        "lowest_row_per_column": [list(rows)[i] for i in array.argmin(axis=0)],
    }


def attribute(lms: dict, texts, unit: str = "auto") -> list[dict]:
    """Rank stored LMs by perplexity on a new collection's posts: the least surprised first."""
    texts = check_texts(texts)
    unit = _unit(lms.values(), unit)
    ranked = sorted(
        ({"model": name, "perplexity": lm.perplexity(texts, unit)} for name, lm in lms.items()),
        key=lambda r: r["perplexity"],
    )
    for rank, row in enumerate(ranked, start=1):
        row.update(rank=rank, unit=unit)
    return ranked
