"""Coordination benchmark: A against `influence-model`, scale, co-action against the toolkit, quality.

    .venv/bin/python bench/coordination.py [--quick]
    .venv/bin/python bench/coordination.py --ira [--ira-rows N]   # the whole IRA dev file, end to end
    .venv/bin/python bench/coordination.py --scale-only [--accounts N] [--scale-method auto|kernel|numpy] [--scale-dask]

``--ira``: the whole IRA development file imported once through ``manage.py import_collection`` into a portal of
its own (``devstack.portal_stack``, as ``bench/workspace.py`` does; SQLite unless BENCH_DATABASE_URL names a
PostgreSQL), then ``manage.py run_analysis coordination --param event_date=2016-11-08``, timed end to end.
``ira_s`` is the analysis job's own time (reading the store, the networks, communities, layout, the split),
``ira_command_s`` adds the command's Django start-up; ``ira_events_read`` is what the run read and
``ira_events_total`` the entity interactions the database holds for the same types (every one should be read).

Co-retweet against `coordination_network_toolkit`, what each time includes (median of RUNS runs each):
- the toolkit: `compute_co_retweet_parallel(db, 60, n_threads=2)` on a fresh copy of its preprocessed
  SQLite file: its index creation, the self-join in two processes and writing its network table. Its
  `preprocess_data` (loading the posts into SQLite) is timed apart (`cnt_preprocess_s`) and not counted.
- ours: `directed_weights(coaction_pairs(posts, "repost", (60,)), 60)` from the posts DataFrame in memory:
  filtering, factorising, the (target, time) sort, the pairs and the counts, ending in the same
  user_1, user_2, weight table. `coaction_network_s` adds the significance test, the combined network and
  the sweep row at 60 s; `sweep_s` is the whole 1 s … 1 h sweep.

Ends with one JSON line (see docs/benchmarks.md, section Coordination)."""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ml.coordination import (  # noqa: E402  (after sys.path takes the repository)
    CoactionConfig,
    InfluenceConfig,
    coaction_network,
    coaction_pairs,
    directed_weights,
    influence_network,
    transition_matrices,
)

RUNS = 3


def planted_leader(n, T, followers=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, T)) < 0.1
    X[1:followers + 1, 1:] = np.where(rng.random((followers, T - 1)) < 0.8, X[0, :-1], X[1:followers + 1, 1:])
    return X.astype(int)


def bench_package(n, T):
    from influence_model.learning import learn_state_transition_matrix
    X = planted_leader(n, T)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # one thread, as the package runs: a fair ratio, and steady on a busy machine
        ours, A = timed(lambda: transition_matrices(X), runs=5)
    start = time.perf_counter()
    theirs = [[learn_state_transition_matrix(X[i], X[j], 2, 2) for j in range(n)] for i in range(n)]
    package = time.perf_counter() - start
    identical = all(np.array_equal(A[i, j], theirs[i][j]) for i in range(n) for j in range(n))
    return identical, package, ours


def _scale_child(n, T, queue, method="auto", dask=False):
    rng = np.random.default_rng(2)
    active = rng.integers(60, 301, n)
    account = np.repeat(np.arange(n), active)
    k = np.concatenate([rng.choice(T, a, replace=False) for a in active])
    events = pd.DataFrame({"account": account, "entity": "hashtag:all", "entity_type": "hashtag", "time": k * 3600.0})
    start, cpu = time.perf_counter(), time.process_time()
    result = influence_network(events, InfluenceConfig(start=0.0, end=(T - 1) * 3600.0, method=method),
                               dask_threshold=0 if dask else None)  # dask: a 2-worker LocalCluster in this process
    # CPU seconds of both threads: the work itself, whatever else shares the two cores
    queue.put((time.perf_counter() - start, time.process_time() - cpu, result.counts["all"]))


def bench_scale(n, T, method="auto", dask=False):
    """In a child process so its peak RSS is its own (the events table included). `method`: InfluenceConfig.method
    ("auto" takes the compiled pass here: one entity type of one entity, the significant rule); `dask`: the pass on
    a 2-worker Dask cluster (dask_engine.dask_rows), which must give the same counts."""
    queue = mp.get_context("fork").Queue()
    child = mp.get_context("fork").Process(target=_scale_child, args=(n, T, queue, method, dask))
    child.start()
    seconds, cpu, counts = queue.get()
    child.join()
    return seconds, cpu, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, counts


