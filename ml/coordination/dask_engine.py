"""The co-action sweep on a Dask cluster (dask.distributed): one task per time partition, the same kernel
(`pair_tally.tally_partition`) as the single process, the same counts.

Partitioning by time: partition k owns the posts whose time falls in [lo_k, hi_k) (quantiles of the times, so the
partitions hold about as many posts each) and holds every post in [lo_k, hi_k + widest window]: the overlap a pair
needs, since a pair (a, b) has t_a <= t_b <= t_a + widest. Each pair is counted once, by the partition owning its
first post, and the walk over a partition's posts (a subset of the (target, time) order, in that order) meets
exactly the partners the walk over all posts meets. The gaps (time since the account's previous post on the target,
however long ago) are computed over all posts before partitioning, so the once-per-partner rule is unchanged.
The driver merges the partitions' counts (integers: any order gives the same sums) and their partner densities.

`coaction.coaction_network(..., dask_threshold=N, dask_client=...)` comes here when the table has more than N rows.

The influence model's compiled pair pass (`influence_kernel`) runs here too (`dask_rows`): its leading accounts cut
into ranges, each range's blocks run by the same kernel on a worker, the counts summed and the records joined in
row order, so the edges are the single process's. `influence.influence_network(..., dask_threshold=N,
dask_client=...)` comes here past N events.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np

from .pair_tally import Tally, tally_partition

PARTITIONS_PER_WORKER = 4
CONNECT_TIMEOUT_S = 10


class SchedulerUnreachable(ValueError):
    """No Dask scheduler answered at the address given: a job ends with this message, not a stack trace."""


@contextmanager
def dask_session(client=None):
    """Yields tally(arrays, windows, n_accounts) running on a cluster (``dask_client``'s)."""
    with dask_client(client) as opened:
        yield lambda arrays, windows, n_accounts: dask_tally(opened, arrays, windows, n_accounts)


@contextmanager
def dask_client(client=None):
    """Yields a distributed.Client: `client` itself, one on a scheduler address ("tcp://host:8786"), or one on a
    2-worker cluster in this process when None (threads: a django-q2 worker is a daemon process and may not start
    worker processes). What it opened it closes."""
    import distributed

    opened = []
    if client is None:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
        client = distributed.Client(cluster)
        opened += [client, cluster]
    elif isinstance(client, str):
        address = client
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as error:  # distributed raises OSError("Timed out trying to connect ...")
            raise SchedulerUnreachable(
                f"no Dask scheduler answered at {address} within {CONNECT_TIMEOUT_S} s (the portal's DASK_SCHEDULER "
                f"setting): start it there, or leave DASK_SCHEDULER empty to run on a 2-worker cluster inside the "
                f"job ({type(error).__name__}: {error})") from None
        opened.append(client)
    try:
        yield client
    finally:
        for thing in opened:
            thing.close()


def time_partitions(time: np.ndarray, widest: float, n_parts: int) -> list:
    """(members, owned) per partition: positions of the posts it holds, and the positions among those it owns."""
    finite = time[np.isfinite(time)]
    if not len(finite):
        return []
    cuts = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, n_parts + 1)[1:-1]))
    bounds = [-np.inf, *cuts, np.inf]
    parts = []
    for low, high in zip(bounds[:-1], bounds[1:]):
        members = np.flatnonzero((time >= low) & (time <= high + widest))
        owned = np.flatnonzero(time[members] < high)
        if len(owned):
            parts.append((members, owned))
    return parts


def dask_tally(client, arrays: dict, windows: np.ndarray, n_accounts: int) -> dict:
    """`pair_tally.tally_partition` over all posts, computed per time partition on the cluster and merged."""
    fields = ("target", "time", "acc", "post", "gap", "repeated")
    n_parts = max(1, PARTITIONS_PER_WORKER * len(client.nthreads()))
    parts = time_partitions(arrays["time"], float(windows[-1]), n_parts)
    futures = {}
    for members, owned in parts:
        # scattered first: the arrays travel to a worker as data, not inside the task graph
        data = client.scatter([{f: arrays[f][members] for f in fields}], hash=False)[0]
        futures[client.submit(tally_partition, data, owned, windows, n_accounts, pure=False)] = members
    pairs = [Tally() for _ in windows]
    seen = [Tally() for _ in windows]
    density = np.zeros((len(arrays["time"]), len(windows)), np.int64)
    import distributed

    for future in distributed.as_completed(futures):
        part = future.result()
        density[futures[future]] += part["density"]
        for w_index in range(len(windows)):
            pairs[w_index].add(part["keys"][w_index], part["counts"][w_index])
            seen[w_index].add(part["seen"][w_index])
        future.release()
    return {
        "keys": [t.fold().keys for t in pairs],
        "counts": [t.counts for t in pairs],
        "seen": [t.fold().keys for t in seen],
        "density": density,
    }


def dask_rows(client, index, levels, keep_limits, block_rows: int, on_rows=None):
    """The influence model's pair pass (``influence_kernel.pair_pass``'s ``rows_runner``) on the cluster: the index
    sent to every worker once, the leading accounts cut into ``PARTITIONS_PER_WORKER`` ranges per worker thread (whole
    blocks), each range run by ``rows_part``; the parts merged in row order, as the threads' are."""
    import distributed

    from .influence_kernel import merge_parts, rows_part

    n = len(index.nj)
    step = max(1, block_rows)
    n_parts = max(1, PARTITIONS_PER_WORKER * len(client.nthreads()))
    per_part = max(1, math.ceil(math.ceil(n / step) / n_parts)) * step  # whole blocks per range
    shared = client.scatter(index, broadcast=True, hash=False)
    futures = {client.submit(rows_part, shared, levels, keep_limits, r0, min(n, r0 + per_part), step, pure=False): r0
               for r0 in range(0, n, per_part)}
    parts, done = {}, 0
    for future in distributed.as_completed(futures):
        r0 = futures[future]
        parts[r0] = future.result()
        future.release()
        done += min(n, r0 + per_part) - r0
        if on_rows:
            on_rows(done)
    return merge_parts([parts[r0] for r0 in sorted(parts)], levels.shape[0])
