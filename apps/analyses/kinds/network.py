"""What the two coordination kinds (``coordination``, ``coaction``) share: parameter checks, trimming
an ``ml.coordination`` report to what the page draws, account names and labels on the nodes, the
communities' make-up by account label, and the exports (GEXF, GraphML, CSV) of a stored network.

Node ids inside ``ml`` are Account primary keys, so handles that collide or change cannot merge two
accounts; the page and the exports show the handle.
"""
from __future__ import annotations

import csv
import io
import math
import re
from collections import Counter

from django.core.exceptions import ValidationError

from apps.analyses.selectors import accounts_described

EDGES_CAP = 5_000        # edges of the drawn network kept on the row (the strongest); counts keep the rest
TYPE_EDGES_CAP = 2_000   # per entity type, and per half of a before/after split
COMMUNITIES_CAP = 50     # communities listed (largest first); every node keeps its community number
COMMUNITY_ACCOUNTS_CAP = 200
_FIELD = re.compile(r"^(\w+) must")


# Parameters ------------------------------------------------------------------------------------

def check_int(params: dict, key: str, default: int, low: int, high: int, errors: dict) -> int:
    raw = params.get(key, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[key] = f"{key} must be a whole number; got {raw!r}."
        return default
    if not low <= value <= high:
        errors[key] = f"{key} must be between {low:,} and {high:,}; got {value:,}."
    return value


def check_float(params: dict, key: str, default: float, low: float, high: float, errors: dict, *, open_low: bool = False,
                open_high: bool = False) -> float:
    raw = params.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors[key] = f"{key} must be a number; got {raw!r}."
        return default
    too_low = value <= low if open_low else value < low
    too_high = value >= high if open_high else value > high
    if math.isnan(value) or too_low or too_high:
        left, right = "(" if open_low else "[", ")" if open_high else "]"
        errors[key] = f"{key} must be in {left}{low:g}, {high:g}{right}; got {raw!r}."
    return value


def check_list(params: dict, key: str, default: tuple, allowed: tuple | None, errors: dict) -> list[str]:
    """A list, or a comma-separated string (the command line's --param key=a,b)."""
    raw = params.get(key, default)
    values = [v.strip() for v in raw.split(",")] if isinstance(raw, str) else [str(v).strip() for v in (raw or [])]
    values = list(dict.fromkeys(v for v in values if v))
    if allowed is not None:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            errors[key] = f"{key}: unknown {', '.join(unknown)}; choose from {', '.join(allowed)}."
        elif not values:
            errors[key] = f"{key}: choose at least one of {', '.join(allowed)}."
    return values


def check_choice(params: dict, key: str, default: str, allowed: tuple, errors: dict) -> str:
    value = str(params.get(key, default) or default).strip()
    if value not in allowed:
        errors[key] = f"{key} must be one of {', '.join(allowed)}; got {value!r}."
    return value


def check_unknown(params: dict, known: set, kind: str, errors: dict) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        errors["params"] = f"Unknown parameter(s) {', '.join(unknown)}; {kind} takes {', '.join(sorted(known))}."


def config_or_errors(make, errors: dict):
    """Build an ml config; its ValueError ("alpha must be in (0, 1), got 2") becomes that field's message."""
    try:
        return make()
    except ValueError as exc:
        match = _FIELD.match(str(exc))
        errors[match.group(1) if match else "params"] = str(exc)
        return None


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
    label_keys = sorted({k for n in nodes for k, v in n["labels"].items() if isinstance(v, (str, int, bool)) and v != ""})
    communities = []
    for c in report["communities"][:COMMUNITIES_CAP]:
        members = [by_id[a] for a in c["accounts"] if a in by_id]
        members.sort(key=lambda n: -n["influence"])
        make_up = {key: dict(Counter(str(n["labels"].get(key, "—")) for n in members).most_common()) for key in label_keys}
        communities.append({**c, "accounts": [{"id": n["id"], "handle": n["handle"]} for n in members[:COMMUNITY_ACCOUNTS_CAP]],
                            "make_up": make_up})
    top = report.get("top_influencer")
    return {"nodes": compact(nodes), "edges": compact(report["edges"][:edges_cap]), "edges_stored": min(len(report["edges"]), edges_cap),
            "edges_total": len(report["edges"]), "communities": compact(communities), "communities_total": len(report["communities"]),
            "top_influencer": top, "top_influencer_handle": by_id[top]["handle"] if top in by_id else None,
            "label_keys": label_keys, "counts": report.get("counts", {})}


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
        attrs = {k: v for k, v in edge.items() if k not in ("source", "target") and v is not None and not isinstance(v, (list, dict))}
        graph.add_edge(str(edge["source"]), str(edge["target"]), **attrs)
    return graph


def export_bytes(analysis, fmt: str) -> bytes:
    """A kind with its own ``export_graph`` / ``edges_csv`` (propagation's forest of cascades) uses them."""
    import networkx as nx

    from apps.analyses.kinds import kind_get

    module = kind_get(analysis.kind)
    if fmt == "csv":
        return getattr(module, "edges_csv", edges_csv)(analysis).encode()
    graph = getattr(module, "export_graph", network_graph)(analysis)
    out = io.BytesIO()
    (nx.write_gexf if fmt == "gexf" else nx.write_graphml)(graph, out)
    return out.getvalue()


def edges_csv(analysis) -> str:
    result = analysis.result
    handles = {n["id"]: n["handle"] for n in result.get("nodes", [])}
    extra = sorted({k for e in result.get("edges", []) for k in e if k.startswith("weight_")})
    columns = [c for c in EDGE_COLUMNS if any(c in e for e in result.get("edges", [])[:1])] + extra
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["source", "target", "source_handle", "target_handle", *columns[2:]])
    for e in result.get("edges", []):
        writer.writerow([e["source"], e["target"], handles.get(e["source"], ""), handles.get(e["target"], ""),
                         *("" if e.get(c) is None else e.get(c) for c in columns[2:])])
    return out.getvalue()


def account_pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({"account": f"Not an account id: {value!r}."}) from None
