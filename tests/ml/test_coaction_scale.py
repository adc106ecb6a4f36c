"""Co-action at scale (issue 15): the tallied network equals the one built from every pair in memory, and the
Dask path equals the single-process one."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.coordination import CoactionConfig, coaction_network
from ml.coordination.pair_tally import Tally
from tests.ml import coaction_reference as reference


def mixed_posts(n_posts=3000, n_accounts=80, seed=0, text=False):
    """Noise over four actions, posts with several hashtags (one post id, several rows), a planted group that
    reposts and hashtags within seconds, ties in time and a few empty targets."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({
        "account": rng.integers(0, n_accounts, n_posts).astype(str),
        "time": rng.integers(0, 40_000, n_posts).astype(float),
        "post_id": np.arange(n_posts),
        "action": rng.choice(["repost", "url", "hashtag", "mention"], n_posts),
    })
    several = base["action"].eq("hashtag").to_numpy()
    posts = base.loc[base.index.repeat(np.where(several, rng.integers(1, 4, n_posts), 1))].reset_index(drop=True)
    posts["target"] = rng.integers(0, 40, len(posts)).astype(str)
    posts.loc[rng.random(len(posts)) < 0.01, "target"] = " "
    planted = [{"account": f"g{m}", "time": float(t0 + rng.integers(0, 8)), "post_id": n_posts + 100 * k + m,
                "action": action, "target": f"p{k}"}
               for k, (t0, action) in enumerate(zip(rng.integers(0, 40_000, 30), rng.choice(["repost", "hashtag"], 30)))
               for m in range(8)]
    posts = pd.concat([posts, pd.DataFrame(planted)], ignore_index=True)
    if text:
        words = np.array("the quick brown fox jumps over a lazy dog near our old barn today".split())
        posts = posts.assign(text=[" ".join(words[rng.integers(0, 4, 1)[0]:][:9]) for _ in range(len(posts))])
    return posts


def assert_same_network(ours, theirs):
    reference_edges = theirs.edges.astype({c: float for c in ("p", "q") if c in theirs.edges})
    pd.testing.assert_frame_equal(ours.edges, reference_edges)
    pd.testing.assert_frame_equal(ours.sweep, theirs.sweep)
    assert ours.counts == theirs.counts and ours.action_counts == theirs.action_counts
    assert ours.action_edges.keys() == theirs.action_edges.keys()
    for action in ours.action_edges:
        pd.testing.assert_frame_equal(ours.action_edges[action], theirs.action_edges[action])


CASES = [
    ("significant", 60.0, (1.0, 10.0, 60.0, 600.0, 3600.0)),
    ("raw", 600.0, (10.0, 600.0)),
    ("raw", 3600.0, (1.0, 3600.0)),  # the edges at the widest window
    ("significant", 30.0, (5.0, 7200.0)),  # a window outside the sweep
]


@pytest.mark.parametrize("rule,window,windows", CASES)
def test_the_tallied_network_equals_the_one_from_every_pair(rule, window, windows):
    posts = mixed_posts(seed=int(window))
    config = CoactionConfig(actions=("repost", "url", "hashtag", "mention"), window=window, windows=windows, rule=rule,
                            alpha=0.2)
    ours = coaction_network(posts, config)
    theirs = reference.coaction_network(posts, reference.CoactionConfig(**config.__dict__))
    assert len(ours.edges) > 20 and ours.counts["raw"] > 50
    assert_same_network(ours, theirs)


def test_it_equals_the_reference_with_near_duplicate_text_and_minimum_weights():
    posts = mixed_posts(n_posts=1500, seed=3, text=True)
    posts.loc[posts["action"] == "mention", "action"] = "text"
    kwargs = {"actions": ("repost", "hashtag", "text"), "rule": "raw", "min_weight": 2, "text_threshold": 0.5}
    ours = coaction_network(posts, CoactionConfig(**kwargs))
    theirs = reference.coaction_network(posts, reference.CoactionConfig(**kwargs))
    assert (ours.edges["weight_text"] > 0).any()
    assert_same_network(ours, theirs)


def test_the_pairs_are_still_there_when_asked_for():
    posts = mixed_posts(n_posts=800, seed=5)
    result = coaction_network(posts, CoactionConfig(actions=("hashtag", "url")))
    theirs = reference.coaction_network(posts, reference.CoactionConfig(actions=("hashtag", "url")))
    assert list(result.pairs) == ["hashtag", "url"]
    for action in result.pairs:
        ours, old = result.pairs[action], theirs.pairs[action]
        assert np.array_equal(ours.first, old.first) and np.array_equal(ours.density, old.density)
    with pytest.raises(KeyError):
        result.pairs["repost"]


def test_a_tally_sums_counts_across_batches_and_folds():
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 500, 20_000)
    tally = Tally(budget=3000)
    for part in np.array_split(keys, 13):
        tally.add(part)
    tally.add(np.array([7, 7]), np.array([5, 1]))
    tally.fold()
    expected = np.bincount(np.r_[keys, [7] * 6], minlength=500)
    assert np.array_equal(tally.keys, np.flatnonzero(expected)) and np.array_equal(tally.counts, expected[expected > 0])


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


def test_the_dask_path_gives_the_single_process_edges(dask_client):
    posts = mixed_posts(n_posts=4000, seed=11)
    config = CoactionConfig(actions=("repost", "url", "hashtag", "mention"), rule="raw", window=600.0)
    single = coaction_network(posts, config)
    scaled = coaction_network(posts, config, dask_threshold=1000, dask_client=dask_client)
    assert len(dask_client.scheduler_info()["workers"]) == 2
    assert scaled.engine == "dask" and single.engine == "local"
    assert len(single.edges) > 100
    pd.testing.assert_frame_equal(scaled.edges, single.edges)
    pd.testing.assert_frame_equal(scaled.sweep, single.sweep)
    assert scaled.counts == single.counts and scaled.action_counts == single.action_counts


def test_below_the_threshold_it_stays_in_process():
    posts = mixed_posts(n_posts=500, seed=2)
    result = coaction_network(posts, CoactionConfig(actions=("repost",)), dask_threshold=10_000, dask_client="unused")
    assert result.engine == "local"
