"""Hybrid account score (seed 003): one probability per account from a logistic regression stacked on its TIES score
(a stored ``behaviour`` analysis), its content score (the mean of its post scores in a stored ``score`` analysis),
its coordination features (degree, strength, community size in a stored ``coordination`` or ``coaction`` network)
and its authorship outlier share (stored ``authorship`` analyses), so an analyst reads which signals make it
suspicious: each signal's contribution (coefficient × standardised value) adds up, with the intercept, to its logit.

The splits are the behaviour run's own: TIES trained on its train accounts (train-1), the regression trains on its
validation accounts (train-2), and the figures come from its test accounts. Missing values: ``ml.behaviour.hybrid``.
With ``evaluate`` the seed's evaluation runs too (``ml.behaviour.evaluate``): TIES retrained per encoder on
``repeats`` random splits, the PR-AUC gap of each model against content alone (median and MAD), PR curves.

Every analysis it reads must belong to the same investigation and collection; another investigation's is refused as
if it did not exist. Reads: ``apps.analyses.hybrid_selectors``.
"""
from __future__ import annotations

from apps.analyses import behaviour_selectors, hybrid_selectors, selectors
from apps.analyses.kinds.base import FLAG, INT, LIST, TEXT, Kind, Param
from apps.analyses.kinds.train_classifier import labels_check
from apps.jobs.services import JobError

ENCODERS = ("cnn", "rnn", "deepset")  # ml.behaviour.ENCODERS
TABLE_CAP = 100_000  # accounts stored (highest probability first)
ROWS_SHOWN = 200  # rows of the sorted per-account table on the page
REPEATS_MAX = 20


