"""Authorship (docs/methods.md §authorship) figures on the IRA development set.

  .venv/bin/python bench/authorship.py timing   # train + score one account with 5,000 own posts
  .venv/bin/python bench/authorship.py quality  # CV / time-ordered test / injected-post rank, top 20 accounts

Each mode ends with one JSON line; `quality` also prints a Markdown table for docs/quality.md.
"""
from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ml.authorship import METHODS, account_set, authorship_report, evaluate, out_of_fold_probability, posts_frame  # noqa: E402  (after sys.path takes the repository)

DATA = ROOT.parent / "shared" / "data" / "ira" / "ira_dev_en.csv.gz"
COLUMNS = {"author": "account", "content": "text", "publish_date": "time", "retweet": "is_retweet"}
TOP, CAP, POOL, INJECTED = 20, 3000, 60_000, 5


def load() -> pd.DataFrame:
    frame = pd.read_csv(DATA, usecols=[*COLUMNS, "account_category"]).rename(columns=COLUMNS)
    return frame.assign(post_id=np.arange(len(frame)))


def timing() -> dict:
    """Train (both methods' CV, test, learning curves), then score every post, for a 5,000-post account."""
    frame = load()
    frame = pd.concat([frame[frame["account"] == "TodayNYCity"],
                       frame[frame["account"] != "TodayNYCity"].sample(50_000, random_state=0)])
    methods = {name: replace(config, max_posts=5000) for name, config in METHODS.items()}
    started = time.perf_counter()
    report = authorship_report(frame, account="TodayNYCity", methods=methods, limit=None)
    total = time.perf_counter() - started
    stages = {}
    for name, config in methods.items():
        aset = account_set(posts_frame(frame), "TodayNYCity", config)
        started = time.perf_counter()
        out_of_fold_probability(aset, config)
        stages[f"score_{name}_s"] = round(time.perf_counter() - started, 1)
    return {"bench": "authorship", "account_posts": report["own_posts"], "negatives": report["negatives"],
            "report_s": round(total, 1), **stages, "chosen": report["chosen"],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def one_account(pool: pd.DataFrame, donors: pd.DataFrame, account: str, seed: int) -> dict:
    """Both methods' accuracy, then INJECTED posts of one unseen account slipped in under its name."""
    rng = np.random.default_rng(seed)
    donor = rng.choice(donors["account"].unique())
    slipped = donors[donors["account"] == donor].sample(INJECTED, random_state=seed)
    # Posted during the account's kept (latest CAP) period, as a hijacker posts while in control.
    mine = pool[(pool["account"] == account) & (pool["is_retweet"] == 0)]["time"].sort_values().tail(CAP)
    slipped = slipped.assign(time=mine.sample(INJECTED, random_state=seed).to_numpy())
    frame = posts_frame(pd.concat([pool, slipped.assign(account=account, post_id=-1 - np.arange(INJECTED))]))
    row = {"account": account, "donor": donor}
    for name, base in METHODS.items():
        config = replace(base, max_posts=CAP)
        aset = account_set(frame, account, config)
        row.update({f"{name}_{k}": v for k, v in evaluate(aset, config).items() if k.endswith("accuracy")})
        own = aset.posts.assign(p=out_of_fold_probability(aset, config))[aset.posts["label"] == 1]
        rank = own["p"].rank(pct=True, method="max")[own["post_id"] < 0]
        row[f"{name}_injected_bottom5"] = int((rank <= 0.05).sum())
        row[f"{name}_injected_kept"] = int(len(rank))
        row["own_posts"] = int(aset.posts["label"].sum())
    return row


def quality() -> dict:
    frame = load()
    counts = frame["account"].value_counts()
    top = list(counts.index[:TOP])
    is_top = frame["account"].isin(top)
    # Donors: ordinary (non-top) accounts' own posts, kept out of the negatives, as a hijacker would be.
    rest = frame[~is_top & (frame["is_retweet"] == 0)]
    donor_accounts = rest["account"].value_counts().pipe(lambda c: c[c >= 50]).index
    donor_pick = pd.Index(np.random.default_rng(0).choice(donor_accounts, 200, replace=False))
    donors = rest[rest["account"].isin(donor_pick)]
    others = rest[~rest["account"].isin(donor_pick)].sample(POOL, random_state=0)
    capped = frame[is_top].groupby("account", group_keys=False).tail(CAP * 2)  # retweets dropped later
    pool = pd.concat([capped, others])
    started = time.perf_counter()
    rows = Parallel(n_jobs=2)(delayed(one_account)(pool, donors, a, i) for i, a in enumerate(top))
    table = pd.DataFrame(rows)
    meta = frame[is_top].groupby("account").agg(category=("account_category", "first"),
                                                 retweets=("is_retweet", "mean"), posts=("text", "size"))
    table = table.join(meta, on="account")
    print(table.to_markdown(index=False, floatfmt=".3f") if _has_tabulate() else table.to_string())
    summary = {"bench": "authorship_quality", "accounts": len(table), "cap": CAP,
               "seconds": round(time.perf_counter() - started)}
    for name in METHODS:
        for metric in ("cv_accuracy", "test_accuracy"):
            values = table[f"{name}_{metric}"]
            summary[f"{name}_{metric}"] = [round(values.mean(), 4), round(values.std(), 4)]
        summary[f"{name}_injected_bottom5"] = round(
            table[f"{name}_injected_bottom5"].sum() / table[f"{name}_injected_kept"].sum(), 3)
    table.to_csv(ROOT / "var" / "authorship_quality.csv", index=False)
    return summary


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401  (only to tell whether it is installed)
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "timing"
    print(json.dumps(timing() if mode == "timing" else quality()))
