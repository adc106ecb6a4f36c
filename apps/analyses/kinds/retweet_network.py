"""The retweet (amplification) network of accounts (Trivedi et al., 2021, §5.2, figure 5; docs/methods.md): an edge from
the retweeter to the retweeted account, weighted by how often; Louvain communities (InfoMap where
installed) with the modularity; node size by in-degree (amplified), out-degree or followers; colour
by community, an account label, or the majority label of the posts the account shared.

Inputs: every repost (and, on request, quote/reply) interaction, from the collection's analysis store (the
latest ``ANALYSIS_ROWS_MAX`` only where memory forces it, and the page says what was left out). The drawn network
keeps the ``spread.NODES_CAP`` strongest accounts and ``spread.EDGES_CAP`` strongest edges; communities are found
on that network.
"""
from __future__ import annotations

import time

from apps.analyses.kinds import spread
from apps.analyses.kinds.base import FLAG, INT, LIST, TEXT, Param
from apps.jobs.services import JobError

ACTIONS = ("repost", "quote", "reply")
SIZE_KEYS = {"in_weight": "amplified (in-degree)", "out_weight": "retweets made (out-degree)", "followers": "followers",
             "strength": "strength"}


def summary(result: dict) -> dict:
    top = max(result["nodes"], key=lambda n: n.get("in_weight", 0), default=None)
    return {
        "accounts": len(result["nodes"]),
        "edges": result["edges_total"],
        "communities": result["communities_total"],
        "modularity": result["modularity"],
        "method": result["method"],
        "most_amplified": top and top["handle"],
    }


class RetweetNetwork(spread.SpreadNetworkKind):
    name, label = "retweet_network", "Retweet network"
    prefix, noun, size_keys = "@", "accounts", SIZE_KEYS
    params = (
        Param(
            "actions",
            LIST,
            ("repost",),
            "An edge from the account that acted to the account it took from.",
            choices=ACTIONS,
            choice_labels={"repost": "reposts", "quote": "quotes", "reply": "replies"},
        ),
        Param("min_weight", INT, 1, "Fewest retweets an edge needs.", low=1, high=100_000),
        spread.METHOD,
        Param("giant_only", FLAG, False, "Keep only the largest connected component."),
        Param(
            "label_key",
            TEXT,
            "",
            "Post label to colour accounts by what they shared (blank: the most common).",
            max_length=60,
        ),
    )


    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. read the (retweeter, retweeted) pairs; 2. count them into a network, keep the strongest
        accounts; 3. communities and layout (``network_report``); 4. name and colour the accounts."""
        from ml.graphs import retweet_network

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, "Reading the reposts", force=True)
        started = time.perf_counter()
        sources, targets, read, bound = spread.account_pairs(collection=collection, actions=params["actions"])
        timings = {"read_s": time.perf_counter() - started}
        started = time.perf_counter()
        graph = retweet_network(sources, targets, min_weight=params["min_weight"], max_nodes=spread.NODES_CAP)
        timings["build_s"] = time.perf_counter() - started
        if graph.graph["nodes_total"] == 0:
            raise JobError(
                f"The collection “{collection.name}” has no {'/'.join(params['actions'])} of another account"
                f"{' repeated ' + str(params['min_weight']) + ' times' if params['min_weight'] > 1 else ''}: "
                "there is no retweet network."
            )
        total_nodes = graph.graph["nodes_total"]
        label_key = params["label_key"] or spread.label_key_pick(collection)
        inputs = {
            "interactions_read": read,
            **spread.left_out_inputs(bound),
            "accounts": total_nodes,
            "accounts_capped": total_nodes > spread.NODES_CAP,
        }
        progress.provenance(
            inputs=[{"collection": collection.pk, "name": collection.name, **inputs}], model={"retweet_network": params}
        )
        facts = spread.accounts_facts(collection=collection, account_ids=list(graph.nodes))
        for node in graph.nodes:
            graph.nodes[node]["followers"] = facts.get(node, {}).get("followers")
        report = self.communities(graph, params, progress)
        labels = {pk: dict(f["labels"]) for pk, f in facts.items()}
        if label_key:
            shared = spread.majority_post_label(
                collection=collection, label_key=label_key, account_ids=list(graph.nodes)
            )
            for pk, value in shared.items():
                labels.setdefault(pk, {})[f"posts_{label_key}"] = value
        report["timings"] = {**timings, **report["timings"]}
        result = spread.network_result(
            report,
            names={pk: f["handle"] for pk, f in facts.items()},
            labels=labels,
            prefix="@",
            label_key=label_key,
            inputs=inputs,
        )
        return result, summary(result)
