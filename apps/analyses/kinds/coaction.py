"""Co-action networks : accounts that act on the same target within a time window
(co-retweet, co-link, co-hashtag, co-mention, co-reply, near-duplicate text), with the window sweep.

Inputs: interactions (repost/reply target: the original post's id, else its account; url,
hashtag, mention: the entity) and the text of every post that is not a plain repost, read as columns
from the collection's analysis store (every row; the latest ``ANALYSIS_ROWS_MAX`` per source only where memory
forces it, and the run says what it left out). As for ``coordination``, the row keeps
the strongest edges and an edge's evidence is recomputed in the request from the two accounts' rows;
near-duplicate text is then clustered among their posts only, which pairs the same texts as long as
two posts are near-duplicates of each other (not merely linked through a third account's post).
"""
from __future__ import annotations

from apps.analyses.kinds import network
from apps.analyses.kinds.base import CHOICE, FLOAT, INT, LIST, Param, config_or_errors
from apps.analyses.selectors import (
    COACTION_ACTIONS,
    PAIR_EVENTS_CAP,
    coaction_frame,
    coaction_posts,
    posts_described,
)
from apps.jobs.services import JobError

RULES = ("significant", "raw")
DEFAULT_WINDOWS = (1, 10, 60, 600, 3600)
WINDOW_MAX = 7 * 86400
EVIDENCE_ROWS = 200
ACTION_LABELS = {"repost": "co-retweet", "url": "co-link", "hashtag": "co-hashtag", "mention": "co-mention",
                 "reply": "co-reply", "text": "near-duplicate text"}


def config(params: dict):
    from ml.coordination import CoactionConfig

    return CoactionConfig(actions=tuple(params["actions"]), window=float(params["window"]),
                          windows=tuple(float(w) for w in params["windows"]), rule=params["rule"],
                          alpha=params["alpha"], min_weight=params["min_weight"])


def summary(result: dict) -> dict:
    out = {"accounts": len(result["nodes"]), "edges": result["edges_total"], "window": result["window"],
           "significant_edges": result["counts"].get("significant"), "raw_edges": result["counts"].get("raw"),
           "communities": result["communities_total"], "top_account": result["top_influencer_handle"],
           "engine": result.get("inputs", {}).get("engine", "local")}
    left_out = result.get("inputs", {}).get("rows_left_out")
    if left_out:
        out["rows_left_out"] = left_out
        out["left_out_before"] = result["inputs"]["left_out_before"]
    return out




