"""Plotly figure dicts from pure data (no plotly import): cascade trees, metric distributions by
label, virality timelines. Large traces are ``scattergl`` (WebGL)."""
from __future__ import annotations

import math

import networkx as nx

from .cascades import tree_positions

PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563", "#65a30d"]
METRICS = {
    "size": "size (nodes)",
    "depth": "depth",
    "max_breadth": "maximum breadth",
    "structural_virality": "structural virality",
    "t50_s": "time to 50 % (hours)",
    "t90_s": "time to 90 % (hours)",
}


def colours(keys) -> dict:
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(sorted(keys, key=str))}


def cascade_figure(graph: nx.DiGraph, root, *, title: str = "", names: dict | None = None) -> dict:
    """The tree with time on x (hours after the source) and one row per leaf on y; edges as one
    WebGL line trace, nodes coloured by depth."""
    pos = tree_positions(graph, root)
    depth = nx.single_source_shortest_path_length(graph, root)
    ex, ey = [], []
    for parent, child in graph.edges():
        (x0, y0), (x1, y1) = pos[parent], pos[child]
        ex += [x0 / 3600, x1 / 3600, None]
        ey += [y0, y1, None]
    nodes = list(graph.nodes)
    names = names or {}
    text = [
        f"{names.get(graph.nodes[n]['account'], graph.nodes[n]['account'])}<br>"
        f"{pos[n][0] / 3600:.2f} h · depth {depth[n]}"
        for n in nodes
    ]
    return {
        "data": [
            {
                "type": "scattergl",
                "mode": "lines",
                "x": ex,
                "y": ey,
                "hoverinfo": "skip",
                "line": {"width": 1, "color": "#94a3b8"},
                "name": "edges",
                "showlegend": False,
            },
            {
                "type": "scattergl",
                "mode": "markers",
                "x": [round(pos[n][0] / 3600, 4) for n in nodes],
                "y": [pos[n][1] for n in nodes],
                "text": text,
                "hovertemplate": "%{text}<extra></extra>",
                "name": "nodes",
                "showlegend": False,
                "marker": {
                    "size": [12 if n == root else 6 for n in nodes],
                    "color": [depth[n] for n in nodes],
                    "colorscale": "Viridis",
                    "showscale": True,
                    "colorbar": {"title": {"text": "depth"}, "thickness": 10},
                },
            },
        ],
        "layout": {
            "title": {"text": title},
            "height": 420,
            "margin": {"l": 40, "r": 10, "t": 40, "b": 40},
            "hovermode": "closest",
            "xaxis": cascade_time_axes()["linear"],
            "yaxis": {"visible": False},
        },
    }


# The log time axis of the cascade view: x = log10(1 + minutes after the source), so the first
# minutes, where most reposts arrive, spread out instead of piling on x = 0. Ticks name real delays.
LOG_TIME_TICKS = (
    ("0", 0),
    ("1 min", 1),
    ("10 min", 10),
    ("1 h", 60),
    ("6 h", 360),
    ("1 d", 1_440),
    ("1 wk", 10_080),
    ("30 d", 43_200),
    ("1 y", 525_600),
)


def log_time(hours: float | None) -> float | None:
    """Hours after the source on the log axis (the page's spread.js applies the same formula)."""
    return None if hours is None else math.log10(1 + 60 * max(hours, 0.0))


def cascade_time_axes() -> dict:
    """The two x axes the cascade view switches between: hours (linear) and log10(1 + minutes)."""
    return {
        "linear": {"title": {"text": "hours after the source"}, "zeroline": False, "type": "linear"},
        "log": {
            "title": {"text": "time after the source (log scale: log10(1 + minutes))"},
            "zeroline": False,
            "type": "linear",
            "tickvals": [round(log_time(m / 60), 4) for _, m in LOG_TIME_TICKS],
            "ticktext": [t for t, _ in LOG_TIME_TICKS],
        },
    }


def distribution_figure(rows: list[dict], metric: str, *, label_order: list | None = None) -> dict:
    """One box (with its points) per label for one cascade metric; times in hours, sizes on a log axis."""
    labels = label_order or sorted({str(r["label"]) for r in rows})
    palette = colours(labels)
    scale = 1 / 3600 if metric.endswith("_s") else 1
    traces = []
    for label in labels:
        values = [r[metric] * scale for r in rows if str(r["label"]) == label and r.get(metric) is not None]
        traces.append(
            {
                "type": "box",
                "name": label,
                "y": [round(v, 4) for v in values],
                "boxpoints": "outliers",
                "marker": {"color": palette[label]},
                "boxmean": True,
            }
        )
    log = metric in ("size", "max_breadth") or metric.endswith("_s")
    return {
        "data": traces,
        "layout": {
            "title": {"text": METRICS.get(metric, metric)},
            "height": 300,
            "showlegend": False,
            "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
            "yaxis": {"type": "log" if log else "linear"},
        },
    }


def summary_by_label(rows: list[dict]) -> list[dict]:
    """Per label: cascades, and the median of every metric (the table beside the boxes)."""
    out = []
    for label in sorted({str(r["label"]) for r in rows}):
        group = [r for r in rows if str(r["label"]) == label]
        entry = {"label": label, "cascades": len(group)}
        for metric in METRICS:
            values = sorted(r[metric] for r in group if r.get(metric) is not None)
            entry[metric] = _median(values)
        out.append(entry)
    return out


def _median(values: list) -> float | None:
    if not values:
        return None
    mid = len(values) // 2
    return float(values[mid]) if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def timeline_figure(line: dict, *, title: str = "") -> dict:
    """Stacked bars per label band and the bursts as red markers above their bins."""
    palette = colours(line["series"])
    traces = [
        {"type": "bar", "name": name, "x": line["bins"], "y": counts, "marker": {"color": palette[name]}}
        for name, counts in line["series"].items()
    ]
    if line["bursts"]:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "burst",
                "x": [b["time"] for b in line["bursts"]],
                "y": [b["count"] * 1.08 + 0.5 for b in line["bursts"]],
                "marker": {"symbol": "triangle-down", "size": 11, "color": "#b91c1c"},
                "text": [f"z = {b['z']}" for b in line["bursts"]],
                "hovertemplate": "%{x}: burst, %{text}<extra></extra>",
            }
        )
    return {
        "data": traces,
        "layout": {
            "title": {"text": title},
            "barmode": "stack",
            "height": 300,
            "bargap": 0.05,
            "margin": {"l": 40, "r": 10, "t": 40, "b": 40},
            "legend": {"orientation": "h", "y": -0.2},
            "yaxis": {"title": {"text": "posts"}},
        },
    }


def finite(value):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value
