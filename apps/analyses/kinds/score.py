"""Score a collection's posts with a stored text model : every scored post's score is stored
(``PostScore``, written by ``after_create`` in batches inside the transaction that writes the Analysis),
and the result keeps the bounded part: per-account aggregates (mean, max, share above the threshold) and
the score distribution. The page reads the posts from ``PostScore``: sorted, filtered, paginated.

Out-of-distribution check (``ml.text.ood``): each post's distance to the model's training posts is stored with its
score (``PostScore.ood``), and so is its shift probability (``PostScore.shift``: the collection's shift check, a
classifier telling the collection's posts from the training posts). A post beyond the training range (the 99th
percentile of the training posts' own distances, ``result["ood"]["p99"]``) or above the shift limit (the training
posts' own 99th percentile of it, ``result["ood"]["shift_check"]["limit"]``) is unreliable: the mark is stored
(``PostScore.unreliable``) and every page, CSV and API reads it; the result keeps the share of such posts. A model
trained before the check existed stores no distance (``result["ood"]["available"]`` False).

The model must belong to the collection's investigation: a model of another one is "no such model",
exactly as a missing one.
"""
from __future__ import annotations

import itertools
import math
from urllib.parse import urlencode

from django.core.paginator import Paginator

from apps.analyses import selectors
from apps.analyses.kinds.base import CHOICE, FLOAT, INT, Kind, Param
from apps.analyses.kinds.train_classifier import calibration_summary
from apps.analyses.models import PostScore
from apps.common.ids import as_id
from apps.jobs.services import JobError

# ml.text.SCORING_MODES. exact: ONNX Runtime where its export matched torch fp32 within 1e-4 (checked once per model),
# else torch fp32; fp32: torch, the reference; int8 only where its measured AUC change and per-post change are shown.
MODES = ("exact", "fp32", "int8")
MODE_NAMES = {"onnx": "ONNX Runtime fp32", "fp32": "torch fp32", "int8": "torch int8"}  # the mode that scored
MAX_POSTS_DEFAULT, MAX_POSTS_MAX = 20_000, 2_000_000  # MiniLM scores ~150 posts/s on 2 cores: ~2 min
ACCOUNTS_DEFAULT, ACCOUNTS_MAX = 200, 2_000
BINS = 20
OOD_BINS = 30
MOSTLY_OUTSIDE = 0.5  # a collection with more than this share of posts beyond the training range is "mostly outside"
POST_SCORE_BATCH = 5_000
POSTS_PER_PAGE = 50


def _posts(collection, cap: int) -> dict[str, list]:
    from django.db.models.functions import Mod

    rows = selectors.text_posts(collection)
    step = max(1, math.ceil(rows.count() / cap))
    if step > 1:
        rows = rows.annotate(pick=Mod("id", step)).filter(pick=0)
    columns: dict[str, list] = {"post_id": [], "text": [], "account": []}
    for pk, text, account in (
        rows.order_by("id").values_list("id", "text", "account_id")[:cap].iterator(chunk_size=selectors.BATCH_ROWS)
    ):
        columns["post_id"].append(pk)
        columns["text"].append(text)
        columns["account"].append(account)
    return columns


def _ood_result(scored: dict, accounts: list) -> dict:
    """The collection against the training posts: the share marked unreliable (beyond the range, or above the shift
    limit), the flagged posts among them, the shift check, a histogram of distances, and per account the share of
    its posts marked."""
    ood = scored.get("ood")
    if ood is None:
        return {"available": False, "reason": "the model was trained before the check existed"}
    distances, unreliable = ood["distances"], ood["unreliable"]
    flagged = [u for s, u in zip(scored["scores"], unreliable) if s >= scored["threshold"]]
    low, high = min(distances), max(max(distances), ood["p99"])
    width = (high - low) / OOD_BINS or 1.0
    counts = [0] * OOD_BINS
    for d in distances:
        counts[min(int((d - low) / width), OOD_BINS - 1)] += 1
    by_account: dict = {}
    for account, u in zip(accounts, unreliable):
        seen = by_account.setdefault(account, [0, 0])
        seen[0], seen[1] = seen[0] + 1, seen[1] + int(u)
    return {
        "available": True,
        "p95": ood["p95"],
        "p99": ood["p99"],
        "outside_p95": ood["outside_p95"],
        "outside_p99": ood["outside_p99"],
        "share": ood["unreliable_share"],
        "unreliable": sum(unreliable),
        "flagged": len(flagged),
        "flagged_unreliable": sum(flagged),
        "median": ood["median"],
        "shift_check": ood["shift_check"],
        "mostly_outside": ood["unreliable_share"] > MOSTLY_OUTSIDE,
        "distribution": {"edges": [low + i * width for i in range(OOD_BINS + 1)], "counts": counts},
        "by_account": {str(a): u / n for a, (n, u) in by_account.items()},
    }


