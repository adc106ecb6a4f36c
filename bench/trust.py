"""Trust bench (issue 16): does the out-of-distribution mark catch the IRA-vs-control model's false positives?

The bundled MiniLM-L6 is fine-tuned (bench/quality_content.py's settings: one epoch, length 64, batch 32, learning
rate 5e-5) on the IRA development sample against the control tweets, split by account as the product splits
(``split_indices``, seed 0: a fifth of the accounts held back for the test, a tenth of the rest for validation; the
split puts @realDonaldTrump on the validation side and @BarackObama on the test side). T and the threshold (best
F1) are fitted on validation; the out-of-distribution summary on the training posts, as the product fits it
(``ml.text.ood.fit_text_ood``: k nearest neighbours on the bundled MiniLM's sentence embeddings, the range out of
fold by account), beside the older Mahalanobis summary of the classifier's own embeddings for comparison. Scored:

  (a) held-back IRA accounts (label 1)
  (b) an organic political collection: @BarackObama's posts (a control politician; none used in training)
  (c) Constraint_Val's COVID claims (off-topic for this model; label 0 here)
  and the held-back airline passengers (label 0; the training side's own kind, for the false-alarm rate).

Each source is then scored as a collection of its own, as an analyst would score it, with the product's shift check
(``CollectionShift``: a classifier telling the source's posts from the training posts; a post above the training
posts' own 99th percentile is unreliable). A post is marked unreliable when beyond the kNN range or the shift limit
(``knn+shift``, the product's mark; the headline figures), with the kNN range alone and Mahalanobis beside it.

Per source: AUC against (a), share flagged, share marked unreliable, the unreliable share among the flagged; the
unreliable share among (b) and (c)'s false positives; ECE before and after temperature scaling on the validation
split and on the external split ((a), (b) and the airline posts: accounts the training never saw).

  .venv/bin/python bench/trust.py            # about 10 min on 2 busy cores (1,500 training posts)

Ends with one JSON line: {"bench": "trust", "false_positive_unreliable_share": ..., "offtopic_unreliable_share":
..., "ece_before": ..., "ece_after": ..., ...} (ECE on the external split; the validation figures beside them).
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

from quality_content import CONFIG, cap, constraint, ira_vs_control, log, source_of  # noqa: E402  (after sys.path)

from ml.text import EncoderClassifier, split_indices  # noqa: E402
from ml.text.calibration import expected_calibration_error, sigmoid  # noqa: E402
from ml.text.ood import MahalanobisOOD, fit_text_ood  # noqa: E402

OFF = ("BarackObama", "constraint")  # the off-topic or off-distribution sources whose false positives should be marked


def parts(train_cap: int, val_cap: int, per_source: int):
    """Train (capped), validation (capped), and the scored posts: per source at most ``per_source``, seeded."""
    frame = ira_vs_control()
    split = split_indices(frame["label"].to_numpy(), frame["account"].to_numpy(), test_size=0.2, val_size=0.1, seed=0)
    train, val, test = (frame.iloc[split[part]] for part in ("train", "val", "test"))
    test = test.assign(source=test["account"].map(source_of))
    scored = [g.sample(min(per_source, len(g)), random_state=0) for _, g in test.groupby("source")]
    off = constraint("Val")
    off = off.sample(min(per_source, len(off)), random_state=0).assign(label=0, account="constraint",
                                                                       source="constraint")
    import pandas as pd

    return cap(train, train_cap), cap(val, val_cap), pd.concat(scored + [off], ignore_index=True)


def auc(y, s) -> float | None:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, s)), 4) if len(set(y.tolist())) == 2 else None


def by_source(scored, scores, flagged, marks: dict) -> dict:
    out, sources = {}, scored["source"].to_numpy()
    ira = sources == "ira"
    for name in sorted(set(sources)):
        at = sources == name
        fp = at & flagged & (scored["label"].to_numpy() == 0)
        row = {"posts": int(at.sum()), "flagged": round(float(flagged[at].mean()), 4),
               "auc_vs_ira": None if name == "ira" else auc(np.r_[np.ones(ira.sum()), np.zeros(at.sum())],
                                                            np.r_[scores[ira], scores[at]])}
        for method, (distances, unreliable) in marks.items():
            row[f"unreliable_{method}"] = round(float(unreliable[at].mean()), 4)
            row[f"unreliable_among_fp_{method}"] = round(float(unreliable[fp].mean()), 4) if fp.any() else None
            row[f"median_distance_{method}"] = round(float(np.median(distances[at])), 4)
        out[name] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-cap", type=int, default=1500)
    parser.add_argument("--val-cap", type=int, default=1000)
    parser.add_argument("--per-source", type=int, default=500)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    train, val, scored = parts(args.train_cap, args.val_cap, args.per_source)
    log(f"train {len(train):,}, validation {len(val):,}, scored {scored['source'].value_counts().to_dict()}")
    t0 = time.perf_counter()
    model = EncoderClassifier(config=CONFIG).fit_split(train["text"].tolist(), train["label"].to_numpy())
    train_s = time.perf_counter() - t0
    val_logits = model.logits(val["text"].tolist())
    model.calibrate(val["text"].tolist(), val["label"].to_numpy())
    log(f"trained in {train_s:.0f} s; T {model.temperature_:.3f}, threshold {model.decision_threshold:.3f}")
    t0 = time.perf_counter()
    knn = fit_text_ood(train["text"].tolist(), train["label"].to_numpy(), train["account"].to_numpy())
    knn_fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    mahalanobis = MahalanobisOOD().fit(model.embeddings(train["text"].tolist()), train["label"].to_numpy(),
                                       train["account"].to_numpy())
    mahalanobis_fit_s = time.perf_counter() - t0
    texts = scored["text"].tolist()
    t0 = time.perf_counter()
    logits, vectors = model.logits_and_embeddings(texts)
    score_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    knn_d = knn.batch_distances(texts)
    knn_score_s = time.perf_counter() - t0
    maha_d = mahalanobis.distances(vectors)
    y, sources = scored["label"].to_numpy(), scored["source"].to_numpy()
    # the shift check, as the product runs it: each source is a collection scored on its own
    t0 = time.perf_counter()
    shift_p, marked, shifts = np.full(len(texts), np.nan), np.zeros(len(texts), dtype=bool), {}
    for name in sorted(set(sources)):
        at = np.flatnonzero(sources == name)
        own = [texts[i] for i in at]
        shift = knn.fit_shift(own)
        shift_p[at] = knn.batch_measures(own, shift=shift)[:, 1]
        marked[at] = knn.unreliable(knn_d[at], shift_p[at], shift.limit)
        shifts[name] = {**{k: round(v, 4) for k, v in shift.describe(shift_p[at]).items() if isinstance(v, float)},
                        "sample_posts": len(shift.out_of_fold)}
    shift_s = time.perf_counter() - t0
    marks = {"knn+shift": (knn_d, marked), "knn": (knn_d, knn.unreliable(knn_d)),
             "mahalanobis": (maha_d, mahalanobis.unreliable(maha_d))}
    scores = sigmoid(logits / model.temperature_)
    flagged = scores >= model.decision_threshold
    fp_off = flagged & (y == 0) & np.isin(sources, OFF)
    external = sources != "constraint"
    y_val = val["label"].to_numpy()
    ece = {
        "validation": {"before": expected_calibration_error(sigmoid(val_logits), y_val),
                       "after": expected_calibration_error(sigmoid(val_logits / model.temperature_), y_val)},
        "external": {"before": expected_calibration_error(sigmoid(logits[external]), y[external]),
                     "after": expected_calibration_error(scores[external], y[external])},
    }
    unreliable = marks["knn+shift"][1]
    out = {
        "bench": "trust",
        "false_positive_unreliable_share": round(float(unreliable[fp_off].mean()), 4) if fp_off.any() else None,
        "offtopic_unreliable_share": round(float(unreliable[sources == "constraint"].mean()), 4),
        "false_positive_unreliable_share_knn": round(float(marks["knn"][1][fp_off].mean()), 4)
        if fp_off.any() else None,
        "offtopic_unreliable_share_knn": round(float(marks["knn"][1][sources == "constraint"].mean()), 4),
        "shift": shifts,
        "shift_s": round(shift_s, 1),
        "ece_before": round(ece["external"]["before"], 4),
        "ece_after": round(ece["external"]["after"], 4),
        "ece_validation_before": round(ece["validation"]["before"], 4),
        "ece_validation_after": round(ece["validation"]["after"], 4),
        "false_positives_off": int(fp_off.sum()),
        "false_positive_unreliable_share_mahalanobis": round(float(marks["mahalanobis"][1][fp_off].mean()), 4)
        if fp_off.any() else None,
        "offtopic_unreliable_share_mahalanobis": round(float(marks["mahalanobis"][1][sources == "constraint"].mean()),
                                                       4),
        "external_auc": auc(y[external], scores[external]),
        "distance_auc_constraint_vs_ira": {m: auc(np.r_[np.zeros((sources == "ira").sum()),
                                                        np.ones((sources == "constraint").sum())],
                                                  np.r_[d[sources == "ira"], d[sources == "constraint"]])
                                           for m, (d, _) in marks.items()},
        "by_source": by_source(scored, scores, flagged, marks),
        "range": {"knn": {k: round(v, 4) for k, v in knn.range_.items()},
                  "mahalanobis": {k: round(v, 3) for k, v in mahalanobis.range_.items()}},
        "temperature": round(model.temperature_, 4),
        "threshold": round(model.decision_threshold, 4),
        "train_posts": len(train),
        "val_posts": len(val),
        "train_s": round(train_s),
        "knn_fit_s": round(knn_fit_s, 1),
        "mahalanobis_fit_s": round(mahalanobis_fit_s, 1),
        "score_posts_per_s": round(len(texts) / score_s, 1),
        "knn_posts_per_s": round(len(texts) / knn_score_s, 1),
        "knn_summary_kb": round(knn.reference_.astype(np.float16).nbytes / 1024),
    }
    log(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