def planted_posts(n_posts, n_accounts=20000, groups=20, members=15, seed=3):
    """Organic reposts of Zipf-popular targets over 30 days, plus groups firing within 20 s."""
    rng = np.random.default_rng(seed)
    span = 30 * 86400
    per_group = n_posts // 10 // (groups * members)
    rows = []
    for g in range(groups):
        accounts = np.arange(g * members, (g + 1) * members)
        for t0 in rng.uniform(0, span, per_group):
            rows.append(pd.DataFrame({"account": accounts, "time": np.round(t0 + rng.uniform(0, 20, members)),
                                      "target": f"g{g}-{t0:.0f}"}))
    organic = n_posts - sum(len(r) for r in rows)
    rows.append(pd.DataFrame({"account": rng.integers(groups * members, n_accounts, organic),
                              "time": np.round(rng.uniform(0, span, organic)),
                              "target": (rng.zipf(1.6, organic) % 50000).astype(str)}))
    posts = pd.concat(rows, ignore_index=True).assign(action="repost")
    truth = {(a, b) for g in range(groups) for a in range(g * members, (g + 1) * members)
             for b in range(a + 1, (g + 1) * members)}
    return posts.assign(post_id=np.arange(len(posts))), truth


def bench_toolkit(posts, window=60):
    """Median of RUNS computations, each on a fresh copy of the preprocessed file (its indexes are built
    inside the computation, so a second run on the same file would skip that work)."""
    import contextlib
    import io
    import shutil

    from coordination_network_toolkit.compute_networks import compute_co_retweet_parallel
    from coordination_network_toolkit.preprocess import preprocess_data
    folder = tempfile.mkdtemp()
    source = os.path.join(folder, "cnt.db")
    start = time.perf_counter()
    preprocess_data(source, ((str(p), str(a), str(a), t, None, "", s, [])
                             for p, a, t, s in zip(posts.post_id, posts.account, posts.target, posts.time)))
    preprocess_s = time.perf_counter() - start
    times = []
    for run in range(RUNS):
        db = os.path.join(folder, f"run{run}.db")
        shutil.copy(source, db)
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            compute_co_retweet_parallel(db, window, n_threads=2)
        times.append(time.perf_counter() - start)
    query = "select user_1, user_2, weight from co_retweet_network where user_1 != user_2"
    edges = pd.read_sql(query, sqlite3.connect(db))
    return float(np.median(times)), preprocess_s, edges


def timed(make, runs=RUNS):
    """(median seconds, last result) of `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = make()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def bench_coaction(posts, truth):
    coaction_s, ours = timed(lambda: directed_weights(coaction_pairs(posts, "repost", (60.0,)), 60))
    network_s, _ = timed(lambda: coaction_network(posts, CoactionConfig(actions=("repost",), windows=(60.0,))))
    start = time.perf_counter()
    swept = coaction_network(posts, CoactionConfig(actions=("repost",)))
    sweep_s = time.perf_counter() - start
    table = []
    for window in swept.sweep["window"]:
        config = CoactionConfig(actions=("repost",), windows=(window,), window=window)
        edges = coaction_network(posts, config).edges
        found = {(min(a, b), max(a, b)) for a, b in zip(edges["source"], edges["target"])}
        hit = len(found & truth)
        table.append(
            {
                "window": window,
                "significant_edges": len(found),
                "precision": round(hit / len(found), 4) if found else None,
                "recall": round(hit / len(truth), 4),
            }
        )
    return ours, coaction_s, network_s, sweep_s, swept.sweep, table


def _coaction_memory_child(n_posts, window, queue):
    """A fresh (spawned) process: its peak RSS is the posts table plus the co-action run, nothing else."""
    posts, _ = planted_posts(n_posts)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.process_time()
    result = coaction_network(posts, CoactionConfig(actions=("repost",), window=window))
    queue.put((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, base, time.process_time() - start,
               len(result.edges)))


def bench_coaction_memory(n_posts, window=60.0):
    """Peak RSS (MB) of the whole 1 s ... 1 h sweep with the edges at `window`, the posts table included:
    (peak, of which the posts, CPU seconds, edges)."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_coaction_memory_child, args=(n_posts, window, queue))
    child.start()
    out = queue.get()
    child.join()
    return out