def ood_figure(ood: dict) -> dict:
    """Histogram of the posts' distances to the training posts, the training range's 95th and 99th percentiles."""
    edges = ood["distribution"]["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    lines = [{"type": "line", "x0": ood[k], "x1": ood[k], "y0": 0, "y1": 1, "yref": "paper",
              "line": {"dash": dash, "color": "#b91c1c"}} for k, dash in (("p95", "dot"), ("p99", "dash"))]
    return {
        "data": [{"type": "bar", "x": centres, "y": ood["distribution"]["counts"], "width": edges[1] - edges[0],
                  "name": "posts"}],
        "layout": {
            "title": {"text": "Distance to the training posts (dashed: 99th percentile of training)"},
            "xaxis": {"title": {"text": "distance to the training posts (the model's out-of-distribution measure)"}},
            "yaxis": {"title": {"text": "posts"}},
            "shapes": lines,
        },
    }


def ood_limit(result: dict) -> float | None:
    """The distance beyond which a post of this score analysis is unreliable; None where none was measured."""
    ood = result.get("ood") or {}
    return ood.get("p99") if ood.get("available") else None


def _result(collection, model_row, scored, params, post_accounts=()) -> dict:
    """Per-account aggregates leave out the stand-in authors of text-only imports (one per post: no account)."""
    scores, limit = scored["scores"], params["limit"]
    ood = _ood_result(scored, post_accounts)
    unreliable_share = ood.pop("by_account", {})
    stand_ins = selectors.placeholder_ids(collection=collection)
    accounts = [a for a in scored["accounts"] if int(a["account"]) not in stand_ins]
    described = selectors.accounts_described(
        collection=collection, account_ids=[int(a["account"]) for a in accounts[:limit]]
    )
    top = [
        {
            **a,
            "account_id": int(a["account"]),
            "account": described.get(int(a["account"]), {}).get("handle", a["account"]),
            "labels": described.get(int(a["account"]), {}).get("labels", {}),
            "unreliable": unreliable_share.get(str(a["account"])),
        }
        for a in accounts[:limit]
    ]
    counts = [0] * BINS
    for s in scores:
        counts[min(int(s * BINS), BINS - 1)] += 1
    return {
        "model": model_row.pk,
        "model_name": model_row.name,
        "threshold": scored["threshold"],
        # Which threshold flags posts: the model's own (chosen on validation for a goal) or the analyst's;
        # and the temperature the stored scores were calibrated with (1: a model trained before calibration).
        "threshold_from": params.get("threshold_from", "model"),
        "temperature": scored["temperature"],
        "calibration": calibration_summary(model_row.metrics),
        "posts": len(scores),
        "accounts_scored": len(accounts),
        "above_threshold": sum(s >= scored["threshold"] for s in scores),
        "accounts": top,
        "distribution": {"edges": [i / BINS for i in range(BINS + 1)], "counts": counts},
        "per_post_stored": "all",
        # int8 scores differ from fp32: what that cost on the model's held-out posts goes with them
        "mode": scored["mode"],
        "mode_report": model_row.metrics.get("int8") if scored["mode"] == "int8" else None,
        "ood": ood,
    }


def summary(result: dict) -> dict:
    return {
        "model": result["model_name"],
        "posts": result["posts"],
        "accounts": result["accounts_scored"],
        "above_threshold": result["above_threshold"],
        "threshold": result["threshold"],
        "threshold_from": result["threshold_from"],
        # Posts beyond the model's training range (None: a model trained before the check existed).
        "unreliable_share": result["ood"]["share"] if result["ood"]["available"] else None,
    }


