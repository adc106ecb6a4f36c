"""What a job calls: JSON-ready reports for the propagation cascades and for a network (communities,
modularity, layout, trimmed edges), each with an ``on_progress(fraction, stage)`` callback."""
from __future__ import annotations

import time
from collections import defaultdict

import networkx as nx

from . import charts
from .cascades import CascadeConfig, build_cascades
from .communities import detect
from .layout import LayoutConfig, layout
from .networks import giant_component, strongest_edges


def _quiet(fraction, stage):
    pass


def propagation_report(posts, config: CascadeConfig = CascadeConfig(), *, drawings: int = 24, per_label: int = 6,
                       max_drawn_nodes: int = 3_000, max_rows: int = 50_000, names=None, on_progress=_quiet) -> dict:
    """1. build and measure the cascades; 2. the metric table (every cascade); 3. the distributions
    by label; 4. tree figures for the largest cascades of each label (``per_label``), then the
    largest overall, up to ``drawings``; a cascade over ``max_drawn_nodes`` is drawn whole anyway
    is skipped and counted. ``names(account ids) -> {id: name}`` names the drawn trees' accounts;
    the distributions use the ``max_rows`` largest cascades, the medians every one."""
    on_progress(0.0, "Building the cascades")
    cascades, counts = build_cascades(posts, config, on_progress=lambda f, s: on_progress(0.6 * f, s))
    rows = [
        {
            "root": c.root,
            "platform_id": c.graph.graph.get("platform_id"),
            "label": "unlabelled" if c.label in (None, "") else str(c.label),
            **{k: charts.finite(v) for k, v in c.metrics.items()},
        }
        for c in cascades
    ]
    on_progress(0.7, "Drawing the distributions")
    labels = sorted({r["label"] for r in rows})
    distributions = {m: charts.distribution_figure(rows[:max_rows], m, label_order=labels) for m in charts.METRICS}
    chosen = _pick_drawings(cascades, drawings, per_label, max_drawn_nodes)
    on_progress(0.8, "Laying out the cascade trees")
    named = names({a for c in chosen for _, a in c.graph.nodes(data="account")}) if names else {}
    drawn = []
    for c in chosen:
        title = (f"{c.graph.graph.get('platform_id')} · {c.label or 'unlabelled'} · "
                 f"{c.metrics['size']:,} nodes, depth {c.metrics['depth']}")
        drawn.append(
            {
                "root": c.root,
                "platform_id": c.graph.graph.get("platform_id"),
                "label": str(c.label or "unlabelled"),
                "size": c.metrics["size"],
                "figure": charts.cascade_figure(c.graph, c.root, title=title, names=named),
                "edges": [[p, q, round(d, 3), c.graph.nodes[q]["account"]] for p, q, d in c.graph.edges(data="delay")],
                "root_account": c.graph.nodes[c.root]["account"],
            }
        )
    return {
        "cascades": rows,
        "labels": labels,
        "by_label": charts.summary_by_label(rows),
        "distributions": distributions,
        "drawings": drawn,
        "counts": {**counts, "too_large_to_draw": sum(c.metrics["size"] > max_drawn_nodes for c in cascades)},
    }


def _pick_drawings(cascades: list, total: int, per_label: int, max_nodes: int) -> list:
    drawable = [c for c in cascades if c.metrics["size"] <= max_nodes]
    taken, per = [], defaultdict(int)
    for c in drawable:  # largest first
        if per[c.label] < per_label and len(taken) < total:
            taken.append(c)
            per[c.label] += 1
    ids = {id(c) for c in taken}
    taken += [c for c in drawable if id(c) not in ids][: max(0, total - len(taken))]
    return sorted(taken, key=lambda c: (str(c.label), -c.metrics["size"]))


def network_report(
    graph: nx.Graph,
    *,
    method: str = "louvain",
    giant_only: bool = False,
    edges_cap: int = 50_000,
    layout_config: LayoutConfig = LayoutConfig(),
    seed: int = 0,
    on_progress=_quiet,
) -> dict:
    """1. optionally keep the giant component; 2. communities (Louvain or InfoMap) and modularity;
    3. the layout (spring, or by community when large); 4. nodes with their attributes, the
    strongest ``edges_cap`` edges, communities largest first. Timings say where the time went."""
    timings = {}
    giant = giant_component(graph)
    if giant_only:
        graph = graph.subgraph(giant).copy()
    on_progress(0.1, f"Finding communities ({method})")
    started = time.perf_counter()
    partition, modularity = detect(graph, method, seed=seed)
    timings["communities_s"] = time.perf_counter() - started
    on_progress(0.4, "Laying out the network")
    started = time.perf_counter()
    positions, how = layout(graph, partition, layout_config)
    timings["layout_s"] = time.perf_counter() - started
    strength = dict(graph.degree(weight="weight"))
    nodes = [
        {
            "id": n,
            "community": int(partition.get(n, -1)),
            "x": positions[n][0],
            "y": positions[n][1],
            "strength": float(strength.get(n, 0)),
            "giant": n in giant,
            **dict(graph.nodes[n]),
        }
        for n in graph.nodes
    ]
    nodes.sort(key=lambda r: -r["strength"])
    edges = [{"source": s, "target": t, "weight": float(w)} for s, t, w in strongest_edges(graph, edges_cap)]
    groups = defaultdict(list)
    for row in nodes:
        groups[row["community"]].append(row["id"])
    communities = [
        {"community": c, "size": len(m), "members": m}
        for c, m in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    on_progress(1.0, "Network ready")
    return {
        "nodes": nodes,
        "edges": edges,
        "edges_total": graph.number_of_edges(),
        "communities": communities,
        "modularity": modularity,
        "method": method,
        "layout": how,
        "giant_size": len(giant),
        "directed": graph.is_directed(),
        "timings": timings,
    }
