"""Out-of-distribution check and confound check (ml.text.ood, ml.text.baselines) on the IRA-vs-control model.

The bundled MiniLM-L6 is fine-tuned with bench/quality_content.py's settings (one epoch, length 64, batch 32,
learning rate 5e-5, 3,000 training posts) on bench/calibration.py's split of IRA vs control (account-disjoint,
seed 0: @realDonaldTrump on the training side, @BarackObama on the test side, a validation tenth of the training
accounts for T and the threshold). The training posts' embeddings are summarised as the product does
(``fit_ood``: out-of-fold range, 5 folds by account); then every test post and every Constraint_Val post (COVID
claims of 2020: off-topic for this model) is scored with its distance.

  .venv/bin/python bench/ood.py            # about 6 min on 2 idle cores, 20 on busy ones

Per source (held-back IRA accounts, airline passengers, Obama, Constraint): posts, share flagged (at the
threshold chosen on validation, and at 0.5 before calibration), share marked unreliable, and the unreliable share
among the flagged (false positives, for every source but IRA). Also the in-sample range's false alarms on the
held-out IRA and airline posts (why the product measures the range out of fold), the baselines and the topic
probe on the same split, and the confound checks. Ends with one JSON line: {"bench": "ood", ...}.
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

from quality_content import (  # noqa: E402  (after sys.path takes the repository)
    CONFIG,
    DATA,
    _read_csv_any_encoding,
    _texts,
    cap,
    constraint,
    ira_vs_control,
    log,
    source_of,
)

from ml.text import EncoderClassifier, classification_metrics, split_indices  # noqa: E402
from ml.text.baselines import baselines, confound_checks  # noqa: E402
from ml.text.calibration import sigmoid  # noqa: E402
from ml.text.ood import MahalanobisOOD  # noqa: E402


def times() -> np.ndarray:
    """Each post's time (epoch seconds) in ira_vs_control()'s row order: the files read again with the same filter."""
    import pandas as pd

    ira_path = DATA / "ira" / "ira_dev_sample_en.csv"
    ira = _texts(pd.read_csv(ira_path, usecols=["content", "publish_date"]), "content", ira_path)
    parts = [pd.to_datetime(ira["publish_date"], utc=True)]
    for name, column in (("airline_tweets.csv", "tweet_created"), ("barackobama_tweets.csv", "created_at"),
                         ("realdonaldtrump_tweets.csv", "created_at")):
        path = DATA / "control" / name
        frame = _texts(_read_csv_any_encoding(path, usecols=["text", column]), "text", path)
        parts.append(pd.to_datetime(frame[column], utc=True, format="mixed"))
    stamps = pd.concat(parts, ignore_index=True)
    return ((stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)


def parts(train_cap: int):
    """bench/calibration.py's IRA split: train (capped), validation, test; and Constraint_Val as off-topic posts."""
    frame = ira_vs_control()
    frame["time"] = times()
    split = split_indices(frame["label"].to_numpy(), frame["account"].to_numpy(), test_size=0.2, val_size=0.1, seed=0)
    train, val, test = (frame.iloc[split[part]] for part in ("train", "val", "test"))
    return cap(train, train_cap), val, test, constraint("Val")


