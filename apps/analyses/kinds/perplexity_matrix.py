"""The cross-perplexity matrix and attribution (docs/methods.md, language models; figure 4 there).

Rows: the chosen language models (TextModels of kind "lm"), plus the untuned base model of those
fine-tuned from a local GPT-2 (a tiny GPT-2 trained from scratch has none: the result says so).
Columns: the chosen collections' posts that no row has seen. For a collection some chosen LM was trained
on, its held-out posts (those held out by every such LM); for any other, every k-th post by id. Both
capped at ``sample_posts``. Perplexity is per token when every row shares a vocabulary, else per byte.

Attribution: for a chosen target collection, the LMs ranked by perplexity on its unseen posts, least
surprised first ("which known operation does this resemble").

The Analysis's ``collection`` is the first column (the job framework runs every analysis on one
collection); ``collections`` names the others, so ``run_analysis perplexity_matrix --collection A
--param collections=B,C --param models=...`` compares A, B and C.
"""
from __future__ import annotations

from apps.analyses import selectors
from apps.analyses.kinds.base import FLAG, INT, LIST, TEXT, Kind, Param
from apps.analyses.kinds.train_lm import collection_texts, tiny, torch_threads
from apps.analyses.models import TextModel
from apps.collections.models import Collection
from apps.common.ids import as_id
from apps.jobs.services import JobError

SAMPLE_DEFAULT, SAMPLE_MAX = 200, 5_000
NO_BASE = "no untuned base row: a tiny GPT-2 trained from scratch has no base model"


def _models_check(investigation, items: list[str], errors: dict) -> list:
    lms = TextModel.objects.filter(investigation=investigation, kind=TextModel.Kind.LM)
    found = []
    for item in items:
        pk = as_id(item)
        model = lms.filter(pk=pk).first() if pk else lms.filter(name=item).order_by("-id").first()
        if model is None:
            errors["models"] = f"No language model {item!r} in this investigation."
        elif not model.weights_dir.is_dir():
            errors["models"] = f"The weights of the language model “{model.name}” are missing on disk; train it again."
        elif model not in found:
            found.append(model)
    if not items:
        errors["models"] = "Choose at least one language model (train one from a collection first)."
    return found


def _collections_check(investigation, items: list[str], errors: dict) -> list:
    found = []
    for item in items:
        collection = _collection_find(investigation, item)
        if collection is None:
            errors["collections"] = f"No collection {item!r} in this investigation."
        elif collection not in found:
            found.append(collection)
    return found


def _collection_find(investigation, item):
    rows = Collection.objects.filter(investigation=investigation)
    item = str(item).strip()
    pk = as_id(item)
    return rows.filter(pk=pk).first() if pk else rows.filter(name=item).first()


def summary(result: dict) -> dict:
    matrix = result["matrix"]
    out = {"rows": len(matrix["rows"]), "columns": len(matrix["columns"]), "unit": matrix["unit"],
           "lowest_row_per_column": dict(zip(matrix["columns"], matrix["lowest_row_per_column"]))}
    if result["attribution"]:
        out["attributed_to"] = result["attribution"]["ranking"][0]["model"]
    return out


def _model_rows(investigation, ids: list[int]) -> list:
    found = {m.pk: m for m in TextModel.objects.filter(investigation=investigation, kind=TextModel.Kind.LM, pk__in=ids)}
    missing = [pk for pk in ids if pk not in found or not found[pk].weights_dir.is_dir()]
    if missing:
        raise JobError(f"Language model(s) #{', #'.join(map(str, missing))} were deleted before the matrix ran.")
    return [found[pk] for pk in ids]


def _diagonal_first(models: list, collection_ids: list[int]) -> list:
    """Rows in the columns' order (each collection's own LM on the diagonal), then the other LMs."""
    def column_of(model) -> int:
        trained = {t["id"] for t in model.training}
        return next((i for i, pk in enumerate(collection_ids) if pk in trained), len(collection_ids))

    return sorted(models, key=column_of)


def _row_name(model) -> str:
    return f"{model.name} (#{model.pk})"


def _load(model):
    from ml.text import CollectionLM, TextModelError

    try:
        return CollectionLM.load(model.weights_dir)
    except TextModelError as exc:
        raise JobError(f"The language model “{model.name}” cannot be loaded: {exc}.") from None


