"""The influence model's compiled pass (ml/coordination/influence_kernel.py) against the numpy path it replaces at
scale: the same edges, weights and counts, bit for bit, on seeded inputs with ties, silent accounts, accounts active
in every bin, strongly co-active groups, and a budget small enough that the significance certificate fails."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.checks import ParamError
from ml.coordination import influence as influence_module
from ml.coordination import influence_kernel
from ml.coordination.activity import build_activity, to_seconds
from ml.coordination.influence import InfluenceConfig, influence_network

pytestmark = pytest.mark.skipif(not influence_kernel.available(), reason="numba is not installed")

HOUR = 3600.0


def as_events(X, entity="hashtag:x"):
    account, k = np.nonzero(X)
    return pd.DataFrame({"account": account, "entity": entity, "entity_type": entity.split(":")[0],
                         "time": k * HOUR})


def seeded(seed: int, n: int, T: int):
    """Random activity plus three groups copying a leader's last bin 90% of the time; account 2 is active in
    every bin, account 3 in every bin but the last, account 4 never."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, T)) < rng.uniform(0.05, 0.5)
    for lead in (10, 18, 26):
        X[lead + 1:lead + 7, 1:] = np.where(rng.random((6, T - 1)) < 0.9, X[lead, :-1], X[lead + 1:lead + 7, 1:])
    X[2], X[3, :-1], X[4] = True, True, False
    return X


def ties(X) -> int:
    """Ordered pairs with c·(T−1) = n1·nj > 0: M is 1 up to rounding, the float64 M decides."""
    prev, nxt = X[:, :-1].astype(np.int64), X[:, 1:].astype(np.int64)
    c = prev @ nxt.T
    tie = (c * (X.shape[1] - 1) == prev.sum(1)[:, None] * nxt.sum(1)[None, :]) & (c > 0)
    np.fill_diagonal(tie, False)
    return int(tie.sum())


def run_both(events, accounts=None, **config):
    return [influence_network(events, InfluenceConfig(method=method, **config), accounts=accounts)
            for method in ("numpy", "kernel")]


def assert_identical(reference, kernel):
    assert kernel.counts == reference.counts
    pd.testing.assert_frame_equal(kernel.edges, reference.edges, check_exact=True)
    assert kernel.type_edges.keys() == reference.type_edges.keys()
    for name, edges in reference.type_edges.items():
        pd.testing.assert_frame_equal(kernel.type_edges[name], edges, check_exact=True)


@pytest.mark.parametrize("seed, n, T", [(0, 76, 121), (1, 48, 121), (2, 56, 13), (3, 63, 25), (5, 46, 61)])
def test_it_gives_the_numpy_edges_weights_and_counts(seed, n, T):
    X = seeded(seed, n, T)
    assert ties(X) > 0  # T−1 of many divisors: pairs sit exactly at M = 1
    reference, kernel = run_both(as_events(X), accounts=np.arange(n), block_cells=5 * n, start=0.0,
                                 end=(T - 1) * HOUR)
    assert_identical(reference, kernel)
    if T > 100:
        assert kernel.counts["all"]["significant"] >= 15  # the planted groups: a real test of the BH pick


def test_a_budget_too_small_for_the_certificate_sends_the_pass_round_again(monkeypatch):
    passes = []
    real = influence_kernel.pair_pass

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        passes.append(result.passes)
        return result

    monkeypatch.setattr(influence_kernel, "BUDGET", 1)
    monkeypatch.setattr(influence_kernel, "pair_pass", spy)
    X = seeded(0, 76, 121)
    reference, kernel = run_both(as_events(X), accounts=np.arange(76), start=0.0, end=120 * HOUR)
    assert passes == [2]
    assert kernel.counts["all"]["significant"] >= 15
    assert_identical(reference, kernel)


