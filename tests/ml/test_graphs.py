"""ml.graphs on hand-checked data: a five-node cascade worked out on paper, a real Twitter15 tree
rebuilt from what the importer stores, planted communities, bursts, the two networks, the layouts,
and InfoMap's absence (its licence keeps it out of the product)."""
from __future__ import annotations

import itertools
import math
import re
import sys
import zipfile
from pathlib import Path

import networkx as nx
import pytest

from ml.graphs import (
    INFOMAP_MISSING,
    BurstConfig,
    CascadeConfig,
    HashtagConfig,
    InfomapUnavailable,
    LayoutConfig,
    build_cascades,
    cascade_figure,
    cascade_time_axes,
    detect,
    fruchterman_reingold,
    hashtag_network,
    layout,
    log_time,
    louvain,
    network_report,
    propagation_report,
    retweet_network,
    structural_virality,
    timeline,
)

T0 = 1_400_000_000.0
ROOT = Path(__file__).resolve().parents[2]


def table(rows):
    keys = ("post", "platform_id", "account", "kind", "ref_post", "ref_account", "time", "label")
    return {k: [r[i] for r in rows] for i, k in enumerate(keys)}


# A (source, t=0) <- B (60 s) <- D (180 s) <- E (240 s); A <- C (120 s). Levels 1, 2, 1, 1.
# Pairwise distances: AB 1, AC 1, AD 2, AE 3, BC 2, BD 1, BE 2, CD 3, CE 4, DE 1: sum 20 over 10 pairs.
HAND = table(
    [
        (1, "s1", "A", "post", "", None, T0, "false"),
        (2, "s1/B", "B", "repost", "s1", "A", T0 + 60, "false"),
        (3, "s1/C", "C", "repost", "s1", "A", T0 + 120, "false"),
        (4, "s1/D", "D", "repost", "s1", "B", T0 + 180, "false"),
        (5, "s1/E", "E", "repost", "s1", "D", T0 + 240, "false"),
    ]
)


def test_it_measures_a_hand_checked_cascade():
    (cascade,), counts = build_cascades(HAND)
    assert set(cascade.graph.edges()) == {(1, 2), (1, 3), (2, 4), (4, 5)}
    assert cascade.graph.edges[2, 4]["delay"] == 120.0 and cascade.label == "false"
    assert cascade.metrics == {
        "size": 5,
        "depth": 3,
        "max_breadth": 2,
        "structural_virality": 2.0,
        "t50_s": 120.0,
        "t90_s": 240.0,
    }
    assert counts == {"orphans": 0, "sources": 1, "kept": 1}


def test_structural_virality_of_a_star_and_a_chain():
    star = nx.DiGraph([(0, i) for i in range(1, 5)])
    chain = nx.DiGraph([(0, 1), (1, 2)])
    assert structural_virality(star, 0) == pytest.approx(2 * 4 / 5)  # 2(n-1)/n
    assert structural_virality(chain, 0) == pytest.approx(4 / 3)
    assert structural_virality(nx.DiGraph([(0, 0)]).subgraph([0]), 0) is None


def test_plain_retweets_give_a_star_and_quotes_and_replies_hang_under_what_they_name():
    posts = table(
        [
            (1, "s", "A", "post", "", None, T0, None),
            (2, "r1", "B", "repost", "s", "A", T0 + 5, None),
            (3, "q1", "C", "quote", "s", "A", T0 + 9, None),
            (4, "rp", "D", "reply", "q1", "C", T0 + 20, None),
            (5, "lost", "E", "repost", "not-here", "Z", T0 + 1, None),
        ]
    )
    (cascade,), counts = build_cascades(posts)
    assert set(cascade.graph.edges()) == {(1, 2), (1, 3), (3, 4)} and counts["orphans"] == 1
    only_reposts, _ = build_cascades(posts, CascadeConfig(kinds=("repost",)))
    assert only_reposts[0].metrics["size"] == 2