class Hybrid(Kind):
    name, label = "hybrid", "Hybrid account score"
    internal = frozenset({"behaviour_id", "score_id", "network_id", "authorship_ids"})
    params = (
        Param("behaviour", TEXT, hybrid_selectors.LATEST, "The behaviour (TIES) analysis: its id, or “latest” (the "
              "collection's newest).", max_length=40),
        Param("score", TEXT, "", "The score analysis whose post scores make the content signal: its id or “latest”; "
              "blank: no content signal.", max_length=40),
        Param("network", TEXT, "", "The coordination or co-action analysis for degree, strength and community size: "
              "its id or “latest”; blank: none.", max_length=40),
        Param("authorship", LIST, (), "Authorship analyses for the outlier share: their ids, or “all” (the newest "
              "of each account); blank: none.", max_items=1_000),
        Param("label_key", TEXT, "", "The account label (blank: the behaviour analysis's).", max_length=100),
        Param("positive_values", LIST, (), "The label's positive value(s) (blank: the behaviour analysis's).",
              max_items=200),
        Param("evaluate", FLAG, False, "Also run the seed's evaluation: TIES retrained on repeated random splits, "
              "PR-AUC gap of each model against content alone (slow: TIES trains repeats × encoders times)."),
        Param("repeats", INT, 5, "Random account splits of the evaluation.", low=1, high=REPEATS_MAX),
        Param("eval_encoders", LIST, ("cnn", "deepset"), "TIES encoders the evaluation compares (rnn is the slowest).",
              choices=ENCODERS),
        Param("seed", INT, 0, "The evaluation's first split seed.", low=0, high=2**31 - 1, form=False),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """Each named analysis must be of this investigation and collection and of the right kind; the label is the
        behaviour analysis's unless named; the evaluation needs a content signal to compare against."""
        investigation, out = collection.investigation, {**clean}
        behaviour, why = hybrid_selectors.analysis_of(investigation=investigation, collection=collection,
                                                      kinds="behaviour", ref=clean["behaviour"])
        if behaviour is None:
            errors["behaviour"] = why + " Run Behaviour (TIES) on it first." if _latest(clean["behaviour"]) else why
        elif "split" not in behaviour.result.get("table", {}):
            errors["behaviour"] = (f"Behaviour analysis #{behaviour.pk} predates per-account splits; run Behaviour "
                                   "(TIES) again.")
        else:
            out["behaviour_id"] = behaviour.pk
        out.update(self._optional(investigation, collection, clean, errors))
        if behaviour is not None and not clean["label_key"]:
            out["label_key"] = behaviour.params.get("label_key", "")
            out["positive_values"] = clean["positive_values"] or behaviour.params.get("positive_values", [])
        if behaviour is not None or clean["label_key"]:
            labels_check(collection, {**out, "label_source": "account_label"}, errors)
        if clean["evaluate"] and not clean["score"]:
            errors["score"] = "The evaluation compares each model with content alone: name a score analysis."
        return out

    def _optional(self, investigation, collection, clean: dict, errors: dict) -> dict:
        out = {}
        if clean["score"]:
            found, why = hybrid_selectors.analysis_of(investigation=investigation, collection=collection,
                                                      kinds="score", ref=clean["score"])
            if found is None and _latest(clean["score"]):  # none yet: say how to get one
                has_model = selectors.text_model_list(investigation=investigation).exists()
                why += (" Score the collection with a text model first." if has_model else " The investigation has "
                        "no text model: train one (Train classifier), then score the collection.")
            if found is None:
                errors["score"] = why
            else:
                out["score_id"] = found.pk
        if clean["network"]:
            found, why = hybrid_selectors.analysis_of(investigation=investigation, collection=collection,
                                                      kinds=hybrid_selectors.NETWORK_KINDS, ref=clean["network"])
            if found is None:
                errors["network"] = why
            else:
                out["network_id"] = found.pk
        if clean["authorship"]:
            found, why = hybrid_selectors.authorship_analyses(investigation=investigation, collection=collection,
                                                              refs=clean["authorship"])
            if why:
                errors["authorship"] = why
            else:
                out["authorship_ids"] = [a.pk for a in found]
        return out

    def run(self, analysis_input, progress):
        """1. the stored analyses (each still of this investigation); 2. every signal per account; 3. the hybrid on
        the behaviour run's splits (``ml.behaviour.fit_hybrid``); 4. with ``evaluate``, the repeated-split
        evaluation; 5. the coefficient table, per-account rows and metrics."""
        from ml.behaviour import BehaviourError
        from ml.behaviour.hybrid import SIGNAL_LABELS, fit_hybrid

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, "Reading the stored analyses", force=True)
        inputs = self._inputs(analysis_input)
        behaviour = inputs["behaviour"]
        table = behaviour.result["table"]
        ties = dict(zip(table["account"], table["score"]))
        if not ties:
            raise JobError(f"No account of the collection “{collection.name}” has interactions.")
        values = behaviour_selectors.account_label_values(collection=collection, key=params["label_key"])
        positive = set(params["positive_values"])
        labels = {pk: value in positive for pk, value in values.items()}
        signals, notes = self._signals(inputs, ties)
        progress.provenance(inputs=[{**selectors.collection_fingerprint(collection), **notes}],
                            model={"behaviour": behaviour.pk, "behaviour_params": behaviour.params})
        progress(0.1, "Fitting the logistic regression on train-2", force=True)
        try:
            built = fit_hybrid(ties, labels, signals, ties_split=dict(zip(table["account"], table["split"])))
            evaluation = self._evaluate(analysis_input, behaviour, labels, signals, progress) if params[
                "evaluate"] else None
        except BehaviourError as exc:
            raise JobError(f"No hybrid score: {exc}.") from None
        return self._outcome(params, built, values, notes, evaluation, SIGNAL_LABELS)

    def _inputs(self, analysis_input) -> dict:
        """The analyses the parameters named, read again inside the job (one may have been deleted since)."""
        from apps.analyses.models import Analysis

        params, investigation = analysis_input.params, analysis_input.investigation
        mine = Analysis.objects.filter(investigation=investigation, collection=analysis_input.collection)

        def get(key, what):
            found = mine.filter(pk=params[key]).first() if params.get(key) else None
            if params.get(key) and found is None:
                raise JobError(f"The {what} analysis #{params[key]} was deleted before the hybrid ran.")
            return found

        authorship = list(mine.filter(pk__in=params.get("authorship_ids") or [], kind="authorship"))
        return {"behaviour": get("behaviour_id", "behaviour"), "score": get("score_id", "score"),
                "network": get("network_id", "network"), "authorship": authorship}

    def _signals(self, inputs: dict, ties: dict) -> tuple[dict, dict]:
        signals, notes = {}, {"behaviour": inputs["behaviour"].pk}
        if inputs["score"] is not None:
            signals["content"] = hybrid_selectors.content_means(analysis=inputs["score"])
            notes.update(score=inputs["score"].pk, content_accounts=len(signals["content"]))
        if inputs["network"] is not None:
            found, network_notes = hybrid_selectors.network_signals(analysis=inputs["network"])
            # An account absent from the network has no significant edge: 0, an observed value.
            signals.update({name: {a: values.get(a, 0.0) for a in ties} for name, values in found.items()})
            notes.update(network=inputs["network"].pk, network_kind=inputs["network"].kind, **network_notes)
        if inputs["authorship"]:
            signals["authorship_outlier"] = hybrid_selectors.authorship_shares(analyses=inputs["authorship"])
            notes.update(authorship=[a.pk for a in inputs["authorship"]])
        return signals, notes

    def _evaluate(self, analysis_input, behaviour, labels: dict, signals: dict, progress) -> dict:
        from apps.analyses.kinds.behaviour import _configs
        from ml.behaviour.evaluate import evaluate_models

        params, collection = analysis_input.params, analysis_input.collection
        columns, _ = behaviour_selectors.behaviour_interactions(collection=collection)
        graph, ties = _configs({**behaviour.params, "seed": params["seed"]})
        others = {k: v for k, v in signals.items() if k != "content"}
        return evaluate_models(columns, labels, content=signals.get("content"), signals=others,
                               encoders=params["eval_encoders"], repeats=params["repeats"], graph=graph, ties=ties,
                               seed=params["seed"], on_progress=lambda f, stage: progress(0.15 + 0.8 * f, stage))

    def _outcome(self, params, built: dict, values: dict, notes: dict, evaluation, signal_labels):
        order = sorted(range(len(built["accounts"])), key=lambda i: (-float(built["probability"][i]),
                                                                       str(built["accounts"][i])))[:TABLE_CAP]
        frame, by_signal = built["signals"], built["by_signal"]

        def column(values_):
            return [None if v != v else round(float(v), 4) for v in (values_[i] for i in order)]  # NaN → None

        table = {
            "account": [built["accounts"][i] for i in order],
            "probability": [round(float(built["probability"][i]), 4) for i in order],
            "logit": [round(float(built["logit"][i]), 4) for i in order],
            "split": [built["split"][i] or "unlabelled" for i in order],
            "label": [values.get(built["accounts"][i], "") for i in order],
            "values": {s: column(frame[s].to_numpy()) for s in by_signal.columns},
            "contributions": {s: column(by_signal[s].to_numpy()) for s in by_signal.columns},
        }
        test = built["metrics"]["test"]
        result = {
            "label_key": params["label_key"], "positive_values": params["positive_values"],
            "intercept": round(built["intercept"], 4), "coefficients": built["coefficients"],
            "signals": list(by_signal.columns), "signal_labels": {s: signal_labels[s] for s in by_signal.columns},
            "dropped": built["dropped"], "missing": built["missing"], "metrics": built["metrics"],
            "accounts_scored": len(built["accounts"]), "table": table, "inputs": notes,
            "evaluation": evaluation,
        }
        summary = {"accounts": len(built["accounts"]), "signals": list(by_signal.columns),
                   "test_auc": round(test["auc"], 4), "test_pr_auc": round(test["pr_auc"], 4),
                   "test_accounts": test["n"], "train2_accounts": built["metrics"]["train2"]}
        if evaluation:
            summary["evaluation"] = {row["model"]: row["median_gap"] for row in evaluation["table"]}
        return result, summary

    def page_context(self, analysis) -> dict:
        from ml.behaviour.evaluate import evaluation_figure

        result = analysis.result
        figures = {}
        if result.get("evaluation"):
            figures["evaluation-pr"] = evaluation_figure(result["evaluation"])
        alone = [{"signal": s, "label": result["signal_labels"].get(s, s), **m}
                 for s, m in result["metrics"]["alone"].items()]
        labels = result["signal_labels"]
        coefficients = [{**c, "label": labels.get(c["signal"], c["signal"])} for c in result["coefficients"]]
        return {"report": result, "test": result["metrics"]["test"], "alone": alone, "figures": figures,
                "coefficients": coefficients, "evaluation": result.get("evaluation"),
                "signal_names": [labels.get(s, s) for s in result["signals"]]}

    def page_query(self, analysis, query) -> dict:
        """The per-account rows sorted by the score or by one signal's contribution (``?sort=content&order=asc``)."""
        result = analysis.result
        table, signals = result["table"], result["signals"]
        sort = query.get("sort", "probability")
        sort = sort if sort in ("probability", *signals) else "probability"
        ascending = query.get("order") == "asc"
        keyed = table["probability"] if sort == "probability" else table["contributions"][sort]
        order = sorted(range(len(keyed)), key=lambda i: (keyed[i] is None, (keyed[i] or 0) * (1 if ascending else -1),
                                                        i))[:ROWS_SHOWN]
        handles = behaviour_selectors.accounts_handles(collection=analysis.collection,
                                                       account_ids=[table["account"][i] for i in order])
        rows = [{"account": table["account"][i], "handle": handles.get(table["account"][i], str(table["account"][i])),
                 "probability": table["probability"][i], "logit": table["logit"][i], "split": table["split"][i],
                 "label": table["label"][i],
                 "cells": [{"signal": s, "value": table["values"][s][i], "contribution": table["contributions"][s][i]}
                           for s in signals]} for i in order]
        headers = [{"signal": s, "label": result["signal_labels"].get(s, s)} for s in signals]
        return {"rows": rows, "headers": headers, "sort": sort, "order": "asc" if ascending else "desc"}


def _latest(ref) -> bool:
    return str(ref).strip().lower() == hybrid_selectors.LATEST