def test_silent_and_unknown_accounts_change_nothing_but_the_pair_count():
    X = seeded(4, 50, 121)
    X[7:9] = False
    accounts = np.arange(55)  # 50..54 have no events at all
    reference, kernel = run_both(as_events(X), accounts=accounts, start=0.0, end=120 * HOUR)
    assert kernel.counts["all"]["pairs"] == 55 * 54
    assert_identical(reference, kernel)


def test_a_medium_input_on_the_hour_grid_matches():
    """1,500 accounts × 2,000 hourly bins, 60–300 active bins each, as the scale bench draws them, plus a leader."""
    rng = np.random.default_rng(11)
    n, T = 1500, 2000
    active = rng.integers(60, 301, n)
    account = np.repeat(np.arange(n), active)
    k = np.concatenate([rng.choice(T, a, replace=False) for a in active])
    events = pd.DataFrame({"account": account, "entity": "hashtag:all", "entity_type": "hashtag", "time": k * HOUR})
    lead = k[account == 0]
    follow = pd.DataFrame({"account": np.repeat([1, 2, 3], len(lead)), "entity": "hashtag:all",
                           "entity_type": "hashtag", "time": np.tile(lead + 1, 3) * HOUR})
    events = pd.concat([events, follow[follow["time"] < T * HOUR]], ignore_index=True)
    reference, kernel = run_both(events, start=0.0, end=(T - 1) * HOUR)
    assert {(0, 1), (0, 2), (0, 3)} <= set(zip(kernel.edges["source"], kernel.edges["target"]))
    assert_identical(reference, kernel)


def test_auto_takes_the_kernel_only_where_it_applies(monkeypatch):
    called = []
    real = influence_kernel.pair_pass
    monkeypatch.setattr(influence_kernel, "pair_pass", lambda *a, **k: called.append(1) or real(*a, **k))
    X = seeded(0, 40, 61)
    grid = {"start": 0.0, "end": 60 * HOUR}
    influence_network(as_events(X), InfluenceConfig(**grid))
    assert called == [1]
    several = pd.concat([as_events(X), as_events(~X, "url:a.com/x")])
    influence_network(several, InfluenceConfig(**grid))
    influence_network(as_events(X), InfluenceConfig(rule="paper", **grid))
    assert called == [1]
    with pytest.raises(ParamError) as error:
        influence_network(several, InfluenceConfig(method="kernel", **grid))
    assert error.value.field == "method"