def test_it_rebuilds_a_real_twitter15_tree_from_what_the_importer_stores(shared_data):
    """The importer keeps a repost's parent as its ref_account; the rebuilt tree must be the file's."""
    source = "576513463738109954"
    with zipfile.ZipFile(shared_data / "twitter15" / "twitter15.zip") as archive:
        lines = archive.read(f"twitter15/tree/{source}.txt").decode().split("\n")
    edge = re.compile(r"\['([^']*)', '([^']*)', '([^']*)'\]->\['([^']*)', '([^']*)', '([^']*)'\]")
    given, rows = nx.DiGraph(), []
    for i, (pu, pt, pd_, cu, ct, cd) in enumerate(m.groups() for m in map(edge.match, lines) if m):
        if pu == "ROOT":
            rows.append((cu, source, cu, "post", "", None, T0 + 60 * float(cd), "false"))
        else:
            rows.append((cu, f"{source}/{cu}", cu, "repost", source, pu, T0 + 60 * float(cd), "false"))
            given.add_edge(pu, cu)
    (cascade,), _ = build_cascades(table(rows))
    assert set(cascade.graph.edges()) == set(given.edges())
    undirected = given.to_undirected()
    pairs = list(itertools.combinations(undirected.nodes, 2))
    brute = sum(nx.shortest_path_length(undirected, a, b) for a, b in pairs) / len(pairs)
    assert cascade.metrics["structural_virality"] == pytest.approx(brute)
    assert cascade.metrics["depth"] == max(nx.single_source_shortest_path_length(given, cascade.root).values()) >= 2
    assert cascade.metrics["size"] == len(rows) == given.number_of_nodes()


def test_the_propagation_report_splits_the_metrics_by_label():
    rows = list(zip(*HAND.values()))
    star = [(10, "s2", "F", "post", "", None, T0, "true")] + [
        (10 + i, f"s2/{i}", f"G{i}", "repost", "s2", "F", T0 + i, "true") for i in range(1, 6)
    ]
    report = propagation_report(table(rows + star), drawings=5)
    assert report["labels"] == ["false", "true"]
    by_label = {r["label"]: r for r in report["by_label"]}
    assert by_label["false"]["depth"] == 3 and by_label["true"]["depth"] == 1
    assert by_label["true"]["structural_virality"] == pytest.approx(2 * 5 / 6)
    box = report["distributions"]["structural_virality"]["data"]
    assert [t["name"] for t in box] == ["false", "true"] and box[0]["y"] == [2.0]
    assert {d["label"] for d in report["drawings"]} == {"false", "true"}
    assert report["drawings"][0]["figure"]["data"][0]["type"] == "scattergl"


def test_the_cascade_view_has_a_log_time_axis_naming_real_delays():
    """log10(1 + minutes): the hand-checked cascade's reposts at 1, 2, 3, 4 minutes spread out between
    the "1 min" and "10 min" ticks instead of piling up at the start of an hours axis."""
    (cascade,), _ = build_cascades(HAND)
    figure = cascade_figure(cascade.graph, cascade.root)
    axes = cascade_time_axes()
    assert figure["layout"]["xaxis"] == axes["linear"] and figure["data"][1]["x"] == [0.0, 0.0167, 0.0333, 0.05, 0.0667]
    ticks = dict(zip(axes["log"]["ticktext"], axes["log"]["tickvals"]))
    assert (
        ticks["0"] == 0
        and ticks["1 min"] == pytest.approx(math.log10(2), abs=1e-4)
        and ticks["1 h"] == pytest.approx(math.log10(61), abs=1e-4)
    )
    logged = [log_time(h) for h in figure["data"][1]["x"]]
    assert logged == pytest.approx([0, math.log10(2), math.log10(3), math.log10(4), math.log10(5)], abs=2e-3)
    assert ticks["1 min"] <= logged[1] < logged[-1] < ticks["10 min"]
    assert log_time(None) is None and log_time(-1.0) == 0.0  # a gap stays a gap; clock skew stays at the source


def planted(groups=4, size=25, seed=1) -> nx.Graph:
    return nx.planted_partition_graph(groups, size, 0.5, 0.01, seed=seed)


def test_louvain_finds_planted_communities():
    graph = planted()
    partition, modularity = louvain(graph)
    found = {frozenset(n for n, c in partition.items() if c == k) for k in set(partition.values())}
    truth = {frozenset(range(i * 25, (i + 1) * 25)) for i in range(4)}
    assert found == truth and modularity > 0.6


