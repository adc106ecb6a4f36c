"""Calibration of the content detector (ml.text.calibration) on ../shared/data. The bundled MiniLM-L6 is fine-tuned
once with bench/quality_content.py's settings (one epoch, length 64, batch 32, learning rate 5e-5, 3,000 training
posts); T and the thresholds are fitted on validation posts the training never saw; ECE, F1 and the flagged
shares are measured on the test posts.

  ira         IRA vs control, the account-disjoint split of quality_content (seed 0, the same test side) with a
              validation side carved from the training accounts (split_indices, val_size 0.1), as the product's
              training does.
  constraint  Constraint: training and validation (1,000 posts) drawn from Constraint_Train, test Constraint_Val.

  .venv/bin/python bench/calibration.py --task ira          # about 10 min on 2 busy cores
  .venv/bin/python bench/calibration.py --task constraint   # about 5 min

Ends with one JSON line: {"bench": "calibration", "temperature", "ece_before", "ece_after", ...} (test split).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality_content import CONFIG, VERIFIED, cap, constraint, ira_vs_control  # noqa: E402  (after sys.path takes the repository)

from ml.text import EncoderClassifier, classification_metrics, split_indices  # noqa: E402
from ml.text.calibration import calibrate, choose_threshold, expected_calibration_error, sigmoid  # noqa: E402


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def source_of(account: str) -> str:
    return account.split(":", 1)[1] if account in VERIFIED else account.split(":", 1)[0]


def ira_parts(train_cap: int):
    frame = ira_vs_control()
    split = split_indices(frame["label"].to_numpy(), frame["account"].to_numpy(), test_size=0.2, val_size=0.1, seed=0)
    train, val, test = (frame.iloc[split[part]] for part in ("train", "val", "test"))
    return cap(train, train_cap), val, test, np.array([source_of(a) for a in test["account"]])


def constraint_parts(train_cap: int, val_posts: int = 1000):
    pool = constraint("Train").sample(frac=1.0, random_state=0)
    val, rest = pool.iloc[:val_posts], pool.iloc[val_posts:]
    test = constraint("Val")
    return cap(rest, train_cap), val, test, np.where(test["label"].to_numpy() == 1, "fake", "real")


PARTS = {"ira": ira_parts, "constraint": constraint_parts}


def at(threshold: float, labels, scores, sources) -> dict:
    """F1, precision, recall on the test posts at `threshold`, and the share of each source's posts flagged."""
    m = classification_metrics(labels, scores, threshold)
    flagged = scores >= threshold
    return {
        "threshold": round(float(threshold), 4),
        **{k: round(m[k], 4) for k in ("f1", "precision", "recall")},
        "flagged_by_source": {s: round(float(flagged[sources == s].mean()), 4) for s in sorted(set(sources))},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=tuple(PARTS), default="ira")
    parser.add_argument("--train-cap", type=int, default=3000)
    parser.add_argument("--target-precision", type=float, default=0.9)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    train, val, test, sources = PARTS[args.task](args.train_cap)
    log(f"{args.task}: train {len(train):,} posts, validation {len(val):,} ({val['label'].mean():.1%} label 1), "
        f"test {len(test):,} ({test['label'].mean():.1%} label 1)")
    started = time.perf_counter()
    model = EncoderClassifier(config=CONFIG).fit_split(train["text"].tolist(), train["label"].to_numpy())
    train_s = time.perf_counter() - started
    val_logits = model.logits(val["text"].tolist())
    test_logits = model.logits(test["text"].tolist())
    y_val, y_test = val["label"].to_numpy(), test["label"].to_numpy()
    report = calibrate(val_logits, y_val, goal="f1")
    t = report["temperature"]
    precision_goal = choose_threshold(sigmoid(val_logits / t), y_val, "precision", args.target_precision)
    raw, calibrated = sigmoid(test_logits), sigmoid(test_logits / t)
    out = {
        "bench": "calibration",
        "task": args.task,
        "train_posts": len(train),
        "val_posts": len(val),
        "test_posts": len(test),
        "train_s": round(train_s),
        "temperature": round(t, 4),
        "clipped": report["clipped"],
        "val_ece_before": round(report["ece_before"], 4),
        "val_ece_after": round(report["ece_after"], 4),
        "val_nll_before": round(report["nll_before"], 4),
        "val_nll_after": round(report["nll_after"], 4),
        "ece_before": round(expected_calibration_error(raw, y_test), 4),
        "ece_after": round(expected_calibration_error(calibrated, y_test), 4),
        "test_auc": round(classification_metrics(y_test, calibrated)["auc"], 4),
        "val_threshold_f1": {k: report["threshold"][k] for k in ("threshold", "f1", "precision", "recall")},
        "val_threshold_precision": {k: precision_goal[k] for k in ("threshold", "reached", "precision", "recall")},
        "test_at_0.5_uncalibrated": at(0.5, y_test, raw, sources),
        "test_at_f1_threshold": at(report["threshold"]["threshold"], y_test, calibrated, sources),
        "test_at_precision_threshold": at(precision_goal["threshold"], y_test, calibrated, sources),
    }
    log(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
