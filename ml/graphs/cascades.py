"""Propagation cascades (docs/methods.md §spread, paper §4.2): each source post with the reposts, quotes and replies
that
descend from it, as a tree whose edges weigh the time delay; and the cascade metrics of Goel et al.
(2016): size, depth, maximum breadth, structural virality, time to 50 % and 90 % of the final size.

The input is a posts table (one row per post): ``post`` (any unique id), ``platform_id``,
``account``, ``kind`` (post/repost/quote/reply), ``ref_post`` (the original's platform id, "" when
none), ``ref_account`` (the account the post was taken from, or None), ``time`` (seconds), and
optionally ``label``.

Parents: a quote or reply hangs under the post it names. A repost names only the source (Twitter's
retweet of a retweet points back at the original), so it hangs under the latest earlier node of its
``ref_account`` in the same cascade: the Twitter15/16 importer stores a tree edge's parent account
there, which rebuilds the given tree (depth > 1); ordinary retweets name the source's author, which
gives the depth-1 star of docs/methods.md §spread, paper §4.2. Rows whose source is not in the table are counted, not
drawn.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx

from ml.checks import ParamError

KINDS = ("repost", "quote", "reply")


@dataclass(frozen=True)
class CascadeConfig:
    kinds: tuple = KINDS       # which descendants count; the others are ignored
    min_size: int = 2          # cascades smaller than this (nodes, source included) are dropped
    quantiles: tuple = (0.5, 0.9)

    def __post_init__(self):
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ParamError(
                f"kinds must be some of {', '.join(KINDS)}, got {', '.join(self.kinds) or 'none'}", "kinds"
            )
        if self.min_size < 1:
            raise ParamError(f"min_size must be at least 1, got {self.min_size}", "min_size")
        if not all(0 < q <= 1 for q in self.quantiles):
            raise ParamError(f"quantiles must be in (0, 1], got {self.quantiles}", "quantiles")


@dataclass
class Cascade:
    root: object
    graph: nx.DiGraph  # parent -> child, edge "delay" (s); node "account", "time", "kind"
    label: object = None
    metrics: dict = field(default_factory=dict)


def _rows(posts) -> list[dict]:
    if hasattr(posts, "to_dict"):
        return posts.to_dict("records")
    keys = list(posts)
    return [dict(zip(keys, values)) for values in zip(*(posts[k] for k in keys))]


def build_cascades(posts, config: CascadeConfig = CascadeConfig(), *, on_progress=None) -> tuple[list[Cascade], dict]:
    """1. index the rows; 2. find each descendant's source (following quote/reply chains);
    3. order each cascade by time and attach every node to its parent; 4. measure it.
    Returns the cascades (largest first) and counts of what was left out."""
    rows = _rows(posts)
    by_platform = {r["platform_id"]: r for r in rows}
    members: dict[object, list[dict]] = defaultdict(list)
    orphans = 0
    for r in rows:
        if r["kind"] == "post" or not r.get("ref_post"):
            members[r["post"]].insert(0, r)
        elif r["kind"] in config.kinds:
            root = _source(r, by_platform)
            if root is None:
                orphans += 1
            else:
                members[root["post"]].append(r)
    cascades = []
    for i, (root_id, group) in enumerate(members.items()):
        if group[0]["post"] != root_id:  # the source row was not a post of its own: a quote chain's top
            continue
        if len(group) >= config.min_size:
            cascade = _tree(group, by_platform)
            cascade.metrics = cascade_metrics(cascade.graph, cascade.root, quantiles=config.quantiles)
            cascades.append(cascade)
        if on_progress and i % 500 == 0:
            on_progress(i / max(len(members), 1), "Building the cascades")
    cascades.sort(key=lambda c: (-c.metrics["size"], str(c.root)))
    return cascades, {"orphans": orphans, "sources": len(members), "kept": len(cascades)}


def _source(row: dict, by_platform: dict) -> dict | None:
    """The post at the top of a row's chain of references (None when the chain leaves the table)."""
    seen = set()
    while row.get("ref_post") and row["kind"] != "post":
        if row["post"] in seen:
            return None  # a cycle of references
        seen.add(row["post"])
        row = by_platform.get(row["ref_post"])
        if row is None:
            return None
    return row


