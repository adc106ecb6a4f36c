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
