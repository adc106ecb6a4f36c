"""Behaviour (TIES, seed 003): which accounts act like the labelled ones, from what they do over time.

Every account's interactions (posts, reposts, quotes, replies, mentions, hashtags, links and their domains) become
a sequence in time order (the most recent 512 steps); graph embeddings of accounts, posts, hashtags, domains... are
trained on the whole interaction graph with PyTorch-BigGraph's margin ranking objective; TIES (a 1-D CNN,
bidirectional LSTM or DeepSet over the steps, attention pooling, a head) learns the account label on
account-disjoint splits and scores every account. Model code: ``ml.behaviour``; reads:
``apps.analyses.behaviour_selectors``.
"""
from __future__ import annotations

from apps.analyses import behaviour_selectors, selectors
from apps.analyses.kinds.base import CHOICE, INT, LIST, TEXT, Kind, Param, config_or_errors
from apps.analyses.kinds.train_classifier import labels_check
from apps.jobs.services import JobError

ENCODERS = ("cnn", "rnn", "deepset")  # ml.behaviour.ENCODERS
FINETUNE = ("auto", "yes", "no")
TOP = 500  # accounts listed in the result, highest score first
TABLE_CAP = 100_000  # accounts in the compact per-account table


def _configs(params: dict):
    from ml.behaviour import GraphConfig, TiesConfig

    graph = GraphConfig(dim=params["embedding_dim"], epochs=params["graph_epochs"], seed=params["seed"])
    ties = TiesConfig(encoder=params["encoder"], epochs=params["epochs"], finetune=params["finetune"],
                      seed=params["seed"])
    return graph, ties


def read_steps(collection) -> tuple[dict, dict]:
    """Every account's steps from the collection's analysis store (every row, unless ``ANALYSIS_ROWS_MAX`` forces
    a bound, which ``inputs`` reports: the run's page and summary say what was left out); and what was read."""
    columns, bound = behaviour_selectors.behaviour_interactions(collection=collection)
    if not len(columns["account"]):
        raise JobError(f"The collection “{collection.name}” has no interactions with a time.")
    inputs = {"interactions_read": len(columns["account"]), "interactions_total": bound["total"],
              "rows_left_out": bound["rows_left_out"], "left_out_before": bound["left_out_before"]}
    return columns, inputs


class Behaviour(Kind):
    name, label = "behaviour", "Behaviour (TIES)"
    params = (
        Param("label_key", TEXT, "", "The account label to learn (e.g. account_category).", max_length=100),
        Param("positive_values", LIST, (), "The label's value(s) that mark an account positive; the others are "
              "negative; accounts without the label are only scored.", max_items=200),
        Param("encoder", CHOICE, "cnn", "The sequence encoder.", choices=ENCODERS,
              choice_labels={"cnn": "1-D CNN (kernel 5)", "rnn": "bidirectional LSTM", "deepset": "DeepSet"}),
        Param("epochs", INT, 20, "TIES training epochs (the one with the lowest validation loss is kept).",
              low=1, high=200),
        Param("embedding_dim", INT, 32, "Dimensions of the graph embeddings.", low=2, high=256),
        Param("graph_epochs", INT, 8, "Epochs of the graph embedder (margin ranking against corrupted edges).",
              low=1, high=100),
        Param("finetune", CHOICE, "auto", "Fine-tune the graph embeddings inside TIES (auto: when the graph has at "
              "most 200,000 entities).", choices=FINETUNE),
        Param("seed", INT, 0, "The splits', the embedder's and TIES's seed.", low=0, high=2**31 - 1, form=False),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        labels_check(collection, {**clean, "label_source": "account_label"}, errors)
        config_or_errors(lambda: _configs(clean), errors)
        return clean

    def run(self, analysis_input, progress):
        """1. read the interactions and the labels; 2. ``ml.behaviour.train_behaviour`` (graph embeddings, then
        TIES, progress per epoch); 3. the top accounts, a compact table of every score, the metrics."""
        from ml.behaviour import BehaviourError, train_behaviour

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, "Reading the interactions", force=True)
        columns, inputs = read_steps(collection)
        values = behaviour_selectors.account_label_values(collection=collection, key=params["label_key"])
        positive = set(params["positive_values"])
        labels = {pk: value in positive for pk, value in values.items()}
        graph, ties = _configs(params)
        progress.provenance(
            inputs=[{**selectors.collection_fingerprint(collection), **inputs}],
            model={"graph": graph.as_dict(), "ties": ties.as_dict()},
        )
        try:
            built = train_behaviour(columns, labels, graph, ties, on_progress=lambda f, stage: progress(f, stage))
        except BehaviourError as exc:
            raise JobError(f"No model: {exc}.") from None
        return self._outcome(collection, params, built, values, inputs)

    def _outcome(self, collection, params: dict, built: dict, values: dict, inputs: dict):
        from ml.embedding import pack_account_embeddings

        scores, accounts = built["scores"], built["accounts"]
        order = sorted(range(len(accounts)), key=lambda i: (-float(scores[i]), accounts[i]))
        handles = behaviour_selectors.accounts_handles(collection=collection, account_ids=[accounts[i] for i in
                                                                                           order[:TOP]])
        top = [{"account": accounts[i], "handle": handles.get(accounts[i], str(accounts[i])),
                "score": round(float(scores[i]), 4), "label": values.get(accounts[i], ""),
                "split": built["split"][i], "steps": int(built["steps"][i])} for i in order[:TOP]]
        test = built["metrics"]["test"]
        labelled_without = len(set(values) - set(accounts))
        result = {
            "encoder": params["encoder"], "label_key": params["label_key"],
            "positive_values": params["positive_values"],
            "metrics": built["metrics"], "graph": built["graph"],
            "ties": built["ties"],
            "accounts_scored": len(accounts), "labelled_without_interactions": labelled_without,
            "inputs": inputs, "top": top,
            "table": {"account": [accounts[i] for i in order[:TABLE_CAP]],
                      "score": [round(float(scores[i]), 4) for i in order[:TABLE_CAP]],
                      "split": [built["split"][i] for i in order[:TABLE_CAP]]},  # the hybrid keeps TIES's splits
            "embeddings": pack_account_embeddings(built, order[:TABLE_CAP]),  # the embedding map projects them
            "seconds": built["seconds"],
        }
        summary = {"accounts": len(accounts), "encoder": params["encoder"], "test_auc": round(test["auc"], 4),
                   "test_pr_auc": round(test["pr_auc"], 4), "test_accounts": test["n"], "seconds": built["seconds"]}
        if inputs["rows_left_out"]:
            summary.update(rows_left_out=inputs["rows_left_out"], left_out_before=inputs["left_out_before"])
        return result, summary

    def page_context(self, analysis) -> dict:
        import plotly

        from ml.behaviour import pr_figure

        result = analysis.result
        return {"report": result, "test": result["metrics"]["test"], "val": result["metrics"]["val"],
                "figures": {"pr": pr_figure(result["metrics"]["test"])}, "plotly_version": plotly.__version__,
                "top": result["top"][:100]}