def test_a_large_network_goes_to_the_compiled_louvain_and_finds_the_same_communities(monkeypatch):
    import community as community_louvain

    from ml.graphs import communities

    graph = nx.planted_partition_graph(6, 120, 0.3, 0.004, seed=3)  # 720 nodes, about 13,500 pairs
    for s, t in graph.edges:
        graph[s][t]["weight"] = 1.0 + (s + t) % 3
    graph.add_edge(5, 5, weight=2.0)  # a self-loop counts inside its community
    monkeypatch.setattr(communities, "FAST_LOUVAIN_EDGES", graph.number_of_edges())
    calls = []
    compiled = communities.louvain_compiled
    monkeypatch.setattr(communities, "louvain_compiled", lambda *a, **k: calls.append(1) or compiled(*a, **k))
    partition, modularity = communities.louvain(graph, seed=4)
    assert calls == [1]
    truth = {frozenset(range(i * 120, (i + 1) * 120)) for i in range(6)}
    assert groups(partition) == truth
    assert modularity == pytest.approx(community_louvain.modularity(partition, graph, weight="weight"), abs=1e-12)
    assert communities.louvain(graph, seed=4) == (partition, modularity)  # one thread, seeded: it repeats
    monkeypatch.setattr(communities, "FAST_LOUVAIN_EDGES", graph.number_of_edges() + 1)
    assert groups(communities.louvain(graph, seed=4)[0]) == truth and calls == [1, 1]  # python-louvain below


def groups(partition: dict) -> set:
    return {frozenset(n for n, c in partition.items() if c == k) for k in set(partition.values())}


def test_modularity_is_python_louvains_on_a_weighted_graph_with_self_loops():
    import community as community_louvain

    from ml.graphs.communities import modularity

    graph = nx.gnm_random_graph(200, 1500, seed=2)
    for s, t in graph.edges:
        graph[s][t]["weight"] = 0.5 + (3 * s + t) % 7
    graph.add_edge(7, 7, weight=4.0)
    partition = {n: n % 5 for n in graph.nodes}
    expected = community_louvain.modularity(partition, graph, weight="weight")
    assert modularity(partition, graph) == pytest.approx(expected, abs=1e-12) and expected != 0.0


def test_infomap_absent_is_a_clear_message_not_a_crash(monkeypatch):
    monkeypatch.setitem(sys.modules, "infomap", None)  # absent even where someone installed it
    with pytest.raises(InfomapUnavailable, match="AGPL"):
        detect(planted(), "infomap")
    assert "pip install -r requirements-extra.txt" in INFOMAP_MISSING
    with open(ROOT / "requirements-extra.txt") as extra, open(ROOT / "requirements.txt") as main:
        assert (
            re.search(r"^infomap==[\d.]+$", extra.read(), re.M) and "infomap" not in main.read()
        )  # pinned, and only there
    with pytest.raises(ValueError, match="method must be one of"):
        detect(planted(), "walktrap")


def test_infomap_finds_planted_communities_when_installed():
    """Runs where someone installed the AGPL extra (pip install -r requirements-extra.txt)."""
    pytest.importorskip(
        "infomap", reason="InfoMap is an optional AGPL-3.0 extra: pip install -r requirements-extra.txt"
    )
    graph = planted()
    partition, modularity = detect(graph, "infomap")
    found = {frozenset(n for n, c in partition.items() if c == k) for k in set(partition.values())}
    assert found == {frozenset(range(i * 25, (i + 1) * 25)) for i in range(4)} and modularity > 0.6
    directed = nx.DiGraph([(a, b) for a, b in graph.edges()] + [(b, a) for a, b in graph.edges()])
    assert len(set(detect(directed, "infomap")[0].values())) == 4


def test_the_retweet_network_counts_amplification_and_drops_self_retweets():
    graph = retweet_network(["b", "b", "c", "a", "d"], ["a", "a", "a", "a", None])
    assert dict(graph.edges) == {("b", "a"): {"weight": 2}, ("c", "a"): {"weight": 1}}
    assert graph.nodes["a"]["in_weight"] == 3 and graph.nodes["b"]["out_weight"] == 2
    # capped before the graph is built: a (strength 3), then b of the three at 2 (ties by id)
    capped = retweet_network(["b", "b", "c", "a", "d", "e"], ["a", "a", "a", "a", "c", "d"], max_nodes=2)
    assert dict(capped.edges) == {("b", "a"): {"weight": 2}} and capped.graph["nodes_total"] == 5
    assert capped.nodes["a"]["in_weight"] == 3  # c's retweet of a still counts, though c is not drawn