IRA_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "ira" / "ira_dev_en.csv.gz"
IRA_EVENT_DATE = "2016-11-08"
IRA_TYPES = ("hashtag", "url", "mention")  # the kind's default entity types


def bench_ira(path: Path, rows: int = 0) -> dict:
    """Import the IRA file once, then the coordination analysis end to end (see the module doc)."""
    from bench.workspace import SETUP, head
    from devstack.stack import last_json_line, portal_stack

    env = {"HF_HUB_OFFLINE": "1", "LOG_LEVEL": "WARNING"}
    if os.environ.get("BENCH_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
    with tempfile.TemporaryDirectory() as tmp:
        data = head(path, rows, Path(tmp) / "head.csv.gz") if rows else path
        with portal_stack(Path(tmp), server=False, worker=False, env=env, pg_name="murmuration_ira_bench") as stack:
            last_json_line(stack.shell(SETUP % "bench-pass-123"))
            start = time.perf_counter()
            imported = last_json_line(stack.manage("import_collection", str(data), "--investigation",
                                                   "IRA workspace bench", "--collection", "ira", "--user", "bench",
                                                   timeout=3600).stdout)
            import_s = time.perf_counter() - start
            print(f"import: {imported.get('stored')} posts in {import_s:.0f} s", file=sys.stderr, flush=True)
            start = time.perf_counter()
            ran = last_json_line(stack.manage("run_analysis", "coordination", "--investigation", "IRA workspace bench",
                                              "--collection", "ira", "--user", "bench", "--param",
                                              f"event_date={IRA_EVENT_DATE}", timeout=3600).stdout)
            command_s = time.perf_counter() - start
            print(f"coordination: {ran} in {command_s:.1f} s", file=sys.stderr, flush=True)
            result = stack.query("SELECT result FROM analyses_analysis WHERE kind = 'coordination'")[0][0]
            inputs = (json.loads(result) if isinstance(result, str) else result)["inputs"]
            marks = ", ".join("?" * len(IRA_TYPES))
            total = stack.query(
                f"SELECT count(*) FROM collections_interaction WHERE collection_id = ? AND action IN ({marks}) "
                "AND target_entity_id IS NOT NULL", (imported["collection_id"], *IRA_TYPES))[0][0]
            store_mb = sum(p.stat().st_size for p in (stack.var_dir / "media" / "store").rglob("*.parquet")) / 2**20
    return {
        "ira_posts": imported.get("stored"),
        "ira_import_s": round(import_s, 1),
        "ira_s": ran.get("seconds"),
        "ira_command_s": round(command_s, 2),
        "ira_status": ran.get("status"),
        "ira_events_read": inputs["events_read"],
        "ira_events_total": total,
        "ira_events_left_out": inputs.get("events_left_out"),
        "ira_accounts": inputs["accounts"],
        "ira_edges": ran.get("edges"),
        "ira_store_mb": round(store_mb, 1),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--scale-only", action="store_true", help="only the scale figure (one JSON line)")
    parser.add_argument("--accounts", type=int, default=None, help="accounts of the scale figure (default 20,000)")
    parser.add_argument("--scale-method", choices=("auto", "kernel", "numpy"), default="auto",
                        help="the influence pass of the scale figure (default auto: the compiled kernel)")
    parser.add_argument("--scale-dask", action="store_true",
                        help="with --scale-only: the pass on an in-process 2-worker Dask cluster (same counts)")
    parser.add_argument("--ira", action="store_true", help="only the whole-IRA-file figure (one JSON line)")
    parser.add_argument("--ira-file", type=Path, default=IRA_FILE)
    parser.add_argument("--ira-rows", type=int, default=0, help="with --ira: the file's first N rows only (0: all)")
    args = parser.parse_args()
    if args.ira:
        figures = bench_ira(args.ira_file, args.ira_rows)
        print(json.dumps({"bench": "coordination", "ira_rows": args.ira_rows or "all", **figures,
                          "load_1min": os.getloadavg()[0]}))
        return
    n, T = (40, 500) if args.quick else (200, 2000)
    scale_n, n_posts = (2000, 20000) if args.quick else (20000, 200000)
    scale_n = args.accounts or scale_n
    if args.scale_only:
        scale_s, scale_cpu, scale_mb, counts = bench_scale(scale_n, 17520, args.scale_method, args.scale_dask)
        print(
            json.dumps(
                {
                    "bench": "coordination_scale",
                    "scale_method": args.scale_method,
                    "scale_engine": "dask" if args.scale_dask else "local",
                    "scale_accounts": scale_n,
                    "scale_bins": 17520,
                    "scale_s": round(scale_s, 2),
                    "scale_cpu_s": round(scale_cpu, 1),
                    "scale_peak_mb": round(scale_mb),
                    "scale_paper_edges": counts["paper"],
                    "scale_significant_edges": counts["significant"],
                    "load_1min": os.getloadavg()[0],
                }
            )
        )
        return
    identical, package_s, ours_s = bench_package(n, T)
    print(f"A: identical={identical} package {package_s:.2f}s ours {ours_s * 1000:.2f}ms", file=sys.stderr)
    scale_s, scale_cpu, scale_mb, counts = bench_scale(scale_n, 17520)
    print(
        f"scale: {scale_n} accounts x 17520 bins {scale_s:.2f}s ({scale_cpu:.1f} CPU s) peak "
        f"{scale_mb:.0f} MB {counts}",
        file=sys.stderr,
    )
    posts, truth = planted_posts(n_posts)
    ours, coaction_s, network_s, sweep_s, sweep, table = bench_coaction(posts, truth)
    coaction_mb, coaction_base_mb, coaction_cpu, _ = bench_coaction_memory(n_posts)
    coaction_1h_mb = bench_coaction_memory(n_posts, window=3600.0)[0]
    print(f"co-action memory: peak {coaction_mb:.0f} MB (posts {coaction_base_mb:.0f} MB), {coaction_cpu:.1f} CPU s; "
          f"edges at 1 h: peak {coaction_1h_mb:.0f} MB", file=sys.stderr)
    cnt_s, preprocess_s, theirs = bench_toolkit(posts)
    ours = ours.astype({"user_1": str, "user_2": str})
    key = ["user_1", "user_2"]
    same = (
        ours.sort_values(key)
        .reset_index(drop=True)
        .equals(theirs.astype({"weight": ours["weight"].dtype}).sort_values(key).reset_index(drop=True))
    )
    print(sweep.to_string(index=False), file=sys.stderr)
    print(pd.DataFrame(table).to_string(index=False), file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "coordination",
                "quick": args.quick,
                "identical_A": identical,
                "N": n,
                "T": T,
                "package_s": round(package_s, 3),
                "ours_s": round(ours_s, 5),
                "speedup": round(package_s / ours_s),
                "scale_accounts": scale_n,
                "scale_bins": 17520,
                "scale_s": round(scale_s, 2),
                "scale_cpu_s": round(scale_cpu, 1),
                "scale_peak_mb": round(scale_mb),
                "scale_paper_edges": counts["paper"],
                "scale_significant_edges": counts["significant"],
                "posts": len(posts),
                "identical_coretweet": bool(same),
                "coretweet_edges": len(theirs),
                "cnt_s": round(cnt_s, 3),
                "cnt_preprocess_s": round(preprocess_s, 2),
                "coaction_s": round(coaction_s, 4),
                "coaction_speedup": round(cnt_s / coaction_s, 1),
                "coaction_network_s": round(network_s, 3),
                "sweep_s": round(sweep_s, 3),
                "coaction_peak_mb": round(coaction_mb),
                "coaction_posts_mb": round(coaction_base_mb),
                "coaction_cpu_s": round(coaction_cpu, 2),
                "coaction_peak_mb_1h": round(coaction_1h_mb),
                "load_1min": os.getloadavg()[0],
                "quality": table,
            }
        )
    )


if __name__ == "__main__":
    main()
