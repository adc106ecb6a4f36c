"""Network analysis of a coordination network: communities, rankings, the top influencer, layout."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from ml.graphs.communities import louvain
from ml.graphs.layout import LayoutConfig
from ml.graphs.layout import layout as graph_layout

from .activity import to_seconds

# Fruchterman–Reingold on the whole network up to this many accounts (the vectorised loop of ml.graphs.layout: 0.4 s
# at 1,086 accounts, where networkx's spring_layout took 5 s; 80 MB of n×n buffers at 2,000), by community above.
SPRING_MAX_ACCOUNTS = 2_000


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


class _Network:
    """An edge list as the analysis reads it, without a networkx DiGraph (building one took 0.4 s per 100,000
    edges, and it was built twice): the node order (``nodes`` first, then as the edges name them), each node's out
    and in weight, and the undirected graph Louvain and the layout want, one weight per pair (the two directions
    add). A directed pair listed twice keeps its last weight, as a DiGraph would."""

    def __init__(self, edges: pd.DataFrame, nodes=None):
        directed = dict(zip(zip(_plains(edges["source"]), _plains(edges["target"])),
                            edges["weight"].astype(float).tolist()))
        named = (n for pair in directed for n in pair)
        self.order = list(dict.fromkeys([*(_plain(n) for n in (nodes if nodes is not None else [])), *named]))
        self.out_w: dict = {}
        self.in_w: dict = {}
        pairs: dict = {}
        for (s, t), w in directed.items():
            self.out_w[s] = self.out_w.get(s, 0.0) + w
            self.in_w[t] = self.in_w.get(t, 0.0) + w
            key = (t, s) if (t, s) in pairs else (s, t)
            pairs[key] = pairs.get(key, 0.0) + w
        self.simple = nx.Graph()
        self.simple.add_nodes_from(self.order)
        self.simple.add_weighted_edges_from((s, t, w) for (s, t), w in pairs.items())


def _plains(column: pd.Series) -> list:
    return [_plain(v) for v in column.tolist()] if column.dtype == object else column.tolist()


def layout(edges: pd.DataFrame, *, nodes=None, seed: int = 0, partition: dict | None = None) -> dict:
    """Positions {account: (x, y)} in [-1, 1]², computed once and stored with the job: Fruchterman–Reingold up to
    ``SPRING_MAX_ACCOUNTS`` accounts, above that each community (``partition``, Louvain's when not given) laid out
    in a disc of its own (`ml.graphs.layout`)."""
    return _positions(_Network(edges, nodes).simple, partition, seed)


def _positions(simple: nx.Graph, partition: dict | None, seed: int) -> dict:
    if simple.number_of_nodes() == 0:
        return {}
    if partition is None and simple.number_of_nodes() > SPRING_MAX_ACCOUNTS:
        partition = louvain(simple, seed=seed)[0]
    positions, _ = graph_layout(simple, partition, LayoutConfig(spring_max_nodes=SPRING_MAX_ACCOUNTS, seed=seed))
    return positions


def community_summary(events: pd.DataFrame, members: list, *, top: int = 5, freq: str = "D") -> dict:
    """Top entities and the activity timeline (posts per `freq`) of one community's accounts."""
    rows = events[events["account"].isin(members)]
    timeline = pd.Series(pd.to_datetime(to_seconds(rows["time"]), unit="s")).dt.floor(freq).value_counts().sort_index()
    return {
        "top_entities": [{"entity": e, "count": int(c)} for e, c in rows["entity"].value_counts().head(top).items()],
        "timeline": [{"time": t.isoformat(), "count": int(c)} for t, c in timeline.items()],
    }


def analyse_network(
    edges: pd.DataFrame, *, nodes=None, events: pd.DataFrame | None = None, seed: int = 0, top: int = 5,
    positions: dict | None = None,
) -> dict:
    """JSON-ready nodes (community, strength, influence, x, y), communities and the top influencer.

    ``positions``: {account: (x, y)} laid out by the caller (the before/after pair shares one layout); else the
    network's own (`layout`: the slowest step at 100,000 edges, so never computed to be thrown away).

    strength = in + out weight; influence = out weight (how strongly others follow the account),
    the quantity behind the paper's node sizes and its top influencer (docs/methods.md §influence model, paper §5.3)."""
    network = _Network(edges, nodes)
    partition = louvain(network.simple, seed=seed)[0]
    positions = _positions(network.simple, partition, seed) if positions is None else positions
    out_w, in_w = network.out_w, network.in_w
    node_rows = [
        {
            "id": n,
            "community": int(partition.get(n, -1)),
            "influence": float(out_w.get(n, 0.0)),
            "strength": float(out_w.get(n, 0.0) + in_w.get(n, 0.0)),
            "x": positions.get(n, (0.0, 0.0))[0],
            "y": positions.get(n, (0.0, 0.0))[1],
        }
        for n in network.order
    ]
    node_rows.sort(key=lambda r: -r["influence"])
    for rank, row in enumerate(node_rows, 1):
        row["influence_rank"] = rank
    groups = {}
    for n, c in partition.items():
        groups.setdefault(int(c), []).append(n)
    communities = []
    for c, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        entry = {"community": c, "size": len(members), "accounts": members}
        if events is not None:
            entry.update(community_summary(events, members, top=top))
        communities.append(entry)
    top_row = node_rows[0] if node_rows and node_rows[0]["influence"] > 0 else None
    return {"nodes": node_rows, "communities": communities, "top_influencer": top_row and top_row["id"]}


def strongest_partners(edges: pd.DataFrame, account, *, top: int = 10) -> pd.DataFrame:
    """An account's partners by combined weight both ways: partner, weight_out, weight_in, weight."""
    out = edges[edges["source"] == account].groupby("target")["weight"].sum().rename("weight_out")
    inn = edges[edges["target"] == account].groupby("source")["weight"].sum().rename("weight_in")
    both = pd.concat([out, inn], axis=1).fillna(0.0)
    both["weight"] = both["weight_out"] + both["weight_in"]
    both.index.name = "partner"
    return both.sort_values("weight", ascending=False).head(top).reset_index()
