"""Force-directed positions computed in the job, so the page only draws (docs/methods.md §spread, paper §5.2).

Up to ``spring_max_nodes`` nodes: Fruchterman–Reingold on the whole graph. Above: aggregation by
community, the fast method the issue asks for: FR on the graph of communities (one node per
community, edges summed), then each community laid out on its own (FR while small, a sunflower disc
when large) inside a circle sized by its member count. Each step is FR on at most a few hundred
nodes, so 5,000 nodes take seconds instead of minutes.

FR is our own vectorised numpy loop (the algorithm of networkx's dense ``spring_layout``): from 500
nodes on networkx switches to an energy minimiser or a per-node Python loop, 3–4× slower at 1,000
nodes (7.4 s against 1.7 s for a 950-node tree on the 2-core sandbox under load).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np


@dataclass(frozen=True)
class LayoutConfig:
    spring_max_nodes: int = 1_000
    community_spring_max: int = 300
    iterations: int = 50
    seed: int = 0


def layout(graph: nx.Graph, partition: dict | None = None, config: LayoutConfig = LayoutConfig()) -> tuple[dict, str]:
    """({node: (x, y)} in about [-1, 1]², the method used)."""
    simple = graph.to_undirected(as_view=False) if graph.is_directed() else graph
    n = simple.number_of_nodes()
    if n == 0:
        return {}, "none"
    if n <= config.spring_max_nodes:
        return fruchterman_reingold(simple, iterations=config.iterations, seed=config.seed), "spring"
    if not partition:  # FR is O(n²) in memory: aggregate by connected component instead
        partition = {node: i for i, part in enumerate(nx.connected_components(simple)) for node in part}
    return _by_community(simple, partition, config), "community"


def layout_stored(node_ids: list, edges, communities: dict | None = None,
                  config: LayoutConfig = LayoutConfig()) -> tuple[dict, str]:
    """``layout`` of a network stored without positions (rows written before layouts were stored, or by hand):
    node ids, (source, target, weight) triples (both directions of a pair add up; ends that are not nodes are
    skipped) and the stored {node: community}, whose groups the large-network layout keeps together."""
    graph = nx.Graph()
    graph.add_nodes_from(node_ids)
    for source, target, weight in edges:
        if source in graph and target in graph and source != target:
            old = graph.get_edge_data(source, target, {"weight": 0.0})["weight"]
            graph.add_edge(source, target, weight=old + float(weight or 0.0))
    return layout(graph, communities or None, config)


def fruchterman_reingold(graph: nx.Graph, *, iterations: int = 50, seed: int = 0) -> dict:
    """{node: (x, y)} centred in [-1, 1]²: repulsion k²/d between every pair, attraction w·d²/k
    along edges (k = √(1/n)), each step capped by a temperature cooling linearly from 0.1 to 0.
    O(n²) memory and time per step: for the whole graph up to ``spring_max_nodes`` only."""
    nodes = list(graph.nodes)
    n = len(nodes)
    if n <= 1:
        return {node: (0.0, 0.0) for node in nodes}
    weights = nx.to_numpy_array(graph, nodelist=nodes, weight="weight", dtype=np.float32)
    weights = np.maximum(weights, weights.T)
    x, y = np.random.default_rng(seed).random((2, n)).astype(np.float32)
    k, temperature = math.sqrt(1.0 / n), 0.1
    # float32 and four n×n buffers reused in place: at 1,000+ nodes each step is memory traffic (2.8 s for the
    # float64 loop with fresh arrays, 0.4 s this way, at 1,086 nodes).
    dx, dy, force = (np.empty((n, n), np.float32) for _ in range(3))
    attraction = np.empty((n, n), np.float32)
    for _ in range(iterations):
        np.subtract(x[:, None], x[None, :], out=dx)
        np.subtract(y[:, None], y[None, :], out=dy)
        np.multiply(dx, dx, out=force)
        np.multiply(dy, dy, out=attraction)
        force += attraction
        np.maximum(force, 1e-4, out=force)  # the squared distance, at least 0.01²
        np.sqrt(force, out=attraction)  # (np.hypot is three times slower)
        attraction *= weights
        attraction *= 1.0 / k
        np.divide(k * k, force, out=force)
        force -= attraction  # per unit of (dx, dy): repulsion k²/d² less attraction w·d/k
        fx, fy = np.einsum("ij,ij->i", dx, force), np.einsum("ij,ij->i", dy, force)
        length = np.hypot(fx, fy)
        length[length < 0.01] = 0.1
        x += fx * (temperature / length)
        y += fy * (temperature / length)
        temperature -= 0.1 / (iterations + 1)
    x, y = x - x.mean(), y - y.mean()
    scale = max(np.abs(x).max(), np.abs(y).max(), 1e-12)
    return {node: (float(a / scale), float(b / scale)) for node, a, b in zip(nodes, x, y)}


def _by_community(graph: nx.Graph, partition: dict, config: LayoutConfig) -> dict:
    members: dict = {}
    for node in graph.nodes:
        members.setdefault(partition.get(node, -1), []).append(node)
    quotient = nx.Graph()
    quotient.add_nodes_from(members)
    for s, t, w in graph.edges(data="weight", default=1.0):
        a, b = partition.get(s, -1), partition.get(t, -1)
        if a != b:
            quotient.add_edge(a, b, weight=quotient.get_edge_data(a, b, {"weight": 0.0})["weight"] + w)
    if quotient.number_of_nodes() <= config.spring_max_nodes:
        centres = fruchterman_reingold(quotient, iterations=config.iterations, seed=config.seed)
    else:  # thousands of communities (mostly lone nodes): the largest in the middle
        centres = _sunflower(sorted(members, key=lambda c: (-len(members[c]), str(c))))
    total = graph.number_of_nodes()
    positions = {}
    for community, nodes in members.items():
        radius = 0.9 * math.sqrt(len(nodes) / total)  # discs' areas in proportion to their members
        cx, cy = centres[community]
        for node, (x, y) in _inner(graph.subgraph(nodes), nodes, config).items():
            positions[node] = (float(cx + radius * x), float(cy + radius * y))
    return positions


def _inner(sub: nx.Graph, nodes: list, config: LayoutConfig) -> dict:
    if len(nodes) == 1:
        return {nodes[0]: (0.0, 0.0)}
    if len(nodes) <= config.community_spring_max:
        return fruchterman_reingold(sub, iterations=config.iterations, seed=config.seed)
    return _sunflower(sorted(nodes, key=lambda n: -sub.degree(n, weight="weight")))


def _sunflower(ranked: list) -> dict:
    """A sunflower (Vogel) disc of radius 1, the first in the middle: even density, no overlap, O(n)."""
    k = np.arange(len(ranked))
    r, theta = np.sqrt((k + 0.5) / len(ranked)), k * math.pi * (3 - math.sqrt(5))
    return {n: (float(a), float(b)) for n, a, b in zip(ranked, r * np.cos(theta), r * np.sin(theta))}
