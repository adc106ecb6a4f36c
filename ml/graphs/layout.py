"""Force-directed positions computed in the job, so the page only draws (seed 004 §5.2).

Up to ``spring_max_nodes`` nodes: Fruchterman–Reingold (networkx ``spring_layout``) on the whole
graph. Above: aggregation by community, the fast method the issue asks for: FR on the graph of
communities (one node per community, edges summed), then each community laid out on its own
(FR while small, a sunflower disc when large) inside a circle sized by its member count. Each step
is FR on at most a few hundred nodes, so 5,000 nodes take seconds instead of minutes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np


@dataclass(frozen=True)
class LayoutConfig:
    spring_max_nodes: int = 1_500
    community_spring_max: int = 300
    iterations: int = 50
    seed: int = 0


def layout(graph: nx.Graph, partition: dict | None = None, config: LayoutConfig = LayoutConfig()) -> tuple[dict, str]:
    """({node: (x, y)} in about [-1, 1]², the method used)."""
    simple = graph.to_undirected(as_view=False) if graph.is_directed() else graph
    n = simple.number_of_nodes()
    if n == 0:
        return {}, "none"
    if n <= config.spring_max_nodes or not partition:
        pos = nx.spring_layout(simple, weight="weight", seed=config.seed, iterations=config.iterations)
        return {k: (float(x), float(y)) for k, (x, y) in pos.items()}, "spring"
    return _by_community(simple, partition, config), "community"


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
    centres = nx.spring_layout(quotient, weight="weight", seed=config.seed, iterations=config.iterations, scale=1.0)
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
        return nx.spring_layout(sub, weight="weight", seed=config.seed, iterations=config.iterations, scale=1.0)
    # A sunflower (Vogel) disc, the strongest nodes in the middle: even density, no overlap, O(n).
    ranked = sorted(nodes, key=lambda n: -sub.degree(n, weight="weight"))
    k = np.arange(len(ranked))
    r, theta = np.sqrt((k + 0.5) / len(ranked)), k * math.pi * (3 - math.sqrt(5))
    return {n: (float(a), float(b)) for n, a, b in zip(ranked, r * np.cos(theta), r * np.sin(theta))}
