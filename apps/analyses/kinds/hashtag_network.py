"""The hashtag co-occurrence network (issue #5, seed 004 §5.2 figure 6): hashtags sized by the posts
using them, an edge weighted by the posts using both; pruned by minimum count, minimum edge weight and
the top-k hashtags; Louvain communities (InfoMap where installed) with the modularity; and, picked on
the page, a hashtag's (or a domain's) virality timeline with its bursts.

Inputs: at most ``spread.INTERACTIONS_CAP`` hashtag interactions, the latest. At most
``spread.NODES_CAP`` hashtags are drawn (top_k ≤ that).
"""
from __future__ import annotations

import time

from django.core.exceptions import ValidationError

from apps.analyses.kinds.params import check_int, check_list, check_unknown, config_or_errors
from apps.analyses.kinds import spread
from apps.jobs.services import JobError

LABEL = "Hashtag network"
PARAMS = {"min_count", "min_weight", "top_k", "exclude", "method", "giant_only", "label_key"}
SIZE_KEYS = {"count": "posts using it", "strength": "co-occurrences"}
TOP_PICKS = 60


def params_check(collection, params: dict) -> dict:
    errors: dict[str, str] = {}
    check_unknown(params, PARAMS, "hashtag_network", errors)
    clean = {"min_count": check_int(params, "min_count", 2, 1, 1_000_000, errors),
             "min_weight": check_int(params, "min_weight", 1, 1, 1_000_000, errors),
             "top_k": check_int(params, "top_k", 500, 2, spread.NODES_CAP, errors),
             "exclude": [v.lower().removeprefix("#") for v in check_list(params, "exclude", (), None, errors)],
             "method": spread.check_method(params, errors),
             "giant_only": spread.check_bool(params, "giant_only", False, errors),
             "label_key": spread.check_label_key(collection, params, errors)}
    if not errors:
        config_or_errors(lambda: config(clean), errors)
    if errors:
        raise ValidationError(errors)
    return clean


def config(params: dict):
    from ml.graphs import HashtagConfig

    return HashtagConfig(min_count=params["min_count"], min_weight=params["min_weight"], top_k=params["top_k"],
                         exclude=tuple(params["exclude"]))


def run(analysis_input, progress) -> tuple[dict, dict]:
    """1. read (post, hashtag); 2. the co-occurrence network, pruned; 3. communities and layout;
    4. each hashtag's majority post label; the top domains for the timeline picker."""
    from ml.graphs import InfomapUnavailable, hashtag_network, network_report

    params, collection = analysis_input.params, analysis_input.collection
    progress(0.0, "Reading the hashtags", force=True)
    started = time.perf_counter()
    posts, tags, read = spread.post_hashtags(collection=collection)
    if not read:
        raise JobError(f"The collection “{collection.name}” has no hashtags in its posts.")
    timings = {"read_s": time.perf_counter() - started}
    started = time.perf_counter()
    graph, pruning = hashtag_network(posts, tags, config(params))
    timings["build_s"] = time.perf_counter() - started
    if graph.number_of_nodes() < 2:
        raise JobError(f"Fewer than two hashtags are used in {params['min_count']} or more posts; lower min_count.")
    label_key = params["label_key"] or spread.label_key_pick(collection)
    inputs = {"interactions_read": read, "interactions_truncated": read >= spread.INTERACTIONS_CAP, **pruning}
    progress.provenance(inputs=[{"collection": collection.pk, "name": collection.name, **inputs}], model={"hashtag_network": params})
    try:
        report = network_report(graph, method=params["method"], giant_only=params["giant_only"], edges_cap=spread.EDGES_CAP,
                                on_progress=lambda f, stage: progress(0.2 + 0.7 * f, stage))
    except InfomapUnavailable as exc:
        raise JobError(str(exc)) from None
    labels = {n: {} for n in graph.nodes}
    if label_key:
        for tag, value in spread.majority_post_label(collection=collection, label_key=label_key, hashtags=list(graph.nodes)).items():
            labels.setdefault(tag, {})[f"posts_{label_key}"] = value
    report["timings"] = {**timings, **report["timings"]}
    result = spread.network_result(report, names={n: n for n in graph.nodes}, labels=labels, prefix="#", label_key=label_key, inputs=inputs)
    result["top_hashtags"] = [n["id"] for n in sorted(result["nodes"], key=lambda n: -n["count"])[:TOP_PICKS]]
    result["top_domains"] = spread.top_domains(collection=collection)
    return result, summary(result)


def summary(result: dict) -> dict:
    return {"hashtags": len(result["nodes"]), "edges": result["edges_total"], "communities": result["communities_total"],
            "modularity": result["modularity"], "method": result["method"],
            "top_hashtag": result["top_hashtags"][0] if result["top_hashtags"] else None}


def page_context(analysis) -> dict:
    result = analysis.result
    data = spread.network_data(analysis, prefix="#", noun="hashtags", size_keys=SIZE_KEYS)
    return {"report": result, "network_plain": True, "network_noun": "hashtags", "network_data": data,
            "method_label": spread.METHOD_LABELS.get(result["method"], result["method"])}
