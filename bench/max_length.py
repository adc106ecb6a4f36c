"""max_length 64 against 128: what reading 128 tokens per post costs and buys, on posts longer than 64 tokens.

Constraint (COVID-19 posts, real/fake): about 29 % of its posts are longer than 64 MiniLM tokens. The bundled
MiniLM classifier is fine-tuned twice on the same training posts (drawn from Constraint_Train, per class in
proportion, seed 0), one epoch at the training kind's defaults (batch 16, learning rate 5e-5), the same seed, once
at max_length 64 and once at 128; both score the same test posts (drawn from Constraint_Val) as the product scores
(distinct posts in batches of similar length). Per length: training seconds (wall and CPU time: the CPU time moves
less when others load the cores), scoring posts/s, test ROC-AUC; and a paired bootstrap of the AUC difference over
the test posts (it holds the two trained models fixed: the training's own seed-to-seed spread is not in it). Also
what the auto rule (ml.text.lengths) picks for these training posts.

  nice -n 10 .venv/bin/python bench/max_length.py --threads 1            # about 7 min on 2 busy cores
  nice -n 10 .venv/bin/python bench/max_length.py --train 200 --test 200  # a quick look

On cores that others load, take --threads 1: two torch threads there ran about five times slower, same scores.

Ends with one JSON line: {"bench": "max_length", "runs": {"64": {...}, "128": {...}}, ...}.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality_content import cap, constraint  # noqa: E402  (after sys.path takes the repository)

from ml.text import CPU, EncoderClassifier, TrainConfig, bundled_encoder_directory, choose_max_length  # noqa: E402
from ml.text.lengths import directory_tokenizer, token_lengths  # noqa: E402
from ml.text.metrics import classification_metrics  # noqa: E402

LENGTHS = (64, 128)
BOOTSTRAP = 1000
# The training kind's encoder defaults (apps/analyses/kinds/train_classifier.py DEFAULTS): what an analyst gets.
CONFIG = dataclasses.replace(CPU, train=TrainConfig(learning_rate=5e-5, epochs=1, batch_size=16, patience=0))


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def run(max_length: int, train, test, seed: int) -> dict:
    """Train at ``max_length`` (one epoch, seeded), then score the test posts: seconds, posts/s, AUC, scores."""
    import torch

    torch.manual_seed(seed)
    config = dataclasses.replace(CONFIG, max_length=max_length, train=dataclasses.replace(CONFIG.train, seed=seed))
    started, cpu = time.perf_counter(), time.process_time()
    model = EncoderClassifier(config=config).fit_split(train["text"].tolist(), train["label"].to_numpy())
    train_s, train_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    texts = test["text"].tolist()
    started, cpu = time.perf_counter(), time.process_time()
    scores = model.probabilities(texts)
    score_s, score_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    auc = classification_metrics(test["label"].to_numpy(), scores)["auc"]
    return {"train_s": round(train_s, 1), "train_cpu_s": round(train_cpu_s, 1),
            "score_posts_per_s": round(len(texts) / score_s, 1), "score_cpu_s": round(score_cpu_s, 1),
            "test_auc": round(auc, 4), "scores": scores}


def warm_up(train) -> None:
    """One untimed step at each length first, so neither timed run pays for loading torch and the weights."""
    for length in LENGTHS:
        config = dataclasses.replace(CONFIG, max_length=length)
        EncoderClassifier(config=config).fit_split(train["text"].tolist()[:16], train["label"].to_numpy()[:16])


def paired_auc_difference(labels: np.ndarray, long: np.ndarray, short: np.ndarray, seed: int) -> dict:
    """AUC(128) − AUC(64) on the test posts, with a 95 % interval from resampling the posts (both models fixed)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP):
        index = rng.integers(0, len(labels), len(labels))
        if labels[index].min() == labels[index].max():
            continue
        draws.append(roc_auc_score(labels[index], long[index]) - roc_auc_score(labels[index], short[index]))
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"difference": round(roc_auc_score(labels, long) - roc_auc_score(labels, short), 4),
            "ci95": [round(float(low), 4), round(float(high), 4)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1500, help="training posts (from Constraint_Train)")
    parser.add_argument("--test", type=int, default=1000, help="test posts (from Constraint_Val)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the product's CPU default: 2)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    train = cap(constraint("Train"), args.train, seed=args.seed)
    test = cap(constraint("Val"), args.test, seed=args.seed)
    tokenizer = directory_tokenizer(bundled_encoder_directory())
    auto = choose_max_length(train["text"].tolist(), tokenizer)
    test_tokens = token_lengths(test["text"].tolist(), tokenizer, cap=129)
    log(f"load average at the start: {os.getloadavg()}")
    log(f"constraint: train {len(train):,} posts, test {len(test):,}; {auto['reason']}")
    warm_up(train.sample(frac=1.0, random_state=args.seed))
    runs = {}
    for length in LENGTHS:
        runs[length] = run(length, train, test, args.seed)
        log(f"max_length {length}: " + ", ".join(f"{k} {v}" for k, v in runs[length].items() if k != "scores"))
    short, long = (runs[n].pop("scores") for n in LENGTHS)
    print(json.dumps({
        "bench": "max_length",
        "data": "constraint",
        "model": "MiniLM-L6 (bundled)",
        "train_posts": len(train),
        "test_posts": len(test),
        "epochs": CONFIG.train.epochs,
        "batch_size": CONFIG.train.batch_size,
        "seed": args.seed,
        "train_longer_than_64": round(auto["longer_share"], 4),
        "train_longer_than_128": round(auto["beyond_long_share"], 4),
        "test_longer_than_64": round(float((test_tokens > 64).mean()), 4),
        "auto_max_length": auto["max_length"],
        "runs": {str(n): runs[n] for n in LENGTHS},
        "train_s_ratio": round(runs[128]["train_s"] / runs[64]["train_s"], 2),
        "train_cpu_s_ratio": round(runs[128]["train_cpu_s"] / runs[64]["train_cpu_s"], 2),
        "score_speed_ratio": round(runs[128]["score_posts_per_s"] / runs[64]["score_posts_per_s"], 2),
        "auc_128_minus_64": paired_auc_difference(test["label"].to_numpy(), long, short, args.seed),
        "threads": torch.get_num_threads(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "gpu": None,
    }))


if __name__ == "__main__":
    main()