def test_the_hashtag_network_counts_posts_and_prunes():
    post = [1, 1, 1, 2, 2, 3, 3, 4, 5]
    tags = ["x", "y", "y", "x", "y", "x", "z", "rare", "x"]
    graph, info = hashtag_network(post, tags, HashtagConfig(min_count=2))
    assert dict(graph.nodes(data="count")) == {"x": 4, "y": 2}
    assert graph.edges["x", "y"]["weight"] == 2 and info["hashtags"] == 4
    top, _ = hashtag_network(post, tags, HashtagConfig(min_count=1, top_k=2, exclude=("#Y",)))
    assert set(top.nodes) == {"x", "z"} or set(top.nodes) == {"x", "rare"}
    spam, info = hashtag_network([1, 1, 1], ["a", "b", "c"], HashtagConfig(min_count=1, max_tags_per_post=2))
    assert spam.number_of_nodes() == 0 and info["spam_posts"] == 1


def test_it_flags_a_burst_over_the_rolling_baseline():
    times = [T0 + 3600 * h for h in range(48)] + [T0 + 3600 * 40 + s for s in range(20)]
    line = timeline([t * 1e9 for t in times], ["false"] * 30 + ["true"] * 38, BurstConfig(freq="hour", window=24))
    assert len(line["bins"]) == 48 and sum(line["total"]) == 68
    assert [b["time"][:13] for b in line["bursts"]] == [line["bins"][40][:13]]
    assert set(line["series"]) == {"false", "true"}
    with pytest.raises(ValueError, match="freq must be one of"):
        BurstConfig(freq="week")


def test_large_graphs_are_laid_out_by_community_and_small_ones_by_spring():
    graph = planted(groups=5, size=40)
    partition, _ = louvain(graph)
    positions, how = layout(graph, partition, LayoutConfig(spring_max_nodes=50, community_spring_max=20))
    assert how == "community" and len(positions) == 200
    assert all(abs(x) < 3 and abs(y) < 3 for x, y in positions.values())
    assert layout(nx.path_graph(5))[1] == "spring"


def test_fruchterman_reingold_pulls_each_planted_community_together():
    graph = planted(groups=2, size=30)
    pos = fruchterman_reingold(graph, seed=3)
    assert pos == fruchterman_reingold(graph, seed=3) and max(
        max(abs(x), abs(y)) for x, y in pos.values()
    ) == pytest.approx(1.0)
    groups = [[pos[n] for n in range(i * 30, (i + 1) * 30)] for i in range(2)]
    centres = [tuple(sum(c) / 30 for c in zip(*g)) for g in groups]
    spread = max(math.dist(p, centres[i]) for i, g in enumerate(groups) for p in g)
    assert math.dist(*centres) > spread  # the two camps do not overlap
    assert fruchterman_reingold(nx.empty_graph(1)) == {0: (0.0, 0.0)}


def test_a_large_graph_without_communities_is_laid_out_by_component():
    graph = nx.disjoint_union_all([nx.path_graph(8) for _ in range(5)])
    positions, how = layout(graph, None, LayoutConfig(spring_max_nodes=10))
    assert how == "community" and len(positions) == 40
    # many communities (more than spring_max_nodes): the quotient is a sunflower, not an O(n²) FR
    positions, how = layout(graph, {n: n for n in graph}, LayoutConfig(spring_max_nodes=10))
    assert how == "community" and len(set(positions.values())) == 40


def test_the_network_report_keeps_the_giant_component_on_request():
    graph = planted()
    graph.add_edge("lone1", "lone2", weight=1)
    report = network_report(graph, giant_only=True, edges_cap=10)
    assert len(report["nodes"]) == 100 and len(report["edges"]) == 10 and report["edges_total"] > 10
    assert report["communities"][0]["size"] == 25 and report["layout"] == "spring" and report["modularity"] > 0.6