def _tree(group: list[dict], by_platform: dict) -> Cascade:
    root, rest = group[0], sorted(group[1:], key=lambda r: (r["time"], str(r["post"])))
    graph = nx.DiGraph(platform_id=root["platform_id"])
    graph.add_node(root["post"], account=root["account"], time=float(root["time"]), kind=root["kind"])
    latest: dict[object, object] = {root["account"]: root["post"]}  # account -> its latest node so far
    for r in rest:
        parent = _parent(r, graph, latest, by_platform, root)
        delay = max(0.0, float(r["time"]) - graph.nodes[parent]["time"])
        graph.add_node(r["post"], account=r["account"], time=float(r["time"]), kind=r["kind"])
        graph.add_edge(parent, r["post"], delay=delay)
        latest[r["account"]] = r["post"]
    return Cascade(root=root["post"], graph=graph, label=root.get("label"))


def _parent(row: dict, graph: nx.DiGraph, latest: dict, by_platform: dict, root: dict):
    """Quote/reply: the post it names, when already in the tree. Repost: the latest earlier node of
    its ref_account (only earlier nodes are candidates, so no cycle can form); else the source."""
    if row["kind"] in ("quote", "reply"):
        named = by_platform.get(row["ref_post"])
        if named is not None and named["post"] in graph:
            return named["post"]
    account = row.get("ref_account")
    if account is not None and account in latest:
        return latest[account]
    return root["post"]


def structural_virality(graph: nx.DiGraph, root) -> float | None:
    """Mean shortest-path distance over all ordered pairs of distinct nodes of the (undirected) tree.

    In a tree each edge lies on the paths of s·(n−s) unordered pairs (s: the nodes below it), so
    ν = 2·Σ s(n−s) / (n(n−1)), linear in n. None for a single node (no pair)."""
    n = graph.number_of_nodes()
    if n < 2:
        return None
    below = _subtree_sizes(graph, root)
    total = sum(below[child] * (n - below[child]) for _, child in graph.edges())
    return 2.0 * total / (n * (n - 1))


def _subtree_sizes(graph: nx.DiGraph, root) -> dict:
    order = list(nx.dfs_preorder_nodes(graph, root))
    sizes = dict.fromkeys(order, 1)
    for node in reversed(order):
        for child in graph.successors(node):
            sizes[node] += sizes[child]
    return sizes


def cascade_metrics(graph: nx.DiGraph, root, *, quantiles=(0.5, 0.9)) -> dict:
    """size (nodes, source included), depth, max_breadth (most nodes on one level below the source),
    structural_virality, and t50_s / t90_s: seconds after the source until that share of its
    reposts (size − 1) had arrived (None for a lone source)."""
    levels = nx.single_source_shortest_path_length(graph, root)
    per_level = defaultdict(int)
    for depth in levels.values():
        per_level[depth] += 1
    start = graph.nodes[root]["time"]
    delays = sorted(graph.nodes[n]["time"] - start for n in graph.nodes if n != root)
    out = {
        "size": graph.number_of_nodes(),
        "depth": max(levels.values()),
        "max_breadth": max((c for d, c in per_level.items() if d > 0), default=0),
        "structural_virality": structural_virality(graph, root),
    }
    for q in quantiles:
        key = f"t{round(q * 100)}_s"
        out[key] = max(0.0, delays[math.ceil(q * len(delays)) - 1]) if delays else None
    return out


def tree_positions(graph: nx.DiGraph, root) -> dict:
    """{node: (seconds after the source, row)}: time on x; each leaf its own row in depth-first
    order, a parent at the mean row of its children, so subtrees stay together."""
    start = graph.nodes[root]["time"]
    rows: dict = {}
    order = list(nx.dfs_postorder_nodes(graph, root))
    next_row = 0
    for node in order:
        children = list(graph.successors(node))
        if children:
            rows[node] = sum(rows[c] for c in children) / len(children)
        else:
            rows[node], next_row = float(next_row), next_row + 1
    return {n: (graph.nodes[n]["time"] - start, rows[n]) for n in graph.nodes}
