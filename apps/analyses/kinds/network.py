"""What the two coordination kinds (``coordination``, ``coaction``) share: parameter checks, trimming
an ``ml.coordination`` report to what the page draws, account names and labels on the nodes, the
communities' make-up by account label, and the exports (GEXF, GraphML, CSV) of a stored network.

Node ids inside ``ml`` are Account primary keys, so handles that collide or change cannot merge two
accounts; the page and the exports show the handle.
"""
from __future__ import annotations

import io
import math
from collections import Counter
from datetime import datetime, timezone

from django.core.exceptions import ValidationError

from apps.analyses.kinds.base import Kind, kind_get
from apps.analyses.selectors import accounts_described
from apps.common.csvfile import csv_bytes

EDGES_CAP = 5_000        # edges of the drawn network kept on the row (the strongest); counts keep the rest
TYPE_EDGES_CAP = 2_000   # per entity type, and per half of a before/after split
COMMUNITIES_CAP = 50     # communities listed (largest first); every node keeps its community number
COMMUNITY_ACCOUNTS_CAP = 200
SCALE_MAX = 7 * 86400    # the longest time bin (seconds) a network kind takes


# Results ---------------------------------------------------------------------------------------

def compact(value):
    """Four significant digits: a 5,000-edge network stays around a megabyte of JSON."""
    if isinstance(value, float):
        return None if math.isnan(value) else float(f"{value:.4g}")
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def dask_options() -> dict:
    """The network kinds' scale-out arguments from the settings (``coaction_report``, ``influence_report``): a Dask
    cluster past DASK_MIN_ROWS rows (0: never), DASK_SCHEDULER's, or a 2-worker cluster in the job's process."""
    from django.conf import settings

    threshold = settings.MURMURATION["DASK_MIN_ROWS"]
    return {"dask_threshold": threshold or None, "dask_client": settings.MURMURATION["DASK_SCHEDULER"] or None}


def described_network(collection, report: dict, *, edges_cap: int = EDGES_CAP) -> dict:
    """Nodes named (handle, labels), edges trimmed to the strongest ``edges_cap``, communities with
    their make-up by each account label, and the label keys the page can colour by."""
    accounts = accounts_described(collection=collection, account_ids=[n["id"] for n in report["nodes"]])
    nodes = [{**n, "handle": accounts.get(n["id"], {}).get("handle", str(n["id"])),
              "labels": accounts.get(n["id"], {}).get("labels", {})} for n in report["nodes"]]
    by_id = {n["id"]: n for n in nodes}
    label_keys = sorted(
        {k for n in nodes for k, v in n["labels"].items() if isinstance(v, (str, int, bool)) and v != ""}
    )
    communities = []
    for c in report["communities"][:COMMUNITIES_CAP]:
        members = [by_id[a] for a in c["accounts"] if a in by_id]
        members.sort(key=lambda n: -n["influence"])
        make_up = {
            key: dict(Counter(str(n["labels"].get(key, "—")) for n in members).most_common()) for key in label_keys
        }
        communities.append(
            {
                **c,
                "accounts": [{"id": n["id"], "handle": n["handle"]} for n in members[:COMMUNITY_ACCOUNTS_CAP]],
                "make_up": make_up,
            }
        )
    top = report.get("top_influencer")
    return {
        "nodes": compact(nodes),
        "edges": compact(report["edges"][:edges_cap]),
        "edges_stored": min(len(report["edges"]), edges_cap),
        "edges_total": len(report["edges"]),
        "communities": compact(communities),
        "communities_total": len(report["communities"]),
        "top_influencer": top,
        "top_influencer_handle": by_id[top]["handle"] if top in by_id else None,
        "label_keys": label_keys,
        "counts": report.get("counts", {}),
    }


def iso_time(seconds: float) -> str:
    """Seconds since the epoch as the pages and exports write times: ISO 8601, UTC, with a Z."""
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc).isoformat().replace("+00:00", "Z")


def pair_events(rows: dict):
    """The two accounts' rows behind an edge as a frame with UTC times, or None when they have none."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if frame.empty:
        return None
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    return frame


def top_influencers(result: dict, limit: int = 20) -> list[dict]:
    nodes = sorted(result.get("nodes", []), key=lambda n: -n["influence"])
    return [n for n in nodes[:limit] if n["influence"] > 0]


# Stored layout and the binary drawing -----------------------------------------------------------

GL_MIN_EDGES = 5_001     # from this many stored edges the page draws with graph-gl.js (Plotly's scattergl up to it)
NAMES_INLINE = 20_000    # node names travel in the binary header up to this many nodes; above, on request


def _placed(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _stored_networks(result: dict) -> list[dict]:
    """Every drawn network a result holds: the main one, each other time scale's, the before/after halves."""
    split = result.get("before_after") or {}
    found = [result, *(result.get("scale_networks") or {}).values(), *(split.get(h) for h in ("before", "after"))]
    return [n for n in found if isinstance(n, dict) and isinstance(n.get("nodes"), list)]