def _bases(models, include: bool) -> tuple[dict, list[str]]:
    """The untuned base of each distinct base directory; a note for the LMs that have none."""
    from pathlib import Path

    from ml.text import CollectionLM, TextModelError

    bases, notes = {}, []
    scratch = [m.name for m in models if not m.params.get("base_dir")]
    if scratch:
        notes.append(f"{', '.join(scratch)}: {NO_BASE}.")
    for directory in sorted({m.params["base_dir"] for m in models if m.params.get("base_dir")}) if include else []:
        name = f"untuned base: {Path(directory).name}"
        try:
            bases[name] = CollectionLM.base(directory, name=name)
        except TextModelError as exc:
            notes.append(f"The base model {directory} cannot be loaded any more ({exc}): no row for it.")
    return bases, notes


def _collection(investigation, pk: int):
    found = Collection.objects.filter(investigation=investigation, pk=pk).first()
    if found is None:
        raise JobError(f"Collection #{pk} was deleted before the matrix ran.")
    return found


def _unseen(collection, models, cap: int, seed: int) -> dict:
    """Posts of ``collection`` no chosen LM trained on: the held-out posts of the LMs trained on it (those
    held out by all of them), else every k-th post by id; at most ``cap``, picked with a seeded generator."""
    import numpy as np

    trained = [m for m in models if any(t["id"] == collection.pk for t in m.training)]
    if not trained:
        posts = collection_texts(collection, cap)
        source = "every k-th post by id" if posts["sampled"] else "every post"
    else:
        held = set.intersection(*(set(m.split.get("held_out_post_ids", [])) for m in trained))
        ids = sorted(held)
        if len(ids) > cap:
            ids = sorted(np.random.default_rng(seed).choice(ids, size=cap, replace=False).tolist())
        texts = selectors.post_texts(post_ids=ids)
        posts = {"post_id": texts["post_id"], "text": texts["text"]}
        source = f"held out by {', '.join(m.name for m in trained)}"
    if not posts["post_id"]:
        raise JobError(
            f"The collection “{collection.name}” has no post that every language model trained on it held out."
        )
    return {**posts, "source": source}


def _attribution(investigation, params, models, lms, attribute, progress) -> dict | None:
    if params["target"] is None:
        return None
    target = _collection(investigation, params["target"])
    progress(0.8, f"Attributing “{target.name}”", force=True)
    posts = _unseen(target, models, params["sample_posts"], params["seed"] + 1)
    ranking = attribute(lms, posts["text"])
    by_name = {_row_name(m): m for m in models}
    for row in ranking:
        model = by_name[row["model"]]
        row.update(model_id=model.pk, trained_on=[t["name"] for t in model.training])
    return {
        "target": {
            "collection_id": target.pk,
            "name": target.name,
            "posts": len(posts["post_id"]),
            "source": posts["source"],
        },
        "ranking": ranking,
    }


def _own_lowest(matrix: dict, models, collections) -> list[dict]:
    """Per column with an LM trained on it: does its own LM find it least surprising (the diagonal wins)?"""
    out = []
    for collection, lowest in zip(collections, matrix["lowest_row_per_column"]):
        own = [_row_name(m) for m in models if any(t["id"] == collection.pk for t in m.training)]
        if own:
            out.append({"column": collection.name, "own": own, "lowest": lowest, "own_is_lowest": lowest in own})
    return out


def attribution_figure(attribution: dict) -> dict:
    ranking = attribution["ranking"]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "x": [r["perplexity"] for r in ranking],
                "y": [r["model"] for r in ranking],
                "text": [f"{r['perplexity']:.2f}" for r in ranking],
                "textposition": "auto",
                "name": "perplexity",
            }
        ],
        "layout": {
            "title": {"text": f"Attribution of “{attribution['target']['name']}”: lowest perplexity first"},
            "yaxis": {"autorange": "reversed", "automargin": True},
            "xaxis": {"title": {"text": f"perplexity per {ranking[0]['unit']} (lower: more alike)"}},
        },
    }


