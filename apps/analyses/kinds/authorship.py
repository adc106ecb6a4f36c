"""Authorship (docs/methods.md, authorship): does each post fit the account it was posted from?

Inputs come from the database through ``authorship_posts``: all of the account's posts and a bounded,
deterministic sample of other accounts' original posts as negatives. ``ml.authorship`` is imported
inside the functions: scikit-learn and pandas cost a second at start-up, and every process (the
web server, each command) registers this kind whether it runs one or not.
"""
from __future__ import annotations

from dataclasses import replace

from django.core.exceptions import ValidationError

from apps.analyses.kinds.base import FLAG, INT, LIST, TEXT, Kind, Param
from apps.analyses.selectors import account_find, account_get, account_key, authorship_posts
from apps.jobs.services import JobError

LIMIT_DEFAULT, LIMIT_MAX = 200, 500  # ranked posts kept in the result (least-like first)
# The latest own posts modelled. Two methods x (CV + time test + a 6-point learning curve + out-of-fold
# ranking) is about 60 fits; over 5,000 posts a side, character n-grams would take many minutes.
MAX_POSTS_DEFAULT = 5_000
PASTED_MAX = 20
# Pasted posts are scored in the request when refitting the chosen model is cheap (two fits on this
# many posts take a second or two); above it the page starts a small job instead.
SYNC_SCORE_MAX_ROWS = 3_000
MODEL_LABELS = {"linear_svm": "linear SVM", "rbf_svm": "Gaussian SVM", "logistic": "logistic regression"}


def methods(params: dict) -> dict:
    from ml.authorship import METHODS

    return {
        name: replace(config, max_posts=params["max_posts"], cv_folds=params["cv_folds"])
        for name, config in METHODS.items()
    }


SPLIT = "time-ordered"  # the headline test: fitted on the earlier posts, tried on the latest (ml.authorship)


def summary(report: dict) -> dict:
    """The time-ordered test accuracy leads: cross-validation (random folds) overstates it on accounts whose
    style or topics drift (docs/quality.md, Authorship); the CV figure follows as the method's choice."""
    chosen = report["methods"][report["chosen"]]
    posts = report["posts"]
    return {
        "account": report["account"],
        "split": SPLIT,
        "test_accuracy": chosen["test_accuracy"],
        "cv_accuracy": chosen["cv_accuracy"],
        "chosen": report["chosen"],
        "own_posts": report["own_posts"],
        "negatives": report["negatives"],
        "least_like_probability": posts[0]["probability"] if posts else None,
    }


def score_cheap(analysis) -> bool:
    return analysis.result.get("own_posts", 0) + analysis.result.get("negatives", 0) <= SYNC_SCORE_MAX_ROWS


def score(analysis, texts: list[str]) -> list[dict]:
    """Pasted texts scored by the analysis's chosen method, refitted on the same inputs (the negatives
    are a deterministic sample, so while the collection is unchanged this is the analysis's model).
    Stems come from the seed's word model, as on the ranked posts."""
    from ml.authorship import SEED, AuthorshipError, AuthorshipModel, account_set, posts_frame, score_texts

    account = account_get(collection=analysis.collection, account_id=analysis.params["account_id"])
    if account is None:
        raise ValidationError({"text": "The account is no longer in the collection."})
    config = methods(analysis.params)[analysis.result["chosen"]]
    try:
        aset = account_set(
            posts_frame(authorship_posts(collection=analysis.collection, account=account)), account_key(account), config
        )
    except AuthorshipError as exc:
        raise ValidationError({"text": str(exc)}) from None
    texts_, labels = aset.posts["text"], aset.posts["label"]
    model = AuthorshipModel(config).fit(texts_, labels)
    words = (
        model
        if config.features == "words"
        else AuthorshipModel(replace(SEED, cv_folds=config.cv_folds)).fit(texts_, labels)
    )
    return [
        {
            "text": row["text"],
            "probability": row["probability"],
            "stems_for": why["for"],
            "stems_against": why["against"],
        }
        for row, why in zip(score_texts(model, texts), words.explain(texts))
    ]