def by_source(sources, flagged, raw_flagged, unreliable, in_sample, distances) -> dict:
    out = {}
    for name in sorted(set(sources)):
        at = sources == name
        false_positive = at & flagged if name != "ira" else np.zeros_like(at)
        out[name] = {
            "posts": int(at.sum()),
            "flagged": round(float(flagged[at].mean()), 4),
            "flagged_raw_0.5": round(float(raw_flagged[at].mean()), 4),
            "unreliable": round(float(unreliable[at].mean()), 4),
            "unreliable_in_sample_range": round(float(in_sample[at].mean()), 4),
            "unreliable_among_flagged": round(float(unreliable[false_positive].mean()), 4)
            if false_positive.any() else None,
            "median_distance": round(float(np.median(distances[at])), 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-cap", type=int, default=3000)
    args = parser.parse_args()
    import torch
    from sklearn.metrics import roc_auc_score

    torch.set_num_threads(2)
    train, val, test, offtopic = parts(args.train_cap)
    log(f"train {len(train):,}, validation {len(val):,}, test {len(test):,}, Constraint {len(offtopic):,}")
    started = time.perf_counter()
    model = EncoderClassifier(config=CONFIG).fit_split(train["text"].tolist(), train["label"].to_numpy())
    model.calibrate(val["text"].tolist(), val["label"].to_numpy())
    train_s = time.perf_counter() - started
    started = time.perf_counter()
    train_logits, train_vectors = model.logits_and_embeddings(train["text"].tolist())
    model.ood_ = MahalanobisOOD().fit(train_vectors, train["label"].to_numpy(), train["account"].to_numpy())
    in_sample = MahalanobisOOD(folds=10**9).fit(train_vectors, train["label"].to_numpy())
    ood_fit_s = time.perf_counter() - started
    texts = test["text"].tolist() + offtopic["text"].tolist()
    started = time.perf_counter()
    logits, vectors = model.logits_and_embeddings(texts)
    score_s = time.perf_counter() - started
    distances = model.ood_.distances(vectors)
    sources = np.array([source_of(a) for a in test["account"]] + ["constraint"] * len(offtopic))
    scores = sigmoid(logits / model.temperature_)
    flagged = scores >= model.decision_threshold
    raw_flagged = sigmoid(logits) >= 0.5
    unreliable = model.ood_.unreliable(distances)
    in_sample_unreliable = in_sample.unreliable(in_sample.distances(vectors))
    negative = sources != "ira"
    fp = flagged & negative
    fp_test = fp & (sources != "constraint")
    y_test = test["label"].to_numpy()
    n_test = len(test)
    test_auc = classification_metrics(y_test, scores[:n_test])["auc"]
    all_texts = train["text"].tolist() + test["text"].tolist()
    all_labels = np.concatenate([train["label"].to_numpy(), y_test])
    split = {"train": np.arange(len(train)), "test": np.arange(len(train), len(train) + n_test)}
    all_accounts = np.concatenate([train["account"].to_numpy(), test["account"].to_numpy()])
    base = baselines(all_texts, all_labels, split, groups=all_accounts)
    all_times = np.concatenate([train["time"].to_numpy(), test["time"].to_numpy()])
    checks = confound_checks(model_auc=test_auc, probe=base["topic_probe"], labels=all_labels, groups=all_accounts,
                             times=[None if np.isnan(t) else float(t) for t in all_times],
                             collections=("control", "IRA"), class_names=("control", "IRA"))
    out = {
        "bench": "ood",
        "train_posts": len(train),
        "val_posts": len(val),
        "test_posts": n_test,
        "offtopic_posts": len(offtopic),
        "train_s": round(train_s),
        "ood_fit_s": round(ood_fit_s, 1),
        "score_posts_per_s": round(len(texts) / score_s, 1),
        "temperature": round(model.temperature_, 4),
        "threshold": round(model.decision_threshold, 4),
        "test_auc": round(test_auc, 4),
        "range": {k: round(v, 3) for k, v in model.ood_.range_.items()},
        "range_in_sample": {k: round(v, 3) for k, v in in_sample.range_.items()},
        "by_source": by_source(sources, flagged, raw_flagged, unreliable, in_sample_unreliable, distances),
        # Does the distance rank off-topic posts above held-back IRA ones at all (whatever the cut)?
        "distance_auc_constraint_vs_ira": round(float(roc_auc_score(
            np.r_[np.zeros((sources == "ira").sum()), np.ones((sources == "constraint").sum())],
            np.r_[distances[sources == "ira"], distances[sources == "constraint"]])), 4),
        "distance_auc_obama_vs_ira": round(float(roc_auc_score(
            np.r_[np.zeros((sources == "ira").sum()), np.ones((sources == "BarackObama").sum())],
            np.r_[distances[sources == "ira"], distances[sources == "BarackObama"]])), 4),
        "false_positives": int(fp.sum()),
        "false_positive_unreliable_share": round(float(unreliable[fp].mean()), 4) if fp.any() else None,
        "false_positives_test": int(fp_test.sum()),
        "false_positive_unreliable_share_test": round(float(unreliable[fp_test].mean()), 4) if fp_test.any() else None,
        "offtopic_unreliable_share": round(float(unreliable[sources == "constraint"].mean()), 4),
        "baselines": {k: {m: round(v[m], 4) for m in ("auc", "f1")} for k, v in base.items() if isinstance(v, dict)},
        "probe_cv_auc": round(base["topic_probe"]["cv_auc"], 4),
        "probe_words": base["topic_probe"]["words"],
        "confounds": {c["check"]: c["message"] for c in checks["checks"]},
        "confounds_fired": checks["fired"],
    }
    log(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
