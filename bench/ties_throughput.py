"""TIES training throughput: sequences per second in one training epoch, at the issue's size (10,000 accounts × 512
steps), per encoder, on this machine's CPU cores (torch's threads as the worker sets them).

    .venv/bin/python bench/ties_throughput.py [--accounts 10000] [--steps 512] [--encoders cnn,deepset]
    .venv/bin/python bench/ties_throughput.py --encoders cnn,rnn,deepset   # the BiLSTM too (about 30 s more)

The sequences are synthetic and full (every account has ``--steps`` steps: the most recent ``max_steps`` a real
account keeps), built as ``ml.behaviour.build_sequences`` lays them out: actions drawn from the action set, each
step's source the account itself, targets drawn from 50,000 entities, the three timing features drawn at random.
What is timed is ``TiesClassifier.fit`` for one epoch with the kind's defaults (hidden 64, batch 32, Adam, the entity
table fine-tuned where it has at most 200,000 rows), so the figure is the model's cost per sequence, whatever the
labels. Ends with one JSON line: {"bench": "ties_throughput", "accounts", "steps", "encoders": {name:
{"seconds", "sequences_per_s"}}, ...}.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = 50_000
EMBEDDING_DIM = 16  # the graph embedder's default width (GraphConfig)


def synthetic_sequences(accounts: int, steps: int, seed: int):
    from ml.behaviour.config import ACTIONS, MISC_FEATURES
    from ml.behaviour.sequences import EntityVocab, Sequences

    rng = np.random.default_rng(seed)
    names = [f"account:{a}" for a in range(accounts)] + [f"hashtag:t{t}" for t in range(TARGETS)]
    vocab = EntityVocab.build(names)
    account_index = np.array([vocab.index[f"account:{a}"] for a in range(accounts)], dtype=np.int64)
    target_index = np.array([vocab.index[f"hashtag:t{t}"] for t in range(TARGETS)], dtype=np.int64)
    shape = (accounts, steps)
    return Sequences(
        accounts=np.arange(accounts),
        actions=rng.integers(1, len(ACTIONS) + 1, shape, dtype=np.int64),
        sources=np.repeat(account_index[:, None], steps, axis=1),
        targets=target_index[rng.integers(0, TARGETS, shape)],
        misc=rng.normal(size=(*shape, len(MISC_FEATURES))).astype(np.float32),
        mask=np.ones(shape, dtype=bool),
        steps=np.full(accounts, steps, dtype=np.int64),
        vocab=vocab,
    ), len(names)


def main() -> int:
    import torch

    from ml.behaviour.config import TiesConfig
    from ml.behaviour.model import TiesClassifier

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=512)
    parser.add_argument("--encoders", default="cnn,deepset")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    seqs, entities = synthetic_sequences(args.accounts, args.steps, args.seed)
    rng = np.random.default_rng(args.seed)
    labels = (rng.random(args.accounts) < 0.5).astype(np.float32)
    vectors = rng.normal(size=(entities + 1, EMBEDDING_DIM)).astype(np.float32)
    rows = np.arange(args.accounts)
    figures = {}
    for encoder in args.encoders.split(","):
        config = TiesConfig(encoder=encoder, epochs=1, max_steps=args.steps, seed=args.seed)
        model = TiesClassifier(config).fit(seqs, labels, rows, rows[:0], vectors)
        figures[encoder] = {"seconds": round(model.seconds_, 1),
                            "sequences_per_s": round(args.accounts / model.seconds_, 1),
                            "finetuned_entities": bool(model.finetuned_)}
        print(f"{encoder}: one epoch over {args.accounts:,} × {args.steps} in {model.seconds_:.1f} s, "
              f"{args.accounts / model.seconds_:.1f} sequences/s", flush=True)
    print(json.dumps({"bench": "ties_throughput", "accounts": args.accounts, "steps": args.steps,
                      "encoders": figures, "torch_threads": torch.get_num_threads(), "gpu": None,
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
                      "load_before": round(load_before, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
