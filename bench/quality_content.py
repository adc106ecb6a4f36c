"""Content detectors  on ../shared/data: the default encoder (bundled MiniLM-L6) fine-tuned once
per task, beside a majority-class and a TF-IDF + logistic-regression baseline trained on the same posts.

  .venv/bin/python bench/quality_content.py                  # all three tasks (45 min on 2 busy cores, ~6 idle)
  .venv/bin/python bench/quality_content.py --tasks liar     # one task
  .venv/bin/python bench/quality_content.py --train-cap 6000 # training posts per task (default 6000)

Tasks:
  ira         IRA tweets (label 1) vs control tweets (airline passengers, Obama, Trump; label 0), split by
              account (no account on both sides), 20 % of accounts held out for the test.
  constraint  Constraint@AAAI-2021 COVID posts, fake = 1: Constraint_Train -> Constraint_Val.
  liar        LIAR binary as in Defending Democracy: false + pants-fire = 1, true + mostly-true = 0 (half-true and
              barely-true dropped): train.tsv -> valid.tsv.
Nothing is tuned: one epoch, length 64, batch 32, learning rate 5e-5, threshold 0.5, seed 0; training sets
larger than --train-cap are subsampled (seeded, stratified) and the output says so. Every task is scored on
its whole evaluation set. The IRA model is saved under var/bench/ for bench/score.py.

Prints a Markdown table for docs/quality.md on stderr and ends with one JSON line on stdout.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.text import ClassifierConfig, EncoderClassifier, TrainConfig, classification_metrics, split_indices  # noqa: E402  (after sys.path takes the repository)

DATA = ROOT.parent / "shared" / "data"
IRA_MODEL = ROOT / "var" / "bench" / "ira_control_minilm"
CONFIG = ClassifierConfig(max_length=64, train=TrainConfig(learning_rate=5e-5, epochs=1, batch_size=32, patience=0))
HEADLINE = ("auc", "f1", "precision", "recall", "mcc", "accuracy")


class DataError(ValueError):
    """A data file that cannot be read as the task expects; the message names the file, row and field."""


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# -- data -------------------------------------------------------------------------------------------
def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"{path} is missing: the content benchmarks need ../shared/data beside the checkout")
    return path


def _read_csv_any_encoding(path: Path, **kwargs) -> pd.DataFrame:
    # The twitter-ratio files are latin-1 (at least one of them): try UTF-8 first, never assume.
    try:
        return pd.read_csv(_require(path), encoding="utf-8", **kwargs)
    except UnicodeDecodeError:
        return pd.read_csv(path, encoding="latin-1", **kwargs)


def _texts(frame: pd.DataFrame, column: str, path: Path) -> pd.DataFrame:
    if column not in frame.columns:
        raise DataError(f"{path}: no column {column!r} (columns: {', '.join(map(str, frame.columns))})")
    return frame[frame[column].fillna("").astype(str).str.strip() != ""]


def ira_vs_control() -> pd.DataFrame:
    """text, label (1 = IRA), account: the IRA sample against every control tweet."""
    ira_path = DATA / "ira" / "ira_dev_sample_en.csv"
    ira = _texts(pd.read_csv(_require(ira_path), usecols=["author_id", "content"]), "content", ira_path)
    parts = [pd.DataFrame({"text": ira["content"], "label": 1, "account": "ira:" + ira["author_id"].astype(str)})]
    for name, author in (("airline_tweets.csv", "name"), ("barackobama_tweets.csv", "user"),
                         ("realdonaldtrump_tweets.csv", "user")):
        path = DATA / "control" / name
        frame = _texts(_read_csv_any_encoding(path, usecols=["text", author]), "text", path)
        parts.append(
            pd.DataFrame({"text": frame["text"], "label": 0, "account": "control:" + frame[author].astype(str)})
        )
    return pd.concat(parts, ignore_index=True)


def _binary(labels: pd.Series, positive: set, negative: set, path: Path, field: str) -> pd.Series:
    """1 for `positive`, 0 for `negative`, NaN for labels the task drops; an unknown label is an error."""
    known = positive | negative
    unknown = labels[~labels.isin(known)]
    if len(unknown):
        row = int(unknown.index[0]) + 1
        raise DataError(
            f"{path}, data row {row}, field {field}: unknown label {unknown.iloc[0]!r} "
            f"(expected one of {', '.join(sorted(known))})"
        )
    return labels.map(lambda v: 1 if v in positive else 0)


def constraint(part: str) -> pd.DataFrame:
    path = DATA / "constraint" / f"Constraint_{part}.csv"
    frame = _texts(pd.read_csv(_require(path)), "tweet", path)
    return pd.DataFrame({"text": frame["tweet"], "label": _binary(frame["label"], {"fake"}, {"real"}, path, "label")})


LIAR_FAKE, LIAR_REAL, LIAR_DROPPED = {"false", "pants-fire"}, {"true", "mostly-true"}, {"half-true", "barely-true"}


def liar(part: str) -> pd.DataFrame:
    path = DATA / "liar" / f"{part}.tsv"
    frame = pd.read_csv(
        _require(path),
        sep="\t",
        header=None,
        quoting=csv.QUOTE_NONE,
        usecols=[1, 2],
        names=["label", "text"],
        dtype=str,
    )
    labels = _binary(frame["label"], LIAR_FAKE, LIAR_REAL | LIAR_DROPPED, path, "2 (label)")
    keep = ~frame["label"].isin(LIAR_DROPPED)
    frame = _texts(frame.assign(label=labels)[keep], "text", path)
    return frame[["text", "label"]]


def cap(frame: pd.DataFrame, limit: int, seed: int = 0) -> pd.DataFrame:
    """At most `limit` rows, drawn per class in proportion (seeded)."""
    if len(frame) <= limit:
        return frame
    share = limit / len(frame)
    return frame.groupby("label", group_keys=False).sample(frac=share, random_state=seed)


# -- models -----------------------------------------------------------------------------------------
def headline(metrics: dict) -> dict:
    return {k: round(metrics[k], 4) for k in HEADLINE}


def baselines(train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """Majority class (constant score: AUC 0.5) and TF-IDF word 1-2-grams + logistic regression: ml.text.baselines,
    the product's own (trained beside every model)."""
    from ml.text.baselines import majority, tfidf_lr

    return {
        "majority": headline(majority(train["label"], test["label"])),
        "tfidf_lr": headline(tfidf_lr(train["text"], train["label"], test["text"], test["label"])),
    }


