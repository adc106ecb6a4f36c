"""Active learning on a triage queue (issue 14, item 4): the ``triage_retrain`` analysis kind. Registered by
``TriageConfig.ready`` beside the kinds of ``apps.analyses.registry``, so the queue page, the API
(``POST /api/triage/<id>/retrain/`` and ``/api/investigations/<id>/analyses/start/``) and
``manage.py run_analysis triage_retrain --collection NAME --param queue=ID`` all start the same job.

One round:
1. the labels training uses (``selectors.training_labels``: a resolution where analysts disagreed, else their
   common label), mapped to 1 (``positive_values``, default the queue's first label) and 0 (``negative_values``,
   default its second); other labels (e.g. "unsure") are left out;
2. a seeded ``held_out`` share of each class is set aside and never trained on: the round's metrics (AUC, F1 at the
   model's threshold) are measured there, and the round before's stored scores of the same posts give its figures
   on the same posts (``metrics["previous"]``), so the table says whether the labels helped;
3. the rest, plus the first model's own training labels when it has them (``original``; a queue label wins on a
   post both hold), fine-tune a copy of the queue's first model (round 1's: its weights are the start, so every
   round starts from the same place and differs only by the labels gathered);
4. every post of the queue is scored with the new model; ``after_create`` stores the model (a ``TextModel``), the
   scores (``PostScore``) and the round, and moves the queue onto them: its uncertainty order is now the new model's.
"""
from __future__ import annotations

import itertools
import shutil

from apps.analyses import selectors as analysis_selectors
from apps.analyses.kinds.base import FLAG, FLOAT, INT, LIST, Kind, Param
from apps.analyses.kinds.train_classifier import staged_cleanup, staging_dir, text_model_store
from apps.analyses.models import PostScore, TextModel
from apps.collections.models import Collection, Post
from apps.jobs.services import JobError
from apps.triage import services
from apps.triage.models import TriageQueue, TriageRound
from apps.triage.selectors import boundary, round_list, training_labels

LABELS_MIN = 2  # of each class among the queue's labels: one to train on and one held out, at the least
LEARNING_RATES = {"encoder": 5e-5, "gpt2": 1e-3}
POST_BATCH = 2_000
SCORE_BATCH = 5_000


def _queue_of(collection, queue_id) -> TriageQueue | None:
    return TriageQueue.objects.select_related("analysis", "investigation").filter(
        pk=queue_id, collection=collection).first()


def first_model(queue: TriageQueue) -> TextModel | None:
    """Round 1's model: the one the queue was made from, where every round starts."""
    found = TriageRound.objects.filter(queue=queue, number=1).select_related("model").first()
    return found.model if found else None


def _classes(queue: TriageQueue, clean: dict, errors: dict) -> tuple[list[str], list[str]]:
    values = queue.label_values
    positive = clean["positive_values"] or values[:1]
    negative = clean["negative_values"] or [v for v in values[1:2] if v not in positive]
    unknown = [v for v in positive + negative if v not in values]
    if unknown:
        errors["positive_values"] = (f"{', '.join(unknown)} is not a label of this queue: choose among "
                                     f"{', '.join(values)}.")
    elif set(positive) & set(negative) or not negative:
        errors["negative_values"] = "The negative labels must differ from the positive ones, and there must be one."
    return positive, negative


def binary_labels(chosen: dict[int, str], positive, negative) -> dict[int, int]:
    """{post: 1 or 0} of the posts whose label is a positive or a negative one."""
    return {post: int(value in positive) for post, value in chosen.items() if value in positive or value in negative}