def layout_missing(network: dict) -> bool:
    """Whether any node of a stored network has no position (rows stored before layouts were, or by hand)."""
    return any(isinstance(n, dict) and not (_placed(n.get("x")) and _placed(n.get("y"))) for n in network["nodes"])


def network_layout_ensure(analysis) -> bool:
    """Lay out, once, every network of ``analysis`` stored without positions and save them on the row, so the next
    request (and the page) reads them; True when it laid any out. Jobs store their layout (``ml.graphs.layout``,
    ``ml.coordination.layout``): this serves older rows. Two first requests at once compute the same positions."""
    from ml.graphs.layout import layout_stored

    result = analysis.result if isinstance(analysis.result, dict) else {}
    missing = [n for n in _stored_networks(result) if layout_missing(n)]
    for network in missing:
        nodes = [n for n in network["nodes"] if isinstance(n, dict) and "id" in n]
        edges = [(e.get("source"), e.get("target"), e.get("weight")) for e in network.get("edges") or []
                 if isinstance(e, dict)]
        positions, _ = layout_stored([n["id"] for n in nodes], edges, {n["id"]: n.get("community", -1) for n in nodes})
        for node in nodes:
            node["x"], node["y"] = (float(f"{v:.4g}") for v in positions.get(node["id"], (0.0, 0.0)))
    if missing and analysis.pk is not None:
        result["layout_filled"] = iso_time(datetime.now(tz=timezone.utc).timestamp())
        type(analysis).objects.filter(pk=analysis.pk).update(result=result)
    return bool(missing)


def drawn_with_gl(network: dict) -> bool:
    """Whether the page draws this network with graph-gl.js (from the binary payload) rather than Plotly."""
    return len(network.get("edges") or []) >= GL_MIN_EDGES


def network_arrays(network: dict, *, directed: bool, names: bool | None = None) -> tuple[dict, dict]:
    """A stored network as typed arrays (``ml.graphs.binary``): ``positions`` (x, y per node, float32),
    ``edges`` (source, target node indices per edge, uint32, strongest first as stored), ``weights`` (float32),
    ``communities`` (uint16, or uint32 when a number needs it; ``community_none`` for a node with none); where the
    edges carry them, ``q`` (float32, NaN where none) and ``significant`` (uint8). The header names the nodes
    (``ids``; ``names`` up to ``NAMES_INLINE`` nodes, or as ``names`` says) and counts the edges left out (an end
    that is not a node)."""
    import numpy as np

    nodes = [n for n in network.get("nodes") or [] if isinstance(n, dict) and "id" in n]
    index = {n["id"]: i for i, n in enumerate(nodes)}
    edges = [e for e in network.get("edges") or [] if isinstance(e, dict)]
    ends = np.fromiter((index.get(e.get(k), -1) for e in edges for k in ("source", "target")), np.int64, 2 * len(edges))
    kept = (ends.reshape(-1, 2) >= 0).all(axis=1)
    communities = np.fromiter((c if type(c := n.get("community")) is int and c >= 0 else -1 for n in nodes), np.int64,
                              len(nodes))
    wide = bool(communities.size) and communities.max() >= 0xFFFF
    none = 0xFFFFFFFF if wide else 0xFFFF
    arrays = {
        "positions": _floats((c for n in nodes for c in (n.get("x"), n.get("y"))), 2 * len(nodes), 0.0),
        "edges": ends.reshape(-1, 2)[kept].astype(np.uint32).ravel(),
        "weights": _floats((e.get("weight") for e in edges), len(edges), 0.0)[kept],
        "communities": np.where(communities < 0, none, communities).astype(np.uint32 if wide else np.uint16),
    }
    if any("q" in e for e in edges):
        arrays["q"] = _floats((e.get("q") for e in edges), len(edges), math.nan)[kept]
    if any("significant" in e for e in edges):
        arrays["significant"] = np.fromiter((bool(e.get("significant")) for e in edges), np.uint8, len(edges))[kept]
    kept = int(kept.sum())
    header = {
        "nodes": len(nodes),
        "edges": kept,
        "edges_left_out": len(edges) - kept,
        "directed": directed,
        "community_none": none,
        "ids": [n["id"] for n in nodes],
        "names": [str(n.get("handle", n["id"])) for n in nodes]
        if (len(nodes) <= NAMES_INLINE if names is None else names)
        else None,
    }
    return header, arrays


def _floats(values, count: int, missing: float):
    """float32 of stored numbers; ``missing`` for anything else (None, text, NaN, infinities)."""
    import numpy as np

    out = np.fromiter((v if type(v) in (float, int) else math.nan for v in values), np.float64, count)
    out[~np.isfinite(out)] = missing
    return out.astype(np.float32)


# Exports ---------------------------------------------------------------------------------------

