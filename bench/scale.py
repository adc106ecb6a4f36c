"""Scale-out benchmark: the co-action sweep (1 s ... 1 h, co-retweet, edges at 60 s) on 2,000,000 synthetic posts,
in one process and on a 2-worker Dask LocalCluster (worker processes), with identical edges.

    .venv/bin/python bench/scale.py [--posts N]

The posts: N reposts by N/10 accounts over 30 days on 300,000 targets whose popularity falls off as a power law
(the top target draws 8 % of the posts: about 35 M same-target pairs within the hour at 2 M posts), plus 20 groups
of 15 accounts firing within 20 s on targets of their own. `single_s` and `dask_s` are the whole
`coaction_network` call (ordering, the pair walk and tallies, the sweep's tests, the edges); `dask_s` has a started
cluster (its start is `cluster_start_s`, apart). Each time is one run; `*_cpu_s` is the driver's CPU time.
Ends with one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ml.coordination import CoactionConfig, coaction_network  # noqa: E402  (after sys.path takes the repository)


def synthetic_posts(n_posts: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    span, groups, members = 30 * 86400, 20, 15
    bursts = n_posts // 20 // (groups * members)
    group = np.repeat(np.arange(groups), bursts * members)
    burst = np.repeat(np.arange(groups * bursts), members)
    planted = pd.DataFrame({
        "account": (group * members + np.tile(np.arange(members), groups * bursts)).astype(np.int64),
        "time": np.round(np.repeat(rng.uniform(0, span, groups * bursts), members) + rng.uniform(0, 20, len(group))),
        "target": "g" + pd.Series(burst).astype(str),
    })
    organic = n_posts - len(planted)
    frame = pd.DataFrame({
        "account": rng.integers(groups * members, max(n_posts // 10, 1000), organic),
        "time": np.round(rng.uniform(0, span, organic)),
        "target": pd.Series(np.floor(300_000 * rng.random(organic) ** 5).astype(np.int64)).astype(str),
    })
    posts = pd.concat([planted, frame], ignore_index=True).assign(action="repost")
    return posts.assign(post_id=np.arange(len(posts)))


def timed(run):
    start, cpu = time.perf_counter(), time.process_time()
    result = run()
    return result, time.perf_counter() - start, time.process_time() - cpu


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=2_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import distributed

    posts = synthetic_posts(args.posts)
    config = CoactionConfig(actions=("repost",))
    single, single_s, single_cpu = timed(lambda: coaction_network(posts, config))
    print(f"single process: {single_s:.1f} s ({single_cpu:.1f} CPU s), {len(single.edges)} edges", file=sys.stderr)
    start = time.perf_counter()
    cluster = distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    cluster_start_s = time.perf_counter() - start
    with cluster, client:
        scaled, dask_s, dask_cpu = timed(
            lambda: coaction_network(posts, config, dask_threshold=0, dask_client=client)
        )
    identical = bool(scaled.engine == "dask" and scaled.edges.equals(single.edges) and scaled.sweep.equals(single.sweep)
                     and scaled.counts == single.counts)
    print(f"dask, {args.workers} workers: {dask_s:.1f} s ({dask_cpu:.1f} driver CPU s), cluster start "
          f"{cluster_start_s:.1f} s, identical: {identical}", file=sys.stderr)
    print(single.sweep.to_string(index=False), file=sys.stderr)
    pairs_1h = int(single.sweep["edges"].iloc[-1])
    print(json.dumps({
        "bench": "scale",
        "posts": len(posts),
        "accounts": int(posts["account"].nunique()),
        "single_s": round(single_s, 2),
        "single_cpu_s": round(single_cpu, 2),
        "dask_s": round(dask_s, 2),
        "dask_driver_cpu_s": round(dask_cpu, 2),
        "cluster_start_s": round(cluster_start_s, 2),
        "workers": args.workers,
        "identical": identical,
        "edges": len(single.edges),
        "account_pairs_1h": pairs_1h,
        "single_us_per_post": round(single_s / len(posts) * 1e6, 2),
        "dask_us_per_post": round(dask_s / len(posts) * 1e6, 2),
        "driver_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_1min": os.getloadavg()[0],
    }))


if __name__ == "__main__":
    main()
