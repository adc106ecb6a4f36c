"""Propagation cascades (Trivedi et al., 2021, §4.2; docs/methods.md): each source post's tree of reposts (and
quotes and replies), edges weighted by the delay; per cascade its size, depth, maximum breadth, structural
virality and time to 50 % / 90 % of its final size; their distributions split by a post label (e.g.
Twitter15's veracity: true / false / unverified / non-rumor).

Inputs: every post, from the collection's analysis store (the earliest ``ANALYSIS_ROWS_MAX`` only where memory
forces it, and the page says what was left out). Twitter15/16
trees keep their structure: the importer stores a repost's parent account as its ref_account, which
``ml.graphs`` follows. The row stores every cascade's metrics (at most ``CASCADES_CAP``, the largest),
the distributions, and tree figures for the largest cascades of each label.
"""

from __future__ import annotations

from apps.analyses.kinds import network, spread
from apps.analyses.kinds.base import INT, LIST, TEXT, Param, config_or_errors
from apps.jobs.services import JobError

KINDS = ("repost", "quote", "reply")
CASCADES_CAP = 5_000  # rows of the metric table kept on the row (the distributions use every cascade)
MAX_DRAWN_NODES = 3_000


def config(params: dict):
    from ml.graphs import CascadeConfig

    return CascadeConfig(kinds=tuple(params["kinds"]), min_size=params["min_size"])


def summary(result: dict) -> dict:
    largest = result["cascades"][0] if result["cascades"] else {}
    return {
        "cascades": result["cascades_total"],
        "largest": largest.get("size"),
        "deepest": max((c["depth"] for c in result["cascades"]), default=None),
        "labels": result["labels"],
        "label_key": result["label_key"],
        "orphans": result["counts"]["orphans"],
    }


# Exports: the drawn cascades as one forest, edges parent -> child weighted by the delay ------------


class Propagation(network.NetworkKind):
    name, label = "propagation", "Propagation"
    params = (
        Param(
            "kinds",
            LIST,
            KINDS,
            "What counts as a descendant of a source post.",
            choices=KINDS,
            choice_labels={"repost": "reposts", "quote": "quotes", "reply": "replies"},
        ),
        Param("min_size", INT, 2, "Smallest cascade measured, in posts (the source included).", low=1, high=1_000_000),
        Param(
            "label_key",
            TEXT,
            "",
            "Post label to split the metrics by (blank: the most common, e.g. veracity).",
            max_length=60,
        ),
        Param("drawings", INT, 24, "Cascades drawn as trees.", low=1, high=100, form=False),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        spread.check_label_key(clean["label_key"], errors)
        if not errors:
            config_or_errors(lambda: config(clean), errors)
        return clean

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. pick the label key; 2. read the posts; 3. ``propagation_report``; 4. keep the largest rows."""
        from ml.graphs import propagation_report

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, "Reading the posts", force=True)
        label_key = params["label_key"] or spread.label_key_pick(collection)
        posts, read, bound = spread.cascade_posts(collection=collection, kinds=params["kinds"], label_key=label_key)
        if not read:
            raise JobError(f"The collection “{collection.name}” has no posts.")
        inputs = {"posts_read": read, "label_key": label_key, **spread.left_out_inputs(bound)}
        progress.provenance(
            inputs=[{"collection": collection.pk, "name": collection.name, **inputs}], model={"propagation": params}
        )
        def names(ids):
            return {pk: f["handle"] for pk, f in spread.accounts_facts(collection=collection, account_ids=ids).items()}

        report = propagation_report(
            posts,
            config(params),
            drawings=params["drawings"],
            max_drawn_nodes=MAX_DRAWN_NODES,
            names=names,
            on_progress=lambda f, stage: progress(0.1 + 0.85 * f, stage),
        )
        if not report["cascades"]:
            raise JobError(
                f"No post of “{collection.name}” has {params['min_size'] - 1} or more "
                f"{'/'.join(params['kinds'])} descendants in the collection: there is no cascade to measure."
            )
        result = {
            **report,
            "cascades": report["cascades"][:CASCADES_CAP],
            "cascades_total": len(report["cascades"]),
            "label_key": label_key,
            "inputs": inputs,
        }
        return result, summary(result)

    def page_context(self, analysis) -> dict:
        from ml.graphs import cascade_time_axes

        result = analysis.result
        figures = {f"dist-{m}": fig for m, fig in result["distributions"].items()}
        return {
            "report": result,
            "figures": figures,
            "metric_names": list(result["distributions"]),
            "drawings": [
                {"index": i, "label": d["label"], "size": d["size"], "platform_id": d["platform_id"]}
                for i, d in enumerate(result["drawings"])
            ],
            "cascade_figures": [d["figure"] for d in result["drawings"]],
            "cascade_axes": cascade_time_axes(),
        }

    def export_graph(self, analysis):
        """Nodes are Post pks with their account and cascade; edges carry ``delay_s``."""
        import networkx as nx

        graph = nx.DiGraph()
        for d in analysis.result.get("drawings", []):
            graph.add_node(
                str(d["root"]), account=str(d["root_account"]), cascade=str(d["platform_id"]), label=d["label"], depth=0
            )
            for parent, child, delay, account in d["edges"]:
                graph.add_node(str(child), account=str(account), cascade=str(d["platform_id"]), label=d["label"])
                graph.add_edge(str(parent), str(child), delay_s=float(delay), weight=float(delay))
        return graph

    def edges_rows(self, analysis):
        yield ["cascade", "label", "source", "target", "target_account", "delay_s"]
        for d in analysis.result.get("drawings", []):
            for parent, child, delay, account in d["edges"]:
                yield [d["platform_id"], d["label"], parent, child, account, delay]
