"""Train a language model of one collection (docs/methods.md, language models): a causal LM with
`<|endoftext|>` after each post and a third of the posts held out, stored as a ``TextModel`` of kind "lm".

Two ways: a tiny GPT-2 built from a config with a byte-level BPE trained on the collection (the CPU
default), or fine-tuning a local GPT-2 directory the server allows (``MURMURATION_BASE_MODEL_DIRS``).
At most ``max_posts`` posts are read (every k-th by id over the cap: the same collection gives the same
model). The held-out posts' ids are stored with the model (``split["held_out_post_ids"]``), so the
perplexity matrix scores every LM only on posts it never saw.

As in ``train_classifier``: ``run`` writes the weights to a staging directory, ``after_create`` makes the
row and moves them to ``MEDIA_ROOT/models/<id>``, ``cleanup`` removes a failed run's staging directory.
"""
from __future__ import annotations

import contextlib
import json
import math
import shutil
from pathlib import Path

from apps.analyses import selectors
from apps.analyses.kinds import train_classifier
from apps.analyses.kinds.base import FLOAT, INT, TEXT, Kind, Param
from apps.analyses.models import TextModel
from apps.jobs.services import JobError

TINY = "tiny GPT-2 (trained from scratch)"
# A tiny GPT-2 learns from scratch and wants a large learning rate; fine-tuning a real GPT-2 a small one.
DEFAULTS = {"tiny": {"epochs": 3, "batch_size": 16, "learning_rate": 1e-3},
            "base": {"epochs": 1, "batch_size": 8, "learning_rate": 5e-5}}
MAX_POSTS_DEFAULT, MAX_POSTS_MAX = 2_000, 1_000_000
HELD_OUT = 0.33
MIN_POSTS = 6


def summary(result: dict) -> dict:
    return {"posts": result["posts"], "held_out_posts": result["split"]["held_out_posts"],
            "held_out_perplexity": round(result["metrics"]["held_out_perplexity"], 3),
            "base_model": result["base_model"]}


def collection_texts(collection, cap: int) -> dict:
    """post_id and text of the posts a text model reads, every k-th by id over ``cap``, in id order."""
    from django.db.models.functions import Mod

    rows = selectors.text_posts(collection)
    total = rows.count()
    step = max(1, math.ceil(total / cap))
    if step > 1:
        rows = rows.annotate(pick=Mod("id", step)).filter(pick=0)
    columns = {"post_id": [], "text": [], "sampled": step > 1}
    for pk, text in rows.order_by("id").values_list("id", "text")[:cap].iterator(chunk_size=selectors.BATCH_ROWS):
        columns["post_id"].append(pk)
        columns["text"].append(text)
    return columns


def tiny(base_dir: str) -> bool:
    """A tiny GPT-2 from scratch, or a base directory as small (at most 256 dims): see ``torch_threads``."""
    if not base_dir:
        return True
    try:
        return json.loads((Path(base_dir) / "config.json").read_text()).get("n_embd", 10**6) <= 256
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run a block with ``n`` intra-op threads (None: as is), then restore. A tiny GPT-2's matrices are too
    small to share among threads: on the shared 2-core box one thread trained a 60-post LM in 0.5 s, two in
    4-5 s (they wait on each other while other processes hold the cores). A real GPT-2 keeps them all."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _lm(params: dict):
    from ml.text import CollectionLM, LMConfig, TinyGPT2, TrainConfig

    train = TrainConfig(learning_rate=params["learning_rate"], epochs=params["epochs"], batch_size=params["batch_size"],
                        patience=1, seed=params["seed"])
    config = LMConfig(max_length=params["max_length"], held_out=HELD_OUT, train=train,
                      tiny=TinyGPT2(vocab_size=params["vocab_size"], n_positions=max(128, params["max_length"])))
    return CollectionLM(model_dir=params["base_dir"] or None, config=config, name=params["name"])


def _metrics(lm, params: dict) -> dict:
    """Held-out perplexity per token and per byte; and the untuned base's where there is one, on the same posts."""
    from ml.text import CollectionLM

    metrics = {
        "held_out_perplexity": lm.held_out_perplexity_,
        "held_out_perplexity_per_byte": lm.perplexity(lm.held_out_, "byte"),
        "held_out_posts": len(lm.held_out_),
        "unit": "token",
    }
    if params["base_dir"]:
        base = CollectionLM.base(params["base_dir"])
        metrics["base_perplexity"] = base.perplexity(lm.held_out_)
    return metrics