def distribution_figure(distribution: dict, threshold: float) -> dict:
    edges = distribution["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
    return {
        "data": [
            {"type": "bar", "x": centres, "y": distribution["counts"], "width": 1 / len(centres), "name": "posts"}
        ],
        "layout": {
            "title": {"text": "Score distribution"},
            "xaxis": {"title": {"text": "P(IO)"}, "range": [0, 1]},
            "yaxis": {"title": {"text": "posts"}},
            "shapes": [
                {
                    "type": "line",
                    "x0": threshold,
                    "x1": threshold,
                    "y0": 0,
                    "y1": 1,
                    "yref": "paper",
                    "line": {"dash": "dot"},
                }
            ],
        },
    }


def _scoring_mode(classifier, requested: str, texts: list[str], progress) -> tuple[str, str, dict | None]:
    """(the mode asked for, the mode that will score, ONNX Runtime's difference check when "exact" was asked).
    The first scoring with a model exports it and checks it against torch (seconds; cached next to its weights)."""
    from ml.text import TextModelError

    if requested != "exact":
        return requested, requested, None
    progress(0.02, "Checking ONNX Runtime against torch fp32 (once per model)", force=True)
    try:
        mode = classifier.scoring_mode(requested, texts)
    except TextModelError as exc:
        raise JobError(f"The model cannot score: {exc}.") from None
    status = classifier.exact_status()
    keep = ("default", "reason", "tolerance", "max_abs_diff", "max_score_diff", "posts", "onnxruntime", "error")
    return requested, mode, {k: status.get(k) for k in keep}


def mode_name(mode: str | None) -> str:
    """How a page names the mode that scored (analyses stored before the mode was recorded were torch fp32)."""
    return MODE_NAMES.get(mode or "fp32", mode)


def _account_of(collection, value: str):
    """An account of the collection by database id (as the page's links write it), else by handle or platform id."""
    pk = as_id(value)
    by_id = selectors.account_get(collection=collection, account_id=pk) if pk else None
    return by_id or selectors.account_find(collection=collection, account=value)


class Score(Kind):
    name, label = "score", "Text model scores"
    internal = frozenset({"model_name", "threshold_from"})
    params = (
        Param("model", INT, None, "The text classifier (its id).", low=1, high=2**63 - 1, form=False),
        Param("max_posts", INT, MAX_POSTS_DEFAULT, "Over this, every k-th post by id.", low=1, high=MAX_POSTS_MAX),
        Param(
            "limit",
            INT,
            ACCOUNTS_DEFAULT,
            "Accounts listed, highest mean score first.",
            low=1,
            high=ACCOUNTS_MAX,
            form=False,
        ),
        Param(
            "threshold",
            FLOAT,
            None,
            "Blank: the model's own, chosen on validation (0.5 for a model trained before calibration).",
            low=0.0,
            high=1.0,
        ),
        Param(
            "mode",
            CHOICE,
            "exact",
            "exact and fp32 give torch's fp32 scores (exact: faster, through ONNX Runtime where it matches); "
            "int8 is faster still and moves single scores.",
            choices=MODES,
            choice_labels={
                "exact": "exact (ONNX Runtime where it matches torch fp32 within 1e-4, else torch fp32)",
                "fp32": "fp32 (torch, the reference)",
                "int8": "int8 (faster; single scores can move, the AUC change below)",
            },
        ),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """The model must be a classifier of the collection's investigation with its weights on disk."""
        model = selectors.text_model_of(investigation=collection.investigation, model_id=clean["model"])
        if model is None:
            errors["model"] = "No such model in this investigation."
        elif model.kind == "lm":
            errors["model"] = f"“{model.name}” is a language model: score posts with a classifier."
        elif not model.weights_dir.is_dir():
            errors["model"] = f"The weights of the model “{model.name}” are missing on disk; train it again."
        if errors:
            return clean
        given = clean["threshold"]
        return {
            "model": model.pk,
            "model_name": model.name,
            "max_posts": clean["max_posts"],
            "limit": clean["limit"],
            # Blank: the model's own threshold (chosen on validation; 0.5 for a model trained before calibration).
            "threshold": calibration_summary(model.metrics)["threshold"] if given is None else given,
            "threshold_from": "model" if given is None else "analyst",
            "mode": clean["mode"],
        }

    def run(self, analysis_input, progress) -> tuple[dict, dict, dict]:
        """1. load the model; 2. read the posts (every k-th over the cap); 3. score in length-sorted batches;
        4. aggregate by account and the distribution; every post's score goes back as rows for ``after_create``."""
        from ml.text import TextModelError, load_text_model

        params, collection = analysis_input.params, analysis_input.collection
        model_row = selectors.text_model_of(investigation=analysis_input.investigation, model_id=params["model"])
        if model_row is None or not model_row.weights_dir.is_dir():
            raise JobError("The model was deleted before the scoring ran.")
        progress(0.0, f"Loading the model “{model_row.name}”", force=True)
        try:
            classifier = load_text_model(model_row.weights_dir)
        except TextModelError as exc:
            raise JobError(f"The stored model cannot be loaded: {exc}.") from None
        posts = _posts(collection, params["max_posts"])
        progress.provenance(
            inputs=[{**selectors.collection_fingerprint(collection), "posts_scored": len(posts["post_id"])}],
            model={"text_model": model_row.pk, "name": model_row.name, "kind": model_row.kind},
        )
        if not posts["post_id"]:
            raise JobError(f"The collection “{collection.name}” has no posts with text to score.")
        def on_step(s):
            return progress(0.05 + 0.9 * s["fraction"], f"Scoring: {s['scored']:,} of {len(posts['post_id']):,} posts")

        requested, mode, exact = _scoring_mode(classifier, params.get("mode", "fp32"), posts["text"], progress)
        progress(0.05, "Comparing the collection with the model's training posts (the shift check)")
        scored = classifier.score_accounts(
            posts["text"],
            posts["account"],
            threshold=params["threshold"],
            on_step=on_step,
            mode=mode,
        )
        result = {**_result(collection, model_row, scored, params, posts["account"]), "mode_requested": requested,
                  "exact_check": exact}
        ood, none = scored.get("ood") or {}, [None] * len(posts["post_id"])
        rows = {"post_id": posts["post_id"], "account": posts["account"], "score": scored["scores"],
                "ood": ood.get("distances") or none, "shift": ood.get("shift") or none,
                "unreliable": ood.get("unreliable") or none}
        return result, summary(result), rows

    def after_create(self, analysis, rows: dict) -> dict:
        """Inside the Analysis's transaction: one ``PostScore`` per scored post, in batches (a failure rolls
        the Analysis back too, so a stored analysis always has all its posts)."""
        none = [None] * len(rows["post_id"])
        columns = zip(rows["post_id"], rows["account"], rows["score"], rows.get("ood") or none,
                      rows.get("shift") or none, rows.get("unreliable") or none, strict=True)
        while batch := list(itertools.islice(columns, POST_SCORE_BATCH)):
            PostScore.objects.bulk_create(
                [
                    PostScore(analysis_id=analysis.pk, post_id=post, account_id=account, score=score, ood=ood,
                              shift=shift, unreliable=unreliable)
                    for post, account, score, ood, shift, unreliable in batch
                ]
            )
        return analysis.summary

    def page_context(self, analysis) -> dict:
        from ml.text.charts import account_scores_figure

        result = analysis.result
        ood = result.get("ood")  # absent: scored before the check existed
        figures = {
            "account-scores": account_scores_figure(result["accounts"]),
            "score-distribution": distribution_figure(result["distribution"], result["threshold"]),
        }
        if ood and ood.get("available"):
            figures["ood-distances"] = ood_figure(ood)
        return {
            "report": result,
            "ood": ood,
            "ood_limit": ood_limit(result),
            "mode_name": mode_name(result.get("mode")),
            "posts_stored": result.get("per_post_stored") == "all",
            "text_model": selectors.text_model_of(investigation=analysis.investigation, model_id=result["model"]),
            "figures": figures,
        }

    def page_query(self, analysis, query) -> dict:
        """The posts table of the page from the request's query: ``order`` (high, low), ``account`` (a handle
        or an id of the collection) and ``page``; an unknown account is said so, with no rows."""
        order = query.get("order") if query.get("order") in selectors.POST_SCORE_ORDERS else "high"
        account_query = (query.get("account") or "").strip()
        account = _account_of(analysis.collection, account_query) if account_query else None
        rows = selectors.post_score_list(analysis=analysis, order=order, account_id=account.pk if account else None)
        if account_query and account is None:
            rows = rows.none()
        page = Paginator(rows, POSTS_PER_PAGE).get_page(query.get("page"))
        keep = urlencode({k: v for k, v in (("order", order), ("account", account_query)) if v})
        return {
            "posts_page": page,
            "posts_order": order,
            "posts_account": account,
            "posts_account_query": account_query,
            "posts_query": keep,
        }
