"""The one entry point for a job or a command: an account's authorship report as plain JSON data."""
from __future__ import annotations

from typing import Callable, Iterable

from .config import METHODS, SEED, AuthorshipConfig
from .data import account_set, posts_frame
from .evaluate import curve, evaluate
from .model import AuthorshipModel
from .score import rank_posts, score_texts

Progress = Callable[[float, str], None]


def _quiet(fraction: float, stage: str) -> None:
    pass


def authorship_report(posts, *, account, methods: dict[str, AuthorshipConfig] | None = None,
                      pasted: Iterable[str] = (), limit: int | None = 200, curves: bool = True,
                      on_progress: Progress = _quiet) -> dict:
    """1. evaluate each method (CV, time-ordered test, learning curve); 2. pick the one with the best
    cross-validated accuracy (never the test figure: that would tune on the test); 3. rank the
    account's posts least-like first and score any pasted texts with it.
    Raises AuthorshipError when the account has too few posts."""
    methods = methods or METHODS
    frame = posts_frame(posts)
    steps, done, results, sets = len(methods) * (2 if curves else 1) + 1, 0, {}, {}
    for name, config in methods.items():
        on_progress(done / steps, f"evaluating {name}")
        sets[name] = aset = account_set(frame, account, config)
        results[name] = {"config": config.as_dict(), **evaluate(aset, config)}
        done += 1
        if curves:
            on_progress(done / steps, f"learning curve {name}")
            results[name]["learning_curve"] = curve(aset, config)
            done += 1
    chosen = max(results, key=lambda name: results[name]["cv_accuracy"])
    on_progress(done / steps, f"scoring posts with {chosen}")
    ranked, pasted_scores = _score(sets[chosen], methods[chosen], list(pasted))
    on_progress(1.0, "done")
    aset = sets[chosen]
    return {
        "account": aset.account,
        "own_posts": int(aset.posts["label"].sum()),
        "dropped_retweets_and_repeats": aset.dropped,
        "negatives": int((aset.posts["label"] == 0).sum()),
        "topic_words": aset.topic_words,
        "methods": results,
        "chosen": chosen,
        "posts": _records(ranked.head(limit) if limit else ranked),
        "pasted": pasted_scores,
    }


def _score(aset, config: AuthorshipConfig, pasted: list[str]):
    """Scores come from the chosen method; the stems shown beside them always come from the seed's
    word model, because "#maga" and "obama" read better to an analyst than "ma" and " ob"."""
    texts, labels = aset.posts["text"], aset.posts["label"]
    model = AuthorshipModel(config).fit(texts, labels)
    words = model if config.features == "words" else AuthorshipModel(SEED).fit(texts, labels)
    ranked = rank_posts(aset, config, model)
    ranked = _with_stems(ranked, words)
    if not pasted:
        return ranked, []
    return ranked, [{**row, **_stems(why)} for row, why in zip(score_texts(model, pasted), words.explain(pasted))]


def _stems(reason: dict) -> dict:
    return {"stems_for": reason["for"], "stems_against": reason["against"]}


def _with_stems(ranked, words: AuthorshipModel):
    reasons = words.explain(ranked["text"])
    return ranked.assign(stems_for=[r["for"] for r in reasons], stems_against=[r["against"] for r in reasons])


def _records(ranked) -> list[dict]:
    rows = ranked.assign(time=ranked["time"].map(lambda t: t.isoformat()),
                         probability=ranked["probability"].round(4), percentile=ranked["percentile"].round(4))
    rows["post_id"] = rows["post_id"].map(lambda v: v.item() if hasattr(v, "item") else v)
    return rows.to_dict(orient="records")