class Coaction(network.NetworkKind):
    name, label = "coaction", "Co-action"
    has_evidence = True
    params = (
        Param(
            "actions",
            LIST,
            COACTION_ACTIONS,
            "What two accounts co-act on.",
            choices=COACTION_ACTIONS,
            choice_labels=ACTION_LABELS,
        ),
        Param(
            "window",
            FLOAT,
            60.0,
            "Seconds: two accounts co-act when they hit one target this close in time.",
            low=0.0,
            high=WINDOW_MAX,
            open_low=True,
        ),
        Param(
            "windows", LIST, DEFAULT_WINDOWS, "The sweep: comma-separated windows in seconds.", item=FLOAT, max_items=12
        ),
        Param(
            "rule",
            CHOICE,
            "significant",
            "Which pairs are edges.",
            choices=RULES,
            choice_labels={"significant": "significant (Poisson test, FDR)", "raw": "raw: weight ≥ min weight"},
        ),
        Param(
            "alpha",
            FLOAT,
            0.05,
            "False-discovery rate of the significant edges, in (0, 1).",
            low=0.0,
            high=1.0,
            open_low=True,
            open_high=True,
        ),
        Param("min_weight", INT, 1, "Fewest co-actions an edge needs.", low=1, high=100_000),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        windows = sorted(clean["windows"])
        if not 1 <= len(windows) <= 12 or not all(0 < w <= WINDOW_MAX for w in windows):
            errors["windows"] = f"windows: one to twelve windows, each in (0, {WINDOW_MAX:,}] seconds."
        clean = {**clean, "windows": windows}
        if not errors:
            config_or_errors(lambda: config(clean), errors)
        return clean

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. read the co-action table; 2. ``coaction_report`` (every action, the sweep); 3. name and trim."""
        from ml.coordination import coaction_report

        params, collection = analysis_input.params, analysis_input.collection
        progress(0.0, "Reading the posts and interactions", force=True)
        posts, bound = coaction_frame(collection=collection, actions=params["actions"])
        if posts.empty:
            raise JobError(
                f"The collection “{collection.name}” has nothing to co-act on for {', '.join(params['actions'])}."
            )
        inputs = {
            "rows_read": len(posts),
            "rows_total": bound["total"],
            "rows_left_out": bound["rows_left_out"],
            "left_out_before": bound["left_out_before"],
            "accounts": int(posts["account"].nunique()),
        }
        progress.provenance(
            inputs=[{"collection": collection.pk, "name": collection.name, **inputs}], model={"coaction": params}
        )
        try:
            report = coaction_report(
                posts, config(params), on_progress=lambda f, stage: progress(0.1 + 0.85 * f, stage),
                **network.dask_options(),
            )
        except ValueError as exc:
            raise JobError(f"The co-action analysis could not run: {exc}") from None
        inputs["engine"] = report["engine"]
        result = {
            **network.described_network(collection, report),
            "sweep": network.compact(report["sweep"]),
            "sweep_figure": report["sweep_figure"],
            "window": params["window"],
            "inputs": inputs,
            # each action's own network (its own test), for the page's action filter
            "type_edges": {a: network.compact(e[: network.TYPE_EDGES_CAP]) for a, e in report["type_edges"].items()},
            "type_edges_total": {a: len(e) for a, e in report["type_edges"].items()},
            "type_counts": report["type_counts"],
        }
        return result, summary(result)

    def evidence(self, analysis, source: int, target: int) -> dict:
        """The pairs of posts by the two accounts on one target within the analysis's window."""

        from ml.coordination import coaction_evidence
        from ml.coordination.coaction import with_text_targets

        params = analysis.params
        posts = network.pair_events(
            coaction_posts(
                collection=analysis.collection,
                actions=params["actions"],
                account_ids=[source, target],
                cap=PAIR_EVENTS_CAP,
            )
        )
        if posts is None:
            return {"rows": [], "total": 0}
        if "text" in params["actions"]:
            posts = with_text_targets(posts, config(params))
        rows = coaction_evidence(posts, source, target, window=float(params["window"]))
        total = len(rows)
        rows = rows.head(EVIDENCE_ROWS)
        described = posts_described(
            collection=analysis.collection, post_ids=set(rows["post_id_first"]) | set(rows["post_id_second"])
        )
        return {
            "total": total,
            "rows": [
                {
                    "entity": r.target,
                    "entity_type": ACTION_LABELS.get(r.action, r.action),
                    "source_time": network.iso_time(r.seconds_first),
                    "target_time": network.iso_time(r.seconds_second),
                    "lag_s": float(r.lag_s),
                    "source_post": described.get(r.post_id_first),
                    "target_post": described.get(r.post_id_second),
                }
                for r in rows.itertuples()
            ],
        }

    def page_context(self, analysis) -> dict:
        result = analysis.result
        return {
            "report": result,
            "top_influencers": network.top_influencers(result),
            "figures": {"sweep": result["sweep_figure"]},
            "action_labels": ACTION_LABELS,
            "network_data": {
                "kind": "coaction",
                "nodes": result["nodes"],
                "edges": result["edges"],
                "type_edges": result.get("type_edges", {}),
                "type_counts": result.get("type_counts", {}),
                "type_labels": ACTION_LABELS,
                "counts": result["counts"],
                "rule": analysis.params["rule"],
                "label_keys": result["label_keys"],
                "timelines": [c.get("timeline", []) for c in result["communities"]],
                "actions": analysis.params["actions"],
                "before_after": None,
            },
        }