NODE_ATTRS = ("community", "influence", "strength", "x", "y", "count", "in_weight", "out_weight", "followers", "giant")
EDGE_COLUMNS = ("source", "target", "weight", "M", "count", "expected", "p", "q", "significant")


def network_graph(analysis):
    """The stored network as networkx (directed for the influence model and the retweet network, as
    the result's ``directed`` says; undirected for co-action and hashtags); None attributes are left
    out (GEXF and GraphML have no null). Nodes keep ``NODE_ATTRS`` where they have them."""
    import networkx as nx

    result = analysis.result
    graph = nx.DiGraph() if result.get("directed", analysis.kind == "coordination") else nx.Graph()
    for node in result.get("nodes", []):
        attrs = {"label": node["handle"], **{k: node[k] for k in NODE_ATTRS if node.get(k) is not None}}
        attrs.update({f"label_{k}": str(v) for k, v in node.get("labels", {}).items() if v is not None})
        graph.add_node(str(node["id"]), **attrs)
    for edge in result.get("edges", []):
        attrs = {
            k: v
            for k, v in edge.items()
            if k not in ("source", "target") and v is not None and not isinstance(v, (list, dict))
        }
        graph.add_edge(str(edge["source"]), str(edge["target"]), **attrs)
    return graph


def edges_rows(analysis):
    """The edge list: a header, then one row per stored edge with both handles."""
    result = analysis.result
    handles = {n["id"]: n["handle"] for n in result.get("nodes", [])}
    extra = sorted({k for e in result.get("edges", []) for k in e if k.startswith("weight_")})
    columns = [c for c in EDGE_COLUMNS if any(c in e for e in result.get("edges", [])[:1])] + extra
    yield ["source", "target", "source_handle", "target_handle", *columns[2:]]
    for e in result.get("edges", []):
        yield [
            e["source"],
            e["target"],
            handles.get(e["source"], ""),
            handles.get(e["target"], ""),
            *("" if e.get(c) is None else e.get(c) for c in columns[2:]),
        ]


def network_at_scale(analysis, scale: int | None):
    """The analysis as drawn at time scale ``scale`` (seconds; None: its default), where its kind stores networks;
    other analyses as they are. A ValidationError naming ``scale`` for a scale the analysis has no network of."""
    kind = kind_get(analysis.kind)
    return kind.at_scale(analysis, scale) if isinstance(kind, NetworkKind) else analysis


class NetworkKind(Kind):
    """A kind whose result is a network (``nodes``, ``edges``): GEXF, GraphML and a CSV edge list, every
    text cell neutralised for spreadsheets (``apps.common.csvfile``)."""

    exports = ("gexf", "graphml", "csv")

    def network_data(self, analysis) -> dict | None:
        """The network as this kind's page draws it (``page_context``'s ``network_data``: nodes with ``x``, ``y``,
        ``community``; edges with ``source``, ``target``, ``weight``), for the workspace's API; None where the page
        draws none (propagation's cascades). A row whose result lacks what the page reads (written by hand, or
        before a field existed) still gives its nodes and edges rather than failing."""
        try:
            return self.page_context(analysis).get("network_data")
        except (KeyError, TypeError, AttributeError):
            result = analysis.result if isinstance(analysis.result, dict) else {}
            return {"kind": analysis.kind, "nodes": result.get("nodes") or [], "edges": result.get("edges") or []}

    def page_query(self, analysis, query) -> dict:
        """A network drawn with graph-gl.js (``drawn_with_gl``) leaves its edges out of the page: network.js reads
        them, with the stored layout, from the binary payload (``network_apis``: 8 bytes an edge and nothing to
        parse, against about 50 bytes of JSON). ``?renderer=plotly`` keeps them in, to draw with Plotly."""
        result = analysis.result if isinstance(analysis.result, dict) else {}
        if query.get("renderer") == "plotly" or not drawn_with_gl(result):
            return {}
        data = self.page_context(analysis).get("network_data")
        if not data or not drawn_with_gl(data):
            return {}
        return {"network_data": {**data, "edges": None, "edges_in_binary": len(data.get("edges") or [])}}

    def at_scale(self, analysis, scale: int | None):
        """The analysis as seen at time scale ``scale`` (seconds); kinds that store one network per scale
        (``coordination``) override it. This one stores a single network, at no scale to choose."""
        if scale is None:
            return analysis
        raise ValidationError(
            {"scale": [f"Analysis {analysis.pk} ({analysis.kind}) stores one network: it takes no scale."]}
        )

    def export_graph(self, analysis):
        return network_graph(analysis)

    def edges_rows(self, analysis):
        return edges_rows(analysis)

    def export(self, analysis, fmt: str) -> bytes:
        import networkx as nx

        if fmt == "csv":
            return csv_bytes(self.edges_rows(analysis))
        out = io.BytesIO()
        (nx.write_gexf if fmt == "gexf" else nx.write_graphml)(self.export_graph(analysis), out)
        return out.getvalue()
