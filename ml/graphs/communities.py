"""Communities: Louvain (python-louvain, BSD) with its modularity, and InfoMap as an optional extra.

InfoMap's Python package is AGPL-3.0, so Murmuration neither ships nor requires it: ``infomap``
imports it only when asked and otherwise raises ``InfomapUnavailable`` with a sentence to show.
"""
from __future__ import annotations

import networkx as nx

from ml.checks import ParamError

METHODS = ("louvain", "infomap")
INFOMAP_MISSING = (
    "InfoMap is not installed: its Python package is licensed AGPL-3.0, so Murmuration does not ship it. "
    "Use Louvain, or install it yourself (pip install -r requirements-extra.txt, which pins infomap) "
    "if that licence suits your deployment."
)


class InfomapUnavailable(RuntimeError):
    pass


def infomap_available() -> bool:
    try:
        import infomap  # noqa: F401  (only to tell whether it is installed)
    except ImportError:
        return False
    return True


def _undirected(graph: nx.Graph) -> nx.Graph:
    """Louvain wants one weight per pair: a directed graph's two directions add."""
    if not graph.is_directed():
        return graph
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes)
    for s, t, w in graph.edges(data="weight", default=1.0):
        old = simple.get_edge_data(s, t, {"weight": 0.0})["weight"]
        simple.add_edge(s, t, weight=old + w)
    return simple


def louvain(graph: nx.Graph, *, seed: int = 0, resolution: float = 1.0) -> tuple[dict, float]:
    """{node: community} (numbered by size, largest 0) and the partition's modularity."""
    import community as community_louvain

    simple = _undirected(graph)
    if simple.number_of_edges() == 0:
        return {n: i for i, n in enumerate(simple.nodes)}, 0.0
    partition = community_louvain.best_partition(simple, weight="weight", random_state=seed, resolution=resolution)
    partition = renumber(partition)
    return partition, float(community_louvain.modularity(partition, simple, weight="weight"))


def infomap(graph: nx.Graph, *, seed: int = 0) -> tuple[dict, float]:
    """InfoMap's modules (two-level, directed when the graph is), and their Louvain-style modularity
    on the undirected graph so the two methods compare. Raises ``InfomapUnavailable`` without it."""
    try:
        from infomap import Infomap
    except ImportError:
        raise InfomapUnavailable(INFOMAP_MISSING) from None
    import community as community_louvain

    index = {n: i for i, n in enumerate(graph.nodes)}
    im = Infomap(two_level=True, directed=graph.is_directed(), seed=seed + 1, silent=True)
    for s, t, w in graph.edges(data="weight", default=1.0):
        im.add_link(index[s], index[t], float(w))
    im.run()
    nodes = list(graph.nodes)
    partition = renumber({nodes[node_id]: module for node_id, module in im.get_modules().items()})
    partition.update(
        {n: max(partition.values(), default=-1) + 1 + i for i, n in enumerate(n for n in nodes if n not in partition)}
    )
    simple = _undirected(graph)
    modularity = community_louvain.modularity(partition, simple, weight="weight") if simple.number_of_edges() else 0.0
    return partition, float(modularity)


def detect(graph: nx.Graph, method: str = "louvain", *, seed: int = 0) -> tuple[dict, float]:
    if method == "louvain":
        return louvain(graph, seed=seed)
    if method == "infomap":
        return infomap(graph, seed=seed)
    raise ParamError(f"method must be one of {', '.join(METHODS)}, got {method!r}", "method")


def renumber(partition: dict) -> dict:
    """Communities numbered by size (largest 0), ties by their first member: stable across runs."""
    sizes: dict = {}
    for c in partition.values():
        sizes[c] = sizes.get(c, 0) + 1
    order = sorted(sizes, key=lambda c: (-sizes[c], c))
    rank = {c: i for i, c in enumerate(order)}
    return {n: rank[c] for n, c in partition.items()}