def minilm(train: pd.DataFrame, test: pd.DataFrame, save_to: Path | None = None) -> tuple[dict, dict, np.ndarray]:
    model = EncoderClassifier(config=CONFIG)
    last = [0.0]

    def on_step(p):
        if time.monotonic() - last[0] > 60:
            last[0] = time.monotonic()
            log(f"  step {p['step']}/{p['total_steps']} loss {p['train_loss']:.3f} ({p['elapsed_s']:.0f} s)")

    started = time.perf_counter()
    model.fit_split(train["text"].tolist(), train["label"].to_numpy(), on_step=on_step)
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    scores = model.probabilities(test["text"].tolist())
    score_s = time.perf_counter() - started
    metrics = classification_metrics(test["label"], scores, CONFIG.threshold)
    if save_to is not None:
        model.metrics_ = metrics
        model.save(save_to)
    timing = {
        "train_examples_per_s": round(len(train) / train_s, 1),
        "train_s": round(train_s),
        "score_posts_per_s": round(len(test) / score_s, 1),
    }
    return headline(metrics), timing, scores


def by_source(test: pd.DataFrame, scores: np.ndarray) -> dict:
    """Where the IRA-vs-control model's calls land, per source of the test posts: the topic confound, shown."""
    source = test["account"].map(lambda a: a.split(":", 1)[1] if a in VERIFIED else a.split(":", 1)[0])
    frame = pd.DataFrame({"source": source.to_numpy(), "score": scores})
    return {
        name: {
            "posts": int(len(part)),
            "mean_score": round(float(part["score"].mean()), 4),
            "called_ira": round(float((part["score"] >= CONFIG.threshold).mean()), 4),
        }
        for name, part in frame.groupby("source")
    }