def test_the_light_operands_equal_the_full_ones():
    X = seeded(3, 40, 25)
    activity = build_activity(as_events(X), bin_seconds=HOUR, accounts=np.arange(42), start=0.0, end=24 * HOUR)
    full = influence_module._operands(activity, activity.entity_types == "hashtag", np.float32)
    index = influence_kernel.build_index(activity.account, activity.bin, 42, activity.n_bins)
    light = influence_module._one_entity_operands(index.n1, index.nj, activity.n_bins)
    for name in ("w_row", "leads", "inv_off", "rate", "present_t", "follows_t"):
        a, b = getattr(full, name), getattr(light, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    for name in ("inv_off", "rate", "w_row"):
        assert np.array_equal(full.exact[name], light.exact[name]), name


def reference_activity(events, *, bin_seconds, accounts=None, start=None, end=None):
    """build_activity as it was (a frame of the rows, pandas' drop_duplicates): the columnar one must equal it."""
    seconds = to_seconds(events["time"])
    start = float(np.nanmin(seconds)) if start is None else float(start)
    end = float(np.nanmax(seconds)) if end is None else float(end)
    n_bins = int((end - start) // bin_seconds) + 1
    bins = np.floor((seconds - start) / bin_seconds)
    inside = (bins >= 0) & (bins < n_bins)
    frame = pd.DataFrame({c: events[c].to_numpy()[inside] for c in ("account", "entity", "entity_type")})
    frame["bin"] = bins[inside].astype(np.int64)
    if accounts is None:
        accounts = np.array(sorted(frame["account"].unique(), key=str), dtype=object)
    codes = pd.Index(accounts).get_indexer(frame["account"])
    frame = frame[codes >= 0].assign(account=codes[codes >= 0])
    entity_codes, entities = pd.factorize(frame["entity"])
    frame = frame.assign(entity=entity_codes).drop_duplicates(["account", "entity", "bin"])
    types = frame.drop_duplicates("entity").set_index("entity")["entity_type"].reindex(range(len(entities)))
    return (np.asarray(accounts, dtype=object), np.asarray(entities, dtype=object), types.to_numpy(dtype=object),
            frame["account"].to_numpy(np.int64), frame["entity"].to_numpy(np.int64), frame["bin"].to_numpy(np.int64),
            n_bins, start)


@pytest.mark.parametrize("trial", range(4))
def test_the_columnar_activity_equals_the_row_frame(trial):
    rng = np.random.default_rng(trial)
    m = 2000
    labels = [f"u{i}" for i in range(60)] if trial % 2 else list(range(60))
    entities = ["hashtag:a", "url:b.com", "mention:c", "hashtag:z", "url:q.org/x"]
    events = pd.DataFrame({"account": rng.choice(np.array(labels, dtype=object), m), "entity": rng.choice(entities, m),
                           "time": pd.Timestamp("2016-11-01", tz="UTC")
                           + pd.to_timedelta(rng.integers(0, 10 * 86400, m), unit="s")})
    events["entity_type"] = events["entity"].str.split(":").str[0]
    if trial == 2:
        events["time"] = events["time"].astype(str)
    accounts = None if trial % 3 == 0 else np.array(sorted(set(labels), key=str)[5:50], dtype=object)
    grid = {"start": to_seconds(events["time"]).min() + 86400, "end": to_seconds(events["time"]).min() + 6 * 86400}
    kwargs = {"bin_seconds": 60.0 if trial == 1 else HOUR, "accounts": accounts, **(grid if trial == 3 else {})}
    new, old = build_activity(events, **kwargs), reference_activity(events, **kwargs)
    fields = (new.accounts, new.entities, new.entity_types, new.account, new.entity, new.bin, new.n_bins, new.start)
    names = ("accounts", "entities", "types", "account", "entity", "bin", "n_bins", "start")
    for name, a, b in zip(names, fields, old):
        assert np.array_equal(np.asarray(a), np.asarray(b)) and np.asarray(a).dtype == np.asarray(b).dtype, name
    assert len(new.account) < m  # some rows were repeats of an (account, entity, bin)


@pytest.mark.parametrize("budget", [None, 1])
def test_the_pass_on_a_two_worker_dask_cluster_gives_the_single_process_edges(budget, monkeypatch):
    """Past `dask_threshold` events the compiled pass runs on a Dask cluster (here an in-process LocalCluster of 2
    workers): leading accounts in ranges of whole blocks, counts summed and records joined in row order. Small
    blocks make many ranges; the certificate's second pass (a tiny budget) runs there too."""
    if budget is not None:
        monkeypatch.setattr(influence_kernel, "BUDGET", budget)
    X = seeded(0, 76, 121)
    events = as_events(X)
    config = InfluenceConfig(method="kernel", block_cells=3 * 76, start=0.0, end=120 * HOUR)
    local = influence_network(events, config, accounts=np.arange(76))
    seen = []
    on_dask = influence_network(events, config, accounts=np.arange(76), dask_threshold=0,
                                on_progress=lambda fraction, stage: seen.append(fraction))
    assert (local.engine, on_dask.engine) == ("local", "dask")
    assert on_dask.counts["all"]["significant"] >= 15
    assert_identical(local, on_dask)
    assert seen and max(seen) == 1.0
    small = influence_network(events, config, accounts=np.arange(76), dask_threshold=len(events))
    assert small.engine == "local"  # at or under the threshold: this process
