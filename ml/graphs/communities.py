"""Communities: Louvain with its modularity, and InfoMap as an optional extra.

Louvain is python-louvain (BSD) on networks of up to ``FAST_LOUVAIN_EDGES`` pairs and NetworKit's PLM (MIT; the
same Louvain method, compiled, with its refinement phase) above: on an influence network of the whole IRA file
(1,192 accounts, 67,306 pairs) python-louvain took 1.4 s and PLM 0.08 s, modularity 0.406 against 0.407
(docs/benchmarks.md, Coordination). PLM runs on one thread with the caller's
seed, so a run repeats exactly; its module (and the scikit-learn it imports) loads only when a network is large.

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
    weights: dict = {}
    for s, t, w in graph.edges(data="weight", default=1.0):
        key = (t, s) if (t, s) in weights else (s, t)
        weights[key] = weights.get(key, 0.0) + w
    simple = nx.Graph()
    simple.add_nodes_from(graph.nodes)
    simple.add_weighted_edges_from((s, t, w) for (s, t), w in weights.items())  # pairs in first-seen order, as before
    return simple


FAST_LOUVAIN_EDGES = 20_000


def louvain(graph: nx.Graph, *, seed: int = 0, resolution: float = 1.0) -> tuple[dict, float]:
    """{node: community} (numbered by size, largest 0) and the partition's modularity."""
    import community as community_louvain

    simple = _undirected(graph)
    if simple.number_of_edges() == 0:
        return {n: i for i, n in enumerate(simple.nodes)}, 0.0
    if simple.number_of_edges() >= FAST_LOUVAIN_EDGES:
        partition = louvain_compiled(simple, seed=seed, resolution=resolution)
    else:
        partition = community_louvain.best_partition(simple, weight="weight", random_state=seed,
                                                     resolution=resolution)
    partition = renumber(partition)
    return partition, modularity(partition, simple)


def modularity(partition: dict, simple: nx.Graph) -> float:
    """Newman's modularity of {node: community} on an undirected weighted graph: python-louvain's ``modularity``
    (a self-loop's weight counted once inside its community, twice in its node's degree) in one pass over the
    edges, a tenth of its time at 60,000 pairs."""
    total = simple.size(weight="weight")
    if not total:
        return 0.0
    inside: dict = {}
    degree: dict = {}
    for node, d in simple.degree(weight="weight"):
        degree[partition[node]] = degree.get(partition[node], 0.0) + d
    for s, t, w in simple.edges(data="weight", default=1.0):
        if partition[s] == partition[t]:
            inside[partition[s]] = inside.get(partition[s], 0.0) + w
    return float(sum(inside.get(c, 0.0) / total - (d / (2.0 * total)) ** 2 for c, d in degree.items()))


def louvain_compiled(simple: nx.Graph, *, seed: int = 0, resolution: float = 1.0) -> dict:
    """{node: community} by NetworKit's PLM (Louvain with refinement) on one thread, seeded: repeatable."""
    import networkit as nk

    nodes = list(simple.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    graph = nk.graph.Graph(len(nodes), weighted=True)
    for s, t, w in simple.edges(data="weight", default=1.0):
        graph.addEdge(index[s], index[t], float(w))
    threads = nk.engineering.getMaxNumberOfThreads()
    nk.engineering.setNumberOfThreads(1)
    try:
        nk.engineering.setSeed(int(seed), False)
        labels = nk.community.PLM(graph, refine=True, gamma=float(resolution)).run().getPartition().getVector()
    finally:
        nk.engineering.setNumberOfThreads(threads)
    return dict(zip(nodes, labels))


def infomap(graph: nx.Graph, *, seed: int = 0) -> tuple[dict, float]:
    """InfoMap's modules (two-level, directed when the graph is), and their Louvain-style modularity
    on the undirected graph so the two methods compare. Raises ``InfomapUnavailable`` without it."""
    try:
        from infomap import Infomap
    except ImportError:
        raise InfomapUnavailable(INFOMAP_MISSING) from None

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
    return partition, modularity(partition, _undirected(graph))


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
