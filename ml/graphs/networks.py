"""The two account/hashtag networks of docs/methods.md §spread, paper §5.2, from interaction tables (no Django):

- ``retweet_network``: an edge retweeter → retweeted account, weighted by how often (figure 5);
- ``hashtag_network``: hashtags weighted by the posts using them, an edge weighted by the posts
  using both (figure 6), pruned by minimum count, minimum edge weight and the top-k hashtags.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

import networkx as nx

from ml.checks import ParamError


@dataclass(frozen=True)
class HashtagConfig:
    min_count: int = 2          # a hashtag needs this many posts
    min_weight: int = 1         # an edge needs this many posts with both hashtags
    top_k: int = 500            # then keep the k most frequent hashtags
    exclude: tuple = ()         # e.g. the search term, which co-occurs with everything
    max_tags_per_post: int = 30  # a post with more is spam: its k² pairs would swamp the graph

    def __post_init__(self):
        for name in ("min_count", "min_weight", "top_k", "max_tags_per_post"):
            if getattr(self, name) < 1:
                raise ParamError(f"{name} must be at least 1, got {getattr(self, name)}", name)


def retweet_network(source, target, *, min_weight: int = 1, max_nodes: int | None = None) -> nx.DiGraph:
    """Directed, weighted: one edge per (retweeter, retweeted) pair, ``weight`` = the count.
    Self-retweets are dropped (they amplify no one else). ``max_nodes`` keeps the accounts of greatest
    weighted degree (ties by id), counted before the graph is built: Twitter15's 480,000 accounts
    never become networkx nodes when 5,000 are drawn. Node ``out_weight`` / ``in_weight`` count every
    kept edge, the capped-out accounts' too; ``graph.graph["nodes_total"]`` is the count before the cap."""
    counts = Counter((s, t) for s, t in zip(source, target) if t is not None and s != t)
    kept = {pair: w for pair, w in counts.items() if w >= min_weight}
    out_weight, in_weight = Counter(), Counter()
    for (s, t), w in kept.items():
        out_weight[s] += w
        in_weight[t] += w
    nodes = set(out_weight) | set(in_weight)
    graph = nx.DiGraph(nodes_total=len(nodes))
    if max_nodes is not None and len(nodes) > max_nodes:
        nodes = set(sorted(nodes, key=lambda n: (-(out_weight[n] + in_weight[n]), str(n)))[:max_nodes])
        kept = {(s, t): w for (s, t), w in kept.items() if s in nodes and t in nodes}
    graph.add_nodes_from(
        (n, {"out_weight": int(out_weight[n]), "in_weight": int(in_weight[n])}) for n in sorted(nodes, key=str)
    )
    graph.add_weighted_edges_from((s, t, int(w)) for (s, t), w in kept.items())
    return graph


def hashtag_network(post, hashtag, config: HashtagConfig = HashtagConfig()) -> tuple[nx.Graph, dict]:
    """1. the hashtags of each post (deduplicated); 2. frequencies, then min_count and top_k;
    3. pairs within each post among the kept hashtags; 4. min_weight. Returns the graph (node
    ``count``, edge ``weight``) and what pruning removed."""
    exclude = {h.lower().lstrip("#") for h in config.exclude}
    tags: dict[object, set] = {}
    for p, h in zip(post, hashtag):
        if h is not None and h not in exclude:
            tags.setdefault(p, set()).add(h)
    spam = {p for p, hs in tags.items() if len(hs) > config.max_tags_per_post}
    counts = Counter(h for p, hs in tags.items() if p not in spam for h in hs)
    # ties by name, and sorted edges below: the same input gives the same graph, communities and
    # layout in every process (a set's order of strings changes with each interpreter's hash seed)
    frequent = sorted((h for h, c in counts.items() if c >= config.min_count), key=lambda h: (-counts[h], h))
    kept = set(frequent[: config.top_k])
    pairs = Counter()
    for p, hs in tags.items():
        if p not in spam:
            pairs.update(combinations(sorted(hs & kept), 2))
    graph = nx.Graph()
    graph.add_nodes_from((h, {"count": int(counts[h])}) for h in frequent[: config.top_k])
    graph.add_edges_from((a, b, {"weight": int(w)}) for (a, b), w in sorted(pairs.items()) if w >= config.min_weight)
    info = {
        "posts": len(tags),
        "spam_posts": len(spam),
        "hashtags": len(counts),
        "hashtags_kept": graph.number_of_nodes(),
        "pairs": len(pairs),
        "edges_kept": graph.number_of_edges(),
    }
    return graph, info


def giant_component(graph: nx.Graph) -> set:
    """The nodes of the largest (weakly) connected component."""
    if graph.number_of_nodes() == 0:
        return set()
    parts = nx.weakly_connected_components(graph) if graph.is_directed() else nx.connected_components(graph)
    return set(max(parts, key=len))


def strongest_edges(graph: nx.Graph, cap: int) -> list[tuple]:
    """(u, v, weight), strongest first, at most ``cap``."""
    edges = sorted(graph.edges(data="weight", default=1), key=lambda e: (-e[2], str(e[0]), str(e[1])))
    return edges[:cap]