class PerplexityMatrix(Kind):
    name, label = "perplexity_matrix", "Cross-perplexity matrix"
    params = (
        Param("models", LIST, (), "The rows: language models of this investigation (ids or names)."),
        Param(
            "collections",
            LIST,
            (),
            "The columns besides this collection, at least two in all: each scored on posts "
            "no chosen model trained on (ids or names).",
        ),
        Param(
            "target",
            TEXT,
            "",
            "Optional: a collection to attribute — the models ranked by perplexity on it.",
            max_length=200,
        ),
        Param("sample_posts", INT, SAMPLE_DEFAULT, "At most this many posts per collection.", low=10, high=SAMPLE_MAX),
        Param("include_base", FLAG, True, "Add the untuned base model as a row, where there is one."),
        Param("seed", INT, 0, "The sample's seed.", low=0, high=2**31 - 1, form=False),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """Models: LMs of this investigation with weights on disk; collections: at least two of this
        investigation; target: one more (or one of them) to attribute, ranked by two LMs or more."""
        investigation = collection.investigation
        models = _models_check(investigation, clean["models"], errors)
        collections = _collections_check(investigation, [str(collection.pk), *clean["collections"]], errors)
        if collections and len(collections) < 2:
            errors.setdefault("collections", "Choose at least two collections: the matrix compares them.")
        target = None
        if clean["target"]:
            found = _collection_find(investigation, clean["target"])
            if found is None:
                errors["target"] = f"No collection {clean['target']!r} in this investigation to attribute."
            elif len(models) < 2:
                errors["target"] = "Attribution ranks language models: choose at least two."
            target = found.pk if found else None
        return {**clean, "models": [m.pk for m in models], "collections": [c.pk for c in collections], "target": target}

    def run(self, analysis_input, progress) -> tuple[dict, dict]:
        """1. load the LMs and the base models; 2. each collection's unseen posts; 3. the matrix, row by row;
        4. attribution of the target; 5. the result."""
        from ml.text import TextModelError, attribute, cross_perplexity

        params, investigation = analysis_input.params, analysis_input.investigation
        progress(0.0, "Loading the language models", force=True)
        models = _diagonal_first(_model_rows(investigation, params["models"]), params["collections"])
        lms = {_row_name(m): _load(m) for m in models}
        bases, notes = _bases(models, params["include_base"])
        collections = [_collection(investigation, pk) for pk in params["collections"]]
        columns = {c.name: _unseen(c, models, params["sample_posts"], params["seed"]) for c in collections}
        progress.provenance(
            inputs=[
                {**selectors.collection_fingerprint(c), "posts_scored": len(columns[c.name]["post_id"])}
                for c in collections
            ],
            model={"text_models": [m.pk for m in models]},
        )
        progress(0.1, f"Perplexity of {len(lms) + len(bases)} model(s) on {len(columns)} collection(s)", force=True)
        small = all(tiny(m.params.get("base_dir", "")) for m in models)
        try:
            with torch_threads(1 if small else None):
                def on_row(done, total):
                    return progress(0.1 + 0.7 * done / total, f"Perplexity: row {done} of {total}")

                matrix = cross_perplexity(
                    {**lms, **bases}, {name: col["text"] for name, col in columns.items()}, on_row=on_row
                )
                attribution = _attribution(investigation, params, models, lms, attribute, progress)
        except TextModelError as exc:
            raise JobError(f"The perplexity cannot be computed: {exc}.") from None
        result = {
            "matrix": matrix,
            "notes": notes,
            "rows": [
                {"name": _row_name(m), "model_id": m.pk, "trained_on": [t["name"] for t in m.training], "base": False}
                for m in models
            ]
            + [{"name": name, "model_id": None, "trained_on": [], "base": True} for name in bases],
            "columns": [
                {
                    "collection_id": c.pk,
                    "name": c.name,
                    "posts": len(columns[c.name]["post_id"]),
                    "source": columns[c.name]["source"],
                }
                for c in collections
            ],
            "own_lowest": _own_lowest(matrix, models, collections),
            "attribution": attribution,
        }
        return result, summary(result)

    def page_context(self, analysis) -> dict:
        from ml.text.charts import perplexity_matrix_figure

        result = analysis.result
        heatmap = perplexity_matrix_figure(result["matrix"])
        heatmap["layout"]["yaxis"]["automargin"] = True  # long model names
        figures = {"perplexity-matrix": heatmap}
        if result.get("attribution"):
            figures["attribution"] = attribution_figure(result["attribution"])
        cells = [
            {"row": row, "values": values}
            for row, values in zip(result["matrix"]["rows"], result["matrix"]["perplexity"])
        ]
        return {"report": result, "figures": figures, "cells": cells}