class TrainLM(Kind):
    name, label = "train_lm", "Language model training"
    params = (
        Param("name", TEXT, "", "Blank: “LM · <collection>”.", max_length=200),
        Param(
            "base_dir",
            TEXT,
            "",
            "Optional: a local GPT-2 directory on the server to fine-tune. Blank: a tiny GPT-2 "
            "trained from scratch with a tokenizer learnt from this collection (the CPU default).",
        ),
        Param(
            "max_posts",
            INT,
            MAX_POSTS_DEFAULT,
            "Posts read (every k-th by id over this); a third are held out.",
            low=MIN_POSTS,
            high=MAX_POSTS_MAX,
        ),
        Param("epochs", INT, None, "Blank: 3 from scratch, 1 fine-tuning.", low=1, high=100),
        Param("batch_size", INT, None, "Blank: 16 from scratch, 8 fine-tuning.", low=1, high=512),
        Param("learning_rate", FLOAT, None, "Blank: 1e-3 from scratch, 5e-5 fine-tuning.", low=1e-7, high=1.0),
        Param("max_length", INT, 64, "Tokens per post.", low=8, high=1024),
        Param(
            "vocab_size",
            INT,
            2000,
            "The tokenizer's vocabulary, learnt from the collection.",
            low=300,
            high=50_000,
            form=False,
        ),
        Param("seed", INT, train_classifier.SEED, "The training's seed.", low=0, high=2**31 - 1, form=False),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """The base directory (a GPT-2 the server allows, or none for the tiny default), and a collection with
        enough posts to hold a third out."""
        base_dir = train_classifier.base_dir_check(clean["base_dir"], "gpt2", errors)
        defaults = DEFAULTS["base" if base_dir else "tiny"]
        out = {
            "base_dir": base_dir,
            **{k: defaults[k] if clean[k] is None else clean[k] for k in ("epochs", "batch_size", "learning_rate")},
            **{k: clean[k] for k in ("max_length", "max_posts", "vocab_size", "seed")},
        }
        posts = selectors.text_posts(collection).count()
        if posts < MIN_POSTS:
            errors["collection"] = (
                f"The collection “{collection.name}” has {posts} post(s) with text (reposts left out): "
                f"a language model needs at least {MIN_POSTS}, a third of them held out."
            )
        if not errors:
            out["name"] = clean["name"] or f"LM · {collection.name}"[:200]
        return out

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. read the posts (every k-th over the cap); 2. train, a third held out (progress per step);
        3. the held-out perplexity, and the untuned base's on the same posts where there is a base;
        4. save the weights to a staging directory; 5. the result, with the held-out post ids."""
        from ml.text import TextModelError

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, f"Reading the posts of “{collection.name}”", force=True)
        posts = collection_texts(collection, params["max_posts"])
        if len(posts["post_id"]) < MIN_POSTS:
            raise JobError(
                f"The collection “{collection.name}” has {len(posts['post_id'])} post(s) with text: "
                "too few to hold a third out."
            )
        fingerprint = selectors.collection_fingerprint(collection)
        progress.provenance(
            inputs=[{**fingerprint, "posts_read": len(posts["post_id"])}],
            model={"kind": "lm", "base": params["base_dir"] or TINY},
        )
        lm = _lm(params)
        progress(
            0.02, f"Training on {len(posts['post_id']) - round(len(posts['post_id']) * HELD_OUT):,} posts", force=True
        )
        def on_step(s):
            return progress(
                0.02 + 0.85 * s["fraction"],
                f"Training: epoch {s['epoch']}, step {s['step']}/{s['total_steps']}, loss {s['train_loss']:.3f}",
            )

        with torch_threads(1 if tiny(params["base_dir"]) else None):
            try:
                lm.fit(posts["text"], on_step=on_step)
            except TextModelError as exc:
                raise JobError(f"The posts of “{collection.name}” cannot train a language model: {exc}.") from None
            progress(0.9, "Measuring the held-out perplexity", force=True)
            metrics = _metrics(lm, params)
        progress(0.95, "Saving the weights", force=True)
        staging = train_classifier.staging_dir(analysis_input.job)
        shutil.rmtree(staging, ignore_errors=True)
        lm.save(staging)
        held_ids = [posts["post_id"][i] for i in lm.held_out_index_]
        result = {
            "staging_dir": str(staging),
            "base_model": params["base_dir"] or TINY,
            "training": [fingerprint],
            "posts": len(posts["post_id"]),
            "sampled": posts["sampled"],
            "metrics": metrics,
            "split": {
                "held_out": HELD_OUT,
                "train_posts": len(posts["post_id"]) - len(held_ids),
                "held_out_posts": len(held_ids),
                "held_out_post_ids": held_ids,
            },
            "history": lm.history_,
        }
        return result, summary(result)

    def after_create(self, analysis, rows=None) -> dict:
        """Inside the Analysis's transaction: the TextModel row and its weights."""
        model = train_classifier.text_model_store(analysis, kind=TextModel.Kind.LM)
        # The held-out ids live on the model; the analysis keeps only their count.
        split = {k: v for k, v in analysis.result["split"].items() if k != "held_out_post_ids"}
        analysis.result = {**analysis.result, "split": split, "text_model_id": model.pk}
        analysis.summary = {**analysis.summary, "text_model_id": model.pk}
        analysis.save(update_fields=["result", "summary"])
        return analysis.summary

    def cleanup(self, job) -> None:
        train_classifier.staged_cleanup(job)

    def page_context(self, analysis) -> dict:
        return train_classifier.text_model_context(analysis)