def held_out_split(labels: dict[int, int], share: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, held out) post ids: ``share`` of each class held out (at least one, never all), picked by a seeded
    generator."""
    import numpy as np

    rng = np.random.default_rng(seed)
    train, held = [], []
    for label in (0, 1):
        posts = sorted(p for p, y in labels.items() if y == label)
        take = min(max(1, round(share * len(posts))), len(posts) - 1)
        order = rng.permutation(len(posts))
        held += [posts[i] for i in order[:take]]
        train += [posts[i] for i in order[take:]]
    return sorted(train), sorted(held)


class TriageRetrain(Kind):
    name, label = "triage_retrain", "Triage retraining (active learning)"
    internal = frozenset({"name", "start_model"})
    params = (
        Param("queue", INT, None, "The triage queue (its id) whose labels train the model.", low=1, high=2**63 - 1,
              form=False),
        Param("positive_values", LIST, (), "The queue's labels that mean IO (blank: its first label).", max_items=9),
        Param("negative_values", LIST, (), "The queue's labels that mean not IO (blank: its second label); "
              "other labels (e.g. unsure) are left out of training.", max_items=9),
        Param("original", FLAG, True, "Also train on the first model's own training labels, where it has them."),
        Param("original_max", INT, 1_000, "At most this many of those, sampled with the seed.", low=0, high=1_000_000),
        Param("held_out", FLOAT, 0.25, "Share of each class of the queue's labels held out to measure the round.",
              low=0.05, high=0.5),
        Param("epochs", INT, 1, "Passes over the training labels.", low=1, high=20),
        Param("batch_size", INT, 16, "Posts per training step.", low=1, high=512),
        Param("learning_rate", FLOAT, None, "Blank: 5e-5 for an encoder, 1e-3 for a tiny GPT-2.", low=1e-7, high=1.0),
        Param("max_length", INT, None, "Tokens per post. Blank: the first model's own (64 for a model that "
              "does not say).", low=8, high=512),
        Param("seed", INT, 0, "The held-out pick's, the sample's and the training's seed.", low=0, high=2**31 - 1,
              form=False),
    )

    def validate(self, collection, clean: dict, errors: dict) -> dict:
        """The queue (of this collection), its first model (weights on disk), the classes, and enough labels."""
        queue = _queue_of(collection, clean["queue"]) if clean["queue"] else None
        if queue is None:
            errors["queue"] = "Choose a triage queue of this collection."
            return clean
        if queue.unit != TriageQueue.Unit.POST:
            errors["queue"] = services.RETRAIN_POSTS_ONLY
            return clean
        model = first_model(queue)
        if model is None or model.kind == "lm" or not model.weights_dir.is_dir():
            errors["queue"] = "The queue's first model (or its weights) is gone: there is nothing to retrain."
            return clean
        positive, negative = _classes(queue, clean, errors)
        if errors:
            return clean
        labels = binary_labels(training_labels(queue=queue)[0], positive, negative)
        counts = [sum(y == c for y in labels.values()) for c in (1, 0)]
        if min(counts) < LABELS_MIN:
            errors["queue"] = (f"Label at least {LABELS_MIN} posts {' or '.join(positive)} and {LABELS_MIN} "
                               f"{' or '.join(negative)} first (the queue has {counts[0]} and {counts[1]}).")
            return clean
        return {
            **clean,
            "positive_values": positive,
            "negative_values": negative,
            "learning_rate": clean["learning_rate"] or LEARNING_RATES.get(model.kind, 5e-5),
            # a model trained at 128 (max_length auto) is fine-tuned at 128, not cut back to 64
            "max_length": clean["max_length"] or (model.params or {}).get("max_length") or 64,
            "name": f"{model.name} · triage #{queue.pk} retrained"[:200],
            "start_model": model.pk,
        }

    def run(self, analysis_input, progress):
        """1. the labels, split into training and held out; 2. the first model's own labels; 3. fine-tune a copy of
        the first model; 4. score the queue's posts; 5. measure on the held-out labels, this round and the one
        before; 6. save the weights to a staging directory."""
        params, investigation = analysis_input.params, analysis_input.investigation
        queue = _queue_of(analysis_input.collection, params["queue"])
        start = TextModel.objects.filter(pk=params["start_model"], investigation=investigation).first()
        if queue is None or start is None or not start.weights_dir.is_dir():
            raise JobError("The triage queue or its first model was deleted before the retraining ran.")
        progress(0.0, "Reading the queue's labels", force=True)
        chosen, unresolved = training_labels(queue=queue)
        labels = binary_labels(chosen, params["positive_values"], params["negative_values"])
        if min(sum(y == c for y in labels.values()) for c in (0, 1)) < LABELS_MIN:
            raise JobError(f"The queue needs at least {LABELS_MIN} labels of each class (some were undone).")
        train_ids, held_ids = held_out_split(labels, params["held_out"], params["seed"])
        original = _original_labels(start, exclude=set(chosen), params=params) if params["original"] else []
        rows = [(p, labels[p]) for p in train_ids] + original
        data = analysis_selectors.post_texts(post_ids=[p for p, _ in rows])
        label_of = dict(rows)
        y = [label_of[p] for p in data["post_id"]]
        progress.provenance(inputs=[analysis_selectors.collection_fingerprint(queue.collection)],
                            model={"start": start.pk, "name": start.name, "kind": start.kind, "queue": queue.pk})
        classifier = self._fit(start, params, data["text"], y, progress)
        items = _queue_posts(queue)
        progress(0.7, f"Scoring the queue's {len(items['post_id']):,} posts", force=True)

        def on_score(s):
            return progress(0.7 + 0.25 * s["fraction"], f"Scoring: {s['scored']:,} of {len(items['post_id']):,}")

        scores = classifier.probabilities(items["text"], on_step=on_score).tolist()
        score_of = dict(zip(items["post_id"], scores))
        metrics = _held_out_metrics(queue, classifier.decision_threshold, score_of, {p: labels[p] for p in held_ids})
        progress(0.96, "Saving the weights", force=True)
        staging = staging_dir(analysis_input.job)
        shutil.rmtree(staging, ignore_errors=True)
        classifier.save(staging)
        result = self._result(queue, start, classifier, params, metrics, train_ids, held_ids, labels, original,
                              unresolved, len(scores))
        result["staging_dir"] = str(staging)
        rows_out = {"post_id": items["post_id"], "account": items["account"], "score": scores}
        return result, _summary(result), rows_out

    def _fit(self, start: TextModel, params: dict, texts, y, progress):
        from ml.text import TextModelError

        classifier = _classifier(start, params)
        progress(0.02, f"Fine-tuning “{start.name}” on {len(y):,} posts ({sum(y):,} positive)", force=True)

        def on_step(s):
            return progress(0.02 + 0.66 * s["fraction"],
                            f"Training: epoch {s['epoch']}, step {s['step']}/{s['total_steps']}, "
                            f"loss {s['train_loss']:.3f}")

        try:
            classifier.fit_split(texts, y, on_step=on_step)
        except TextModelError as exc:
            raise JobError(f"The labels cannot train a model: {exc}.") from None
        # No validation split (every label not held out trains): T = 1 and the config's threshold (0.5), said so.
        return classifier.calibrate([], [])

    def _result(self, queue, start, classifier, params, metrics, train_ids, held_ids, labels, original, unresolved,
                scored: int) -> dict:
        train_pos = sum(labels[p] for p in train_ids) + sum(y for _, y in original)
        held_pos = sum(labels[p] for p in held_ids)
        held_out = (f"{len(held_ids)} of the queue's labels held out ({params['held_out']:.0%} of each class, "
                    f"seed {params['seed']}), never trained on")
        return {
            "queue": queue.pk,
            "start_model": start.pk,
            "base_model": f"{start.name} (model #{start.pk}), fine-tuned further",
            "labels": len(train_ids),
            "original_labels": len(original),
            "original_source": _original_source(start) if params["original"] else "not asked for",
            "unresolved": unresolved,
            "held_out": held_out,
            "threshold": classifier.decision_threshold,
            "metrics": {**metrics, "calibration": classifier.calibration_},
            "split": {"account_disjoint": False,
                      "train": {"posts": len(train_ids) + len(original), "positives": train_pos, "accounts": None},
                      "val": {"posts": 0, "positives": 0, "accounts": None},
                      "test": {"posts": len(held_ids), "positives": held_pos, "accounts": None}},
            "history": classifier.history_,
            "training": [analysis_selectors.collection_fingerprint(queue.collection)],
            "posts": scored,
            "used": {"train": [[p, labels[p]] for p in train_ids], "held_out": [[p, labels[p]] for p in held_ids]},
        }

    def after_create(self, analysis, rows) -> dict:
        """Inside the Analysis's transaction: the model and its weights, every post's score, then the round (which
        moves the queue onto these scores)."""
        start = TextModel.objects.get(pk=analysis.params["start_model"])
        model = text_model_store(analysis, kind=start.kind)
        columns = zip(rows["post_id"], rows["account"], rows["score"], strict=True)
        while batch := list(itertools.islice(columns, SCORE_BATCH)):
            PostScore.objects.bulk_create(PostScore(analysis_id=analysis.pk, post_id=post, account_id=account,
                                                    score=score) for post, account, score in batch)
        result = analysis.result
        metrics = services.metrics_brief(result["metrics"])
        metrics["previous"] = result["metrics"].get("previous")
        record = services.round_record(analysis=analysis, model=model, labels=result["labels"],
                                       original_labels=result["original_labels"], held_out=result["held_out"],
                                       metrics=metrics)
        analysis.result = {**result, "text_model_id": model.pk, "round": record.number}
        analysis.summary = {**analysis.summary, "text_model_id": model.pk, "round": record.number}
        analysis.save(update_fields=["result", "summary"])
        return analysis.summary

    def cleanup(self, job) -> None:
        staged_cleanup(job)

    def page_context(self, analysis) -> dict:
        queue = TriageQueue.objects.filter(pk=analysis.result.get("queue")).first()
        return {"report": analysis.result, "queue": queue, "rounds": list(round_list(queue=queue)) if queue else [],
                "text_model": TextModel.objects.filter(pk=analysis.result.get("text_model_id")).first()}


def _classifier(start: TextModel, params: dict):
    """A copy of the first model to fine-tune: its saved directory is the start (an encoder keeps its head too)."""
    from ml.text import CPU, TINY_GPT2, EncoderClassifier, GPT2Classifier
    from ml.text.config import TrainConfig

    gpt2 = start.kind == "gpt2"
    base = TINY_GPT2 if gpt2 else CPU
    train = TrainConfig(learning_rate=params["learning_rate"], epochs=params["epochs"],
                        batch_size=params["batch_size"], weight_decay=base.train.weight_decay,
                        grad_clip=base.train.grad_clip, patience=0, seed=params["seed"])
    config = type(base).from_dict({**base.as_dict(), "max_length": params["max_length"], "threshold_goal": "fixed",
                                   "ood": False, "train": train.__dict__})
    return (GPT2Classifier if gpt2 else EncoderClassifier)(model_dir=str(start.weights_dir), config=config)


def _original_source(start: TextModel) -> str:
    p = start.params or {}
    if p.get("label_source") == "collections":
        return f"collection #{p.get('positive_collection')} vs #{p.get('negative_collection')}"
    if p.get("label_source") in ("account_label", "post_label"):
        positive = ", ".join(p.get("positive_values", []))
        return f"{p['label_source'].replace('_', ' ')} {p.get('label_key')} in {positive}"
    return "none stored with the first model"


def _original_labels(start: TextModel, *, exclude: set[int], params: dict) -> list[tuple[int, int]]:
    """(post, 0/1) of the first model's own training labels, re-read as its training read them (its label source
    and collections), the queue's labelled posts left out, at most ``original_max`` picked with the seed."""
    import numpy as np

    p, cap = start.params or {}, params["original_max"]
    source = p.get("label_source")
    rows: list[tuple[int, int]] = []
    if source in ("account_label", "post_label") and start.training:
        collection = Collection.objects.filter(pk=start.training[0]["id"], investigation=start.investigation).first()
        if collection is not None:
            rows = analysis_selectors.labelled_post_ids(collection=collection, source=source, key=p["label_key"],
                                                        positive=p.get("positive_values", []))
    elif source == "collections":
        for key, label in (("positive_collection", 1), ("negative_collection", 0)):
            collection = Collection.objects.filter(pk=p.get(key), investigation=start.investigation).first()
            if collection is not None:
                rows += analysis_selectors.labelled_post_ids(collection=collection, source="collections", label=label)
    rows = [r for r in rows if r[0] not in exclude]
    if len(rows) > cap:
        picked = np.random.default_rng(params["seed"]).choice(len(rows), size=cap, replace=False)
        rows = [rows[i] for i in sorted(picked)]
    return rows