class Authorship(Kind):
    name, label = "authorship", "Authorship"
    internal = frozenset({"account_id"})
    params = (
        Param("account", TEXT, "", "The account: its handle, @handle or platform id.", max_length=200),
        Param("limit", INT, LIMIT_DEFAULT, "Ranked posts kept (least like the account first).", low=1, high=LIMIT_MAX),
        Param("max_posts", INT, MAX_POSTS_DEFAULT, "The account's latest posts modelled.", low=50, high=100_000),
        Param("cv_folds", INT, 5, "Cross-validation folds.", low=2, high=10),
        Param("curves", FLAG, True, "Learning curves (slower).", form=False),
        Param("pasted", LIST, (), "Texts to score against the account.", max_items=PASTED_MAX, form=False),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """The account (handle, "@handle" or platform id) must be in the collection."""
        value = clean["account"]
        account = account_find(collection=collection, account=value) if value else None
        if not value:
            errors["account"] = "Choose an account: its handle or platform id."
        elif account is None:
            errors["account"] = f"No account {value!r} in the collection “{collection.name}”."
        if errors:
            return clean
        pasted = [t[:2000] for t in clean["pasted"]]
        rest = {k: v for k, v in clean.items() if k not in ("account", "pasted")}
        return {"account": account_key(account), "account_id": account.pk, **rest, "pasted": pasted}

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. read the posts; 2. ``authorship_report`` (both methods, the better by CV, ranked posts);
        3. the summary the lists show. Too few posts ends the job with ml's message, not a traceback."""
        from ml.authorship import AuthorshipError, authorship_report

        params, collection = analysis_input.params, analysis_input.collection
        account = account_get(collection=collection, account_id=params["account_id"])
        if account is None:
            raise JobError(f"The account @{params['account']} is no longer in the collection “{collection.name}”.")
        progress(0.0, f"Reading the posts of @{params['account']}", force=True)
        posts = authorship_posts(collection=collection, account=account)
        own = posts["account"].count(account_key(account))
        progress.provenance(
            inputs=[
                {
                    "collection": collection.pk,
                    "name": collection.name,
                    "posts": len(posts["text"]),
                    "account_posts": own,
                    "other_posts_sampled": len(posts["text"]) - own,
                }
            ],
            model={name: config.as_dict() for name, config in methods(params).items()},
        )
        try:
            report = authorship_report(
                posts,
                account=account_key(account),
                methods=methods(params),
                pasted=params["pasted"],
                limit=params["limit"],
                curves=params["curves"],
                on_progress=lambda f, stage: progress(0.05 + 0.95 * f, stage),
            )
        except AuthorshipError as exc:
            raise JobError(str(exc)) from None
        report = {**report, "account_id": account.pk, "account_platform_id": account.platform_id}
        return report, summary(report)

    def page_context(self, analysis) -> dict:
        """What templates/analyses/authorship.html draws: the curves figure, the methods table, the posts."""
        from ml.authorship.charts import learning_curve_figure

        result = analysis.result
        has_curves = any(m.get("learning_curve") for m in result.get("methods", {}).values())
        methods_rows = [
            {
                "name": name,
                "chosen": name == result.get("chosen"),
                "model": MODEL_LABELS.get(m["config"]["model"], m["config"]["model"]),
                **{k: v for k, v in m.items() if k != "learning_curve"},
            }
            for name, m in result.get("methods", {}).items()
        ]
        chosen = result.get("methods", {}).get(result.get("chosen"), {})
        return {
            "report": result,
            "split": SPLIT,
            "chosen_method": chosen,
            "test_share": chosen.get("config", {}).get("test_share"),
            "methods_rows": methods_rows,
            "figures": {"learning-curve": learning_curve_figure(result)} if has_curves else {},
            "score_cheap": score_cheap(analysis),
        }
