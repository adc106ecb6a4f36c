"""Coordination (docs/methods.md §influence model): influence-model and co-action networks, significance, evidence."""
from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.coordination import (
    CoactionConfig,
    InfluenceConfig,
    InfluenceModel,
    InfluenceModelConfig,
    before_after,
    coaction_network,
    coaction_pairs,
    coaction_report,
    directed_weights,
    edge_evidence,
    influence_network,
    influence_report,
    near_duplicate_clusters,
    normalise_url,
    transition_matrices,
)
from ml.coordination.stats import bh_qvalues

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
HOUR = 3600.0


def planted_leader(n=30, T=600, followers=5, seed=0):
    """Account 0 leads; accounts 1..followers copy its last hour 80% of the time; the rest are random."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, T)) < 0.1
    copy = rng.random((followers, T - 1)) < 0.8
    X[1:followers + 1, 1:] = np.where(copy, X[0, :-1], X[1:followers + 1, 1:])
    return X


def as_events(X, entity="hashtag:x"):
    account, k = np.nonzero(X)
    return pd.DataFrame({"account": account, "entity": entity, "entity_type": entity.split(":")[0],
                         "time": k * HOUR})


def grid(X):
    return InfluenceConfig(start=0.0, end=(X.shape[1] - 1) * HOUR)


def test_its_A_matrices_equal_the_influence_model_package():
    learning = pytest.importorskip("influence_model.learning")
    X = planted_leader(n=10, T=300).astype(int)
    A = transition_matrices(X)
    for i in range(10):
        for j in range(10):
            assert np.array_equal(A[i, j], learning.learn_state_transition_matrix(X[i], X[j], 2, 2))


def test_its_sparse_measure_is_A01_plus_A10_of_the_package_matrices():
    learning = pytest.importorskip("influence_model.learning")
    X = planted_leader(n=12, T=300)
    X[:, 5] = True  # everyone active at least once, so every pair shares the entity
    result = influence_network(as_events(X), InfluenceConfig(rule="paper", start=0.0, end=299 * HOUR),
                               accounts=np.arange(12))
    ours = result.edges.set_index(["source", "target"])["M"]
    for (i, j), m in ours.items():
        A = learning.learn_state_transition_matrix(X[i].astype(int), X[j].astype(int), 2, 2)
        assert m == pytest.approx(A[0, 1] + A[1, 0], abs=1e-12)


def test_the_planted_leader_is_the_top_influencer():
    X = planted_leader()
    report = influence_report(as_events(X), grid(X))
    assert report["top_influencer"] == 0
    assert json.loads(json.dumps(report))["nodes"][0]["id"] == 0


def test_significance_keeps_planted_edges_and_drops_random_ones():
    X = planted_leader()
    result = influence_network(as_events(X), grid(X))
    assert set(zip(result.edges["source"], result.edges["target"])) == {(0, f) for f in range(1, 6)}
    # The paper's M < 1 rule keeps about half of all ordered pairs on the same data.
    assert 0.3 < result.counts["all"]["paper"] / result.counts["all"]["pairs"] < 0.7
    assert result.counts["all"]["significant"] == 5


def test_the_paper_rule_is_one_switch_away():
    X = planted_leader()
    result = influence_network(as_events(X), InfluenceConfig(rule="paper", start=0.0, end=599 * HOUR))
    assert len(result.edges) == result.counts["all"]["paper"] > 100
    assert result.edges["significant"].sum() == 5


def dense_reference(X_by_entity: dict, n: int, alpha: float = 0.05):
    """Every ordered pair from dense arrays, no blocks: M per entity (A01 + A10 of the package's A, where i
    leads and j follows), averaged per type then over types; counts and expectations summed; Poisson + BH."""
    from scipy import stats as st
    per_type, count, expected = {}, np.zeros((n, n)), np.zeros((n, n))
    for entity, X in X_by_entity.items():
        prev, nxt = X[:, :-1].astype(float), X[:, 1:].astype(float)
        T1 = X.shape[1] - 1
        c, n1, nj = prev @ nxt.T, prev.sum(1)[:, None], nxt.sum(1)[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_off = np.where(T1 - n1 > 0, 1.0 / (T1 - n1), 0.0)
            m = np.where((n1 > 0) & (nj > 0), (nj - c) * inv_off + 1 - c / n1, np.nan)
        np.fill_diagonal(m, np.nan)
        per_type.setdefault(entity.split(":")[0], []).append(m)
        count, expected = count + c, expected + n1 * nj / T1
    with warnings.catch_warnings():  # pairs no entity defines stay NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        type_m = {t: np.nanmean(np.stack(ms), 0) for t, ms in per_type.items()}
        mean_all = np.nanmean(np.stack(list(type_m.values())), 0)
    hot = (count > expected) & ~np.isnan(mean_all)
    p = np.where(hot, st.poisson.sf(count - 1, np.maximum(expected, 1e-300)), 1.0)
    off_diagonal = ~np.eye(n, dtype=bool)
    q = np.ones((n, n))
    q[off_diagonal] = bh_qvalues(p[off_diagonal], n * (n - 1))
    return mean_all, type_m, (mean_all < 1) & (q <= alpha), count


@pytest.mark.parametrize(
    "entities", [("hashtag:x",), ("hashtag:x", "hashtag:y", "url:a.com/1", "url:b.org/2", "mention:z")]
)
def test_the_blocked_path_equals_the_dense_reference_on_random_data(entities):
    rng = np.random.default_rng(7)
    n, T = 45, 240
    X_by_entity = {}
    for e in entities:
        X = rng.random((n, T)) < rng.uniform(0.05, 0.2)
        X[1:4, 1:] |= X[0, :-1] & (rng.random((3, T - 1)) < 0.8)  # a leader and three followers
        X_by_entity[e] = X
    events = pd.concat([as_events(X, e) for e, X in X_by_entity.items()], ignore_index=True)
    mean_all, type_m, significant, count = dense_reference(X_by_entity, n)
    # small uneven blocks on two threads: 45 rows in blocks of 4
    config = InfluenceConfig(rule="paper", block_cells=4 * n, n_jobs=2, start=0.0, end=(T - 1) * HOUR)
    result = influence_network(events, config, accounts=np.arange(n))
    for name, edges, reference in [
        ("all", result.edges, mean_all),
        *[(t, result.type_edges[t], type_m[t]) for t in type_m],
    ]:
        paper = set(zip(*np.nonzero(reference < 1)))
        assert set(zip(edges["source"], edges["target"])) == paper, name
        assert result.counts[name]["paper"] == len(paper) and result.counts[name]["pairs"] == n * (n - 1)
        pairs = edges["source"].to_numpy(int), edges["target"].to_numpy(int)
        assert np.allclose(edges["M"], reference[pairs], rtol=0, atol=1e-12), name
    pairs = result.edges["source"].to_numpy(int), result.edges["target"].to_numpy(int)
    assert np.array_equal(result.edges["count"], count[pairs])
    assert set(zip(*np.nonzero(significant))) == set(
        zip(*result.edges.query("significant")[["source", "target"]].to_numpy().T)
    )
    assert {(0, 1), (0, 2), (0, 3)} <= set(zip(*np.nonzero(significant)))
    default = influence_network(
        events, InfluenceConfig(block_cells=4 * n, start=0.0, end=(T - 1) * HOUR), accounts=np.arange(n)
    )
    assert set(zip(default.edges["source"], default.edges["target"])) == set(zip(*np.nonzero(significant)))


def test_the_paper_rule_can_keep_each_accounts_strongest_edges():
    X = planted_leader()
    full = influence_network(as_events(X), InfluenceConfig(rule="paper", start=0.0, end=599 * HOUR))
    capped = influence_network(as_events(X), InfluenceConfig(rule="paper", paper_top_k=3, start=0.0, end=599 * HOUR))
    assert capped.counts["all"]["paper"] == full.counts["all"]["paper"] and capped.counts["all"]["paper_top_k"] == 3
    # each account's three smallest M, plus the pairs with p <= alpha so the significant view survives the cap
    strongest = full.edges.sort_values("M").groupby("source").head(3)
    tested = full.edges[full.edges["p"] <= 0.05]
    expected = set(zip(strongest["source"], strongest["target"])) | set(zip(tested["source"], tested["target"]))
    assert set(zip(capped.edges["source"], capped.edges["target"])) == expected
    assert len(capped.edges) < len(full.edges) / 3
    assert set(capped.edges.query("significant")["target"]) == set(range(1, 6))


def test_it_averages_over_entity_types_and_excludes_search_terms():
    X = planted_leader()
    events = pd.concat([as_events(X, "hashtag:x"), as_events(X, "url:a.com/x"), as_events(~X, "hashtag:xinjiang")])
    config = InfluenceConfig(exclude_entities=("hashtag:xinjiang",), start=0.0, end=599 * HOUR)
    result = influence_network(events, config)
    assert set(result.type_edges) == {"hashtag", "url"}
    assert {"weight_hashtag", "weight_url"} <= set(result.edges.columns)
    assert len(result.edges) == 5


def test_the_full_model_finds_the_leader_in_D():
    X = planted_leader(n=8, T=400, followers=3).astype(int)
    model = InfluenceModel(InfluenceModelConfig(max_iter=200)).fit(X)
    assert model.top_influencers(1)[0]["account"] == 0
    assert np.allclose(model.D_.sum(1), 1.0)
    assert model.H_.shape == (16, 16)
    assert model.D_[1:4, 0].min() > 0.8


def planted_reposts(seed=1, groups=30, members=10, noise=5000):
    rng = np.random.default_rng(seed)
    posts = pd.DataFrame(
        {
            "account": rng.integers(0, 300, noise),
            "time": rng.uniform(0, 3 * 86400, noise).round(),
            "action": "repost",
            "target": rng.integers(0, 400, noise).astype(str),
        }
    )
    planted = [
        (a, round(t0 + rng.uniform(0, 5)), "repost", f"g{g}")
        for g, t0 in enumerate(rng.uniform(0, 3 * 86400, groups))
        for a in range(members)
    ]
    posts = pd.concat([posts, pd.DataFrame(planted, columns=posts.columns)], ignore_index=True)
    return posts.assign(post_id=np.arange(len(posts)))


def test_coretweet_edges_equal_the_toolkit(tmp_path):
    pytest.importorskip("coordination_network_toolkit")
    from coordination_network_toolkit.compute_networks import compute_co_retweet_parallel
    from coordination_network_toolkit.preprocess import preprocess_data

    posts = planted_reposts()
    db = str(tmp_path / "cnt.db")
    preprocess_data(
        db,
        (
            (str(p), str(a), str(a), t, None, "", s, [])
            for p, a, t, s in zip(posts.post_id, posts.account, posts.target, posts.time)
        ),
    )
    compute_co_retweet_parallel(db, 60, n_threads=1)
    theirs = pd.read_sql(
        "select user_1, user_2, weight from co_retweet_network where user_1 != user_2", sqlite3.connect(db)
    )
    ours = directed_weights(coaction_network(posts, CoactionConfig(actions=("repost",))).pairs["repost"], 60)
    ours = ours.astype({"user_1": str, "user_2": str})
    key = ["user_1", "user_2"]
    assert (
        ours.sort_values(key)
        .reset_index(drop=True)
        .equals(theirs.astype({"weight": ours["weight"].dtype}).sort_values(key).reset_index(drop=True))
    )


def test_coaction_weights_equal_a_brute_force_count_with_posts_on_several_targets():
    """weight(i→j) = i's posts with at least one post by j on the same target within the window, each post once,
    however many targets (hashtags) it shares with j: a merge of every pair of rows, then distinct posts."""
    rng = np.random.default_rng(4)
    base = pd.DataFrame(
        {
            "account": rng.integers(0, 25, 600),
            "time": rng.integers(0, 3000, 600).astype(float),
            "post_id": np.arange(600),
        }
    )
    posts = base.loc[base.index.repeat(rng.integers(1, 4, 600))].reset_index(drop=True)
    posts = posts.assign(action="hashtag", target=rng.integers(0, 15, len(posts)).astype(str))
    pairs = coaction_pairs(posts, "hashtag", (10.0, 60.0, 600.0))
    joined = posts.merge(posts, on="target", suffixes=("_1", "_2"))
    joined = joined[joined["account_1"] != joined["account_2"]]
    for window in (10.0, 60.0, 600.0):
        close = joined[(joined["time_1"] - joined["time_2"]).abs() <= window]
        brute = close.drop_duplicates(["post_id_1", "account_2"]).groupby(["account_1", "account_2"]).size()
        ours = directed_weights(pairs, window).set_index(["user_1", "user_2"])["weight"]
        assert len(brute) > 50 and ours.sort_index().to_dict() == brute.sort_index().to_dict()


def test_significance_keeps_the_planted_group_at_every_window():
    result = coaction_network(planted_reposts(), CoactionConfig(actions=("repost",)))
    assert set(result.sweep["significant_edges"]) == {45}
    assert (result.sweep["edges"].diff().dropna() >= 0).all()
    assert set(result.edges[["source", "target"]].to_numpy().ravel()) == set(range(10))


def test_empty_urls_create_no_edges():
    posts = pd.DataFrame(
        {
            "account": [1, 2, 3, 4],
            "time": [0, 1, 2, 3],
            "action": "url",
            "target": [None, "", np.nan, "a.com"],
            "post_id": [1, 2, 3, 4],
        }
    )
    result = coaction_network(posts, CoactionConfig(actions=("url",), rule="raw"))
    assert result.edges.empty and result.counts["raw"] == 0


def test_near_duplicate_texts_share_a_cluster_and_co_act():
    base = "the glorious harvest in the region proves the happy productive lives of the people"
    texts = [
        base,
        base + " !",
        base.replace("glorious", "great"),
        "something else entirely about cats and dogs here",
        "",
    ]
    labels = near_duplicate_clusters(texts, threshold=0.5)
    assert labels[0] == labels[1] and labels[3] not in (labels[0], -1) and labels[4] == -1
    posts = pd.DataFrame(
        {
            "account": [1, 2, 3],
            "time": [0, 5, 9],
            "action": "text",
            "target": None,
            "text": [base, base + " !", "unrelated words about the weather today"],
            "post_id": [1, 2, 3],
        }
    )
    edges = coaction_network(posts, CoactionConfig(actions=("text",), rule="raw", text_threshold=0.5)).edges
    assert list(zip(edges["source"], edges["target"])) == [(1, 2)]


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: InfluenceConfig(bin_seconds=0), "bin_seconds"),
        (lambda: InfluenceConfig(alpha=1.5), "alpha"),
        (lambda: InfluenceConfig(min_posts=0), "min_posts"),
        (lambda: InfluenceConfig(rule="loose"), "rule"),
        (lambda: CoactionConfig(window=-1), "window"),
        (lambda: CoactionConfig(actions=("like",)), "actions"),
        (lambda: InfluenceModelConfig(max_iter=0), "max_iter"),
    ],
)
def test_out_of_range_parameters_name_the_parameter_and_range(make, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        make()


def test_before_after_reports_the_change_per_entity_type(monkeypatch):
    """One layout, of both halves' edges together, places every account in both pictures: it is computed once
    (the halves' own layouts, the slowest step on the whole IRA file, are not computed to be thrown away)."""
    from ml.coordination import compare, network

    laid_out = []
    real = network.layout

    def counted(*args, **kwargs):
        laid_out.append(kwargs.get("nodes"))
        return real(*args, **kwargs)

    monkeypatch.setattr(network, "layout", counted)
    monkeypatch.setattr(compare, "layout", counted)
    X = planted_leader(T=800)
    X[1:6, 400:] = np.roll(X[0:1, 400:], 1, axis=1)  # after the event the followers copy exactly
    out = before_after(as_events(X), 400 * HOUR)
    assert out["change"]["hashtag"]["ratio"] > 1.1
    assert len(laid_out) == 1
    before = {n["id"]: (n["x"], n["y"]) for n in out["before"]["nodes"]}
    after = {n["id"]: (n["x"], n["y"]) for n in out["after"]["nodes"]}
    assert before[0] == after[0] and len(set(before.values())) > 1
    shared = set(before) & set(after)
    assert shared and all(before[n] == after[n] for n in shared)


def test_edge_evidence_lists_the_lagged_posts_behind_an_edge():
    X = planted_leader()
    evidence = edge_evidence(as_events(X), 0, 1, grid(X))
    assert len(evidence) > 20 and (evidence["lag_s"] == HOUR).all()


def test_it_normalises_urls_as_the_paper_does():
    assert normalise_url("https://www.news.xinhua.com/world/a.htm?utm=1") == "xinhua.com/world/a.htm"


def test_progress_rises_to_one_and_results_are_json():
    seen = []
    report = coaction_report(
        planted_reposts(), CoactionConfig(actions=("repost",)), on_progress=lambda f, s: seen.append(f)
    )
    json.dumps(report)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_it_runs_on_the_ira_sample():
    path = DATA / "ira" / "ira_dev_sample_en.csv"
    if not path.exists():
        pytest.skip(f"no IRA sample at {path}")
    from ml.coordination import events_from_posts

    posts = pd.read_csv(path, nrows=10000).rename(columns={"author_id": "account", "publish_date": "time"})
    events = events_from_posts(posts.assign(post_id=posts.index), post_id="post_id")
    result = influence_network(events, InfluenceConfig(min_posts=20))
    assert result.counts["all"]["significant"] <= result.counts["all"]["paper"]
    assert result.counts["all"]["pairs"] > 0


def test_it_runs_on_the_german_elections_co_shares():
    path = DATA / "coortweet" / "german_elections.csv.gz"
    if not path.exists():
        pytest.skip(f"no CooRTweet data at {path}")
    table = pd.read_csv(path, nrows=20000)
    posts = table.melt(
        id_vars=["account_id", "post_id", "timestamp"],
        value_vars=["url_id", "hashtag_id"],
        var_name="action",
        value_name="target",
    )
    posts = posts.rename(columns={"account_id": "account", "timestamp": "time"})
    posts["action"] = posts["action"].map({"url_id": "url", "hashtag_id": "hashtag"})
    result = coaction_network(posts, CoactionConfig(actions=("url", "hashtag")))
    assert result.counts["significant"] <= result.counts["raw"]


def test_near_duplicate_clusters_are_the_same_in_every_process():
    """Python salts str hashes per process (PYTHONHASHSEED): the MinHash shingles must not use them, or two
    workers cluster the same texts differently (the test above once failed under one salt in three)."""
    import os
    import subprocess
    import sys

    code = ("from ml.coordination.coaction import near_duplicate_clusters as c; "
            "print(list(c(['a b c d e f g h', 'a b c d e f g x', 'q r s t u v w'] * 20, threshold=0.5)), end='')")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": str(salt)}).stdout for salt in (1, 2, 3)}
    assert len(runs) == 1, runs


def test_edge_records_are_plain_json_values_with_none_for_missing():
    from ml.coordination import edge_records

    edges = pd.DataFrame({
        "source": np.array([np.int64(7), "b"], dtype=object), "target": ["x", None], "weight": [0.25, np.nan],
        "count": np.array([3, 4], dtype=np.int64), "kept": [True, False], "i": [0, 1], "j": [1, 0],
    })
    records = edge_records(edges)
    assert records == [{"source": 7, "target": "x", "weight": 0.25, "count": 3, "kept": True},
                       {"source": "b", "target": None, "weight": None, "count": 4, "kept": False}]
    assert [type(v) for v in records[0].values()] == [int, str, float, int, bool]
    assert json.loads(json.dumps(records)) == records  # no NumPy scalar or NaN left for JSON to trip on
    assert edge_records(edges.iloc[:0]) == []