def _queue_posts(queue: TriageQueue) -> dict[str, list]:
    """The queue's posts (its latest round's scored posts still in the collection): id, text, account, by id."""
    ids = PostScore.objects.filter(analysis_id=queue.analysis_id).values("post_id")
    rows = Post.objects.filter(collection_id=queue.collection_id, pk__in=ids).order_by("id")
    columns: dict[str, list] = {"post_id": [], "text": [], "account": []}
    for pk, text, account in rows.values_list("id", "text", "account_id").iterator(chunk_size=POST_BATCH):
        columns["post_id"].append(pk)
        columns["text"].append(text or "")
        columns["account"].append(account)
    return columns


def _held_out_metrics(queue: TriageQueue, threshold: float, score_of: dict, held: dict[int, int]) -> dict:
    """This round's figures on the held-out labels, and (``previous``) the round before's on the same posts, from its
    stored scores at its own threshold."""
    from ml.text import TextModelError, classification_metrics

    posts = [p for p in sorted(held) if p in score_of]
    y = [held[p] for p in posts]
    try:
        metrics = classification_metrics(y, [score_of[p] for p in posts], threshold)
    except TextModelError:
        raise JobError("The held-out posts left in the collection hold one class only: label more posts.") from None
    before = dict(PostScore.objects.filter(analysis_id=queue.analysis_id, post_id__in=posts)
                  .values_list("post_id", "score"))
    previous = None
    if len(before) == len(posts):
        previous = services.metrics_brief(classification_metrics(y, [before[p] for p in posts], boundary(queue)))
    return {**metrics, "previous": previous}


def _summary(result: dict) -> dict:
    metrics, previous = result["metrics"], result["metrics"].get("previous") or {}
    return {"queue": result["queue"], "labels": result["labels"], "original_labels": result["original_labels"],
            "held_out": len(result["used"]["held_out"]), "posts": result["posts"], "auc": metrics.get("auc"),
            "f1": metrics.get("f1"), "previous_auc": previous.get("auc")}