VERIFIED = {"control:BarackObama", "control:realDonaldTrump"}


def source_of(account: str) -> str:
    """A post's source by its account: a verified politician's handle, "airline" (the control tweets) or "ira"."""
    if account in VERIFIED:
        return account.split(":", 1)[1]
    return "airline" if account.startswith("control:") else "ira"


def run_task(
    name: str, train: pd.DataFrame, test: pd.DataFrame, train_cap: int, extra: dict, save_to: Path | None = None
) -> dict:
    available = len(train)
    train = cap(train, train_cap)
    log(
        f"{name}: train {len(train):,} of {available:,} posts ({train['label'].mean():.1%} positive), "
        f"test {len(test):,} ({test['label'].mean():.1%} positive)"
    )
    seen = set(train["text"])
    row = {
        "task": name,
        "train_posts": len(train),
        "train_available": available,
        "test_posts": len(test),
        "test_positive_share": round(float(test["label"].mean()), 4),
        "test_texts_also_in_train": round(float(test["text"].isin(seen).mean()), 4),
        **extra,
    }
    row.update(baselines(train, test))
    row["minilm"], row["minilm_timing"], scores = minilm(train, test, save_to)
    if "account" in test:
        row["minilm_by_source"] = by_source(
            test, scores
        )  # "ira", "control" (airline passengers), or the verified account
    log(f"{name}: {json.dumps({k: row[k] for k in ('majority', 'tfidf_lr', 'minilm')})}")
    return row


def task_ira(train_cap: int) -> dict:
    frame = ira_vs_control()
    split = split_indices(frame["label"].to_numpy(), frame["account"].to_numpy(), test_size=0.2, val_size=0, seed=0)
    train, test = frame.iloc[split["train"]], frame.iloc[split["test"]]
    overlap = set(train["account"]) & set(test["account"])
    assert not overlap, f"accounts on both sides: {sorted(overlap)[:3]}"
    controls = {
        k: sorted({a.split(":", 1)[1] for a in part["account"]} & {"BarackObama", "realDonaldTrump"})
        for k, part in (("train", train), ("test", test))
    }
    extra = {
        "account_disjoint": True,
        "train_accounts": int(train["account"].nunique()),
        "test_accounts": int(test["account"].nunique()),
        "verified_control_accounts": controls,
    }
    return run_task("ira", train, test, train_cap, extra, save_to=IRA_MODEL)


def task_constraint(train_cap: int) -> dict:
    return run_task("constraint", constraint("Train"), constraint("Val"), train_cap, {"account_disjoint": False})


def task_liar(train_cap: int) -> dict:
    return run_task("liar", liar("train"), liar("valid"), train_cap, {"account_disjoint": False})


TASKS = {"ira": task_ira, "constraint": task_constraint, "liar": task_liar}


def markdown(rows: list[dict]) -> str:
    lines = [
        "| task | train / test posts | model | AUC | F1 | precision | recall | MCC | accuracy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        for model in ("majority", "tfidf_lr", "minilm"):
            m = row[model]
            lines.append(
                f"| {row['task']} | {row['train_posts']:,} / {row['test_posts']:,} | {model} | "
                + " | ".join(f"{m[k]:.3f}" for k in HEADLINE)
                + " |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="ira,constraint,liar")
    parser.add_argument("--train-cap", type=int, default=6000)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    rows = []
    for name in args.tasks.split(","):
        if name not in TASKS:
            parser.error(f"unknown task {name!r}; choose from {', '.join(TASKS)}")
        rows.append(TASKS[name](args.train_cap))
    log(markdown(rows))
    print(
        json.dumps({"bench": "quality_content", "config": CONFIG.as_dict(), "train_cap": args.train_cap, "tasks": rows})
    )


if __name__ == "__main__":
    main()
