"""The hashtag co-occurrence network (Trivedi et al., 2021, §5.2, figure 6; docs/methods.md): hashtags sized by the
posts using them, an edge weighted by the posts using both; pruned by minimum count, minimum edge weight and
the top-k hashtags; Louvain communities (InfoMap where installed) with the modularity; and, picked on
the page, a hashtag's (or a domain's) virality timeline with its bursts.

Inputs: every hashtag interaction, from the collection's analysis store (the latest ``ANALYSIS_ROWS_MAX`` only
where memory forces it, and the page says what was left out). At most
``spread.NODES_CAP`` hashtags are drawn (top_k ≤ that).
"""

from __future__ import annotations

import time

from apps.analyses.kinds import spread
from apps.analyses.kinds.base import FLAG, INT, LIST, TEXT, Param, config_or_errors
from apps.jobs.services import JobError

SIZE_KEYS = {"count": "posts using it", "strength": "co-occurrences"}
TOP_PICKS = 60


def config(params: dict):
    from ml.graphs import HashtagConfig

    return HashtagConfig(
        min_count=params["min_count"],
        min_weight=params["min_weight"],
        top_k=params["top_k"],
        exclude=tuple(params["exclude"]),
    )


def summary(result: dict) -> dict:
    return {
        "hashtags": len(result["nodes"]),
        "edges": result["edges_total"],
        "communities": result["communities_total"],
        "modularity": result["modularity"],
        "method": result["method"],
        "top_hashtag": result["top_hashtags"][0] if result["top_hashtags"] else None,
    }


class HashtagNetwork(spread.SpreadNetworkKind):
    name, label = "hashtag_network", "Hashtag network"
    prefix, noun, size_keys = "#", "hashtags", SIZE_KEYS
    has_timeline = True
    params = (
        Param("min_count", INT, 2, "A hashtag needs this many posts.", low=1, high=1_000_000),
        Param("min_weight", INT, 1, "An edge needs this many posts with both hashtags.", low=1, high=1_000_000),
        Param(
            "top_k",
            INT,
            500,
            f"Then keep the k most used hashtags (at most {spread.NODES_CAP:,}).",
            low=2,
            high=spread.NODES_CAP,
        ),
        Param("exclude", LIST, (), "Comma-separated hashtags to leave out (e.g. the search term)."),
        spread.METHOD,
        Param("giant_only", FLAG, False, "Keep only the largest connected component."),
        Param("label_key", TEXT, "", "Post label to colour hashtags by (blank: the most common).", max_length=60),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        clean = {**clean, "exclude": [v.lower().removeprefix("#") for v in clean["exclude"]]}
        clean = super().validate(collection, clean, errors)
        if not errors:
            config_or_errors(lambda: config(clean), errors)
        return clean

    def timeline(self, analysis, *, kind: str, value: str, freq: str) -> dict:
        return spread.entity_timeline(
            collection=analysis.collection,
            kind=kind,
            value=value,
            label_key=analysis.result.get("label_key"),
            freq=freq,
        )

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. read (post, hashtag); 2. the co-occurrence network, pruned; 3. communities and layout;
        4. each hashtag's majority post label; the top domains for the timeline picker."""
        from ml.graphs import hashtag_network

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, "Reading the hashtags", force=True)
        started = time.perf_counter()
        posts, tags, read, bound = spread.post_hashtags(collection=collection)
        if not read:
            raise JobError(f"The collection “{collection.name}” has no hashtags in its posts.")
        timings = {"read_s": time.perf_counter() - started}
        started = time.perf_counter()
        graph, pruning = hashtag_network(posts, tags, config(params))
        timings["build_s"] = time.perf_counter() - started
        if graph.number_of_nodes() < 2:
            raise JobError(f"Fewer than two hashtags are used in {params['min_count']} or more posts; lower min_count.")
        label_key = params["label_key"] or spread.label_key_pick(collection)
        inputs = {"interactions_read": read, **spread.left_out_inputs(bound), **pruning}
        progress.provenance(
            inputs=[{"collection": collection.pk, "name": collection.name, **inputs}], model={"hashtag_network": params}
        )
        report = self.communities(graph, params, progress)
        labels = {n: {} for n in graph.nodes}
        if label_key:
            for tag, value in spread.majority_post_label(
                collection=collection, label_key=label_key, hashtags=list(graph.nodes)
            ).items():
                labels.setdefault(tag, {})[f"posts_{label_key}"] = value
        report["timings"] = {**timings, **report["timings"]}
        result = spread.network_result(
            report, names={n: n for n in graph.nodes}, labels=labels, prefix="#", label_key=label_key, inputs=inputs
        )
        result["top_hashtags"] = [n["id"] for n in sorted(result["nodes"], key=lambda n: -n["count"])[:TOP_PICKS]]
        result["top_domains"] = spread.top_domains(collection=collection)
        return result, summary(result)
