"""Language models per collection: training speed of the CPU default (a tiny GPT-2 from
scratch, BPE learnt from the collection: the `train_lm` kind's defaults), the cross-perplexity matrix of
three real collections, and attribution of a later slice.

    .venv/bin/python bench/lm.py [--posts 2000] [--threads 1]

Collections: ../shared/data IRA tweets (originals), airline customers' tweets (control), LIAR statements;
`--posts` each, a third held out. Ends with one JSON line:
{"bench": "lm", "posts": N, "train_posts_per_s": ..., "matrix_posts_per_s": ..., "diagonal_wins": ..., ...}
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def sources() -> dict[str, list[str]]:
    with (DATA / "ira/ira_dev_sample_en.csv").open(newline="", encoding="utf-8") as f:
        ira = [r["content"] for r in csv.DictReader(f) if r["is_retweet"] == "0" and r["content"].strip()]
    with (DATA / "control/airline_tweets.csv").open(newline="", encoding="utf-8") as f:
        airline = [r["text"] for r in csv.DictReader(f)]
    with (DATA / "liar/train.tsv").open(encoding="utf-8") as f:
        liar = [line.split("\t")[2] for line in f]
    return {"ira": ira, "airline": airline, "liar": liar}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2000, help="posts per collection (train_lm's default cap)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (train_lm uses 1 for a tiny GPT-2)")
    args = parser.parse_args()

    import torch

    from ml.text import CollectionLM, LMConfig, TinyGPT2, TrainConfig, attribute, cross_perplexity

    torch.set_num_threads(args.threads)
    data = sources()
    # train_lm's defaults for a tiny GPT-2 from scratch.
    config = LMConfig(
        max_length=64,
        held_out=0.33,
        train=TrainConfig(learning_rate=1e-3, epochs=3, batch_size=16, patience=1),
        tiny=TinyGPT2(vocab_size=2000),
    )
    lms, train_s, seen = {}, {}, 0
    for name, texts in data.items():
        start = time.perf_counter()
        lms[name] = CollectionLM(config=config, name=name).fit(texts[: args.posts])
        train_s[name] = time.perf_counter() - start
        trained = args.posts - len(lms[name].held_out_)
        fit = trained - max(1, trained // 10)  # a tenth of the training posts decides early stopping
        seen += fit * lms[name].history_["train"][-1]["epoch"]
    start = time.perf_counter()
    matrix = cross_perplexity(lms, {name: lm.held_out_ for name, lm in lms.items()})
    matrix_s = time.perf_counter() - start
    scored = sum(len(lm.held_out_) for lm in lms.values()) * len(lms)
    later = data["ira"][args.posts : args.posts + 500]
    ranking = attribute(lms, later)
    print(
        json.dumps(
            {
                "bench": "lm",
                "posts": args.posts,
                "threads": args.threads,
                "train_s": {k: round(v, 1) for k, v in train_s.items()},
                "epochs_run": {k: lm.history_["train"][-1]["epoch"] for k, lm in lms.items()},
                "train_posts_per_s": round(seen / sum(train_s.values()), 1),
                "held_out_perplexity": {k: round(lm.held_out_perplexity_, 1) for k, lm in lms.items()},
                "matrix_unit": matrix["unit"],
                "matrix": [[round(v, 2) for v in row] for row in matrix["perplexity"]],
                "matrix_s": round(matrix_s, 2),
                "matrix_posts_per_s": round(scored / matrix_s, 1),
                "diagonal_wins": matrix["lowest_row_per_column"] == list(lms),
                "attribution_of_500_later_ira_posts": [r["model"] for r in ranking],
            }
        )
    )


if __name__ == "__main__":
    main()
