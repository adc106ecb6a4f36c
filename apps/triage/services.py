"""Writes: queues (editors), decisions and undo, resolutions of disagreements, retraining (editors; the caller's
selector checked the role). A label decision or a resolution writes ``Post.labels[label_key]`` too; every change
leaves one audit entry, in its transaction. A retrain is the ``triage_retrain`` analysis kind
(``apps.triage.retrain``): ``retrain_start`` starts it through ``analysis_start``, as ``run_analysis`` does, and
the kind's ``after_create`` calls ``round_record``."""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.services import analysis_start
from apps.audit.services import audit_record
from apps.collections.models import Post
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.triage.models import TriageDecision, TriageQueue, TriageResolution, TriageRound
from apps.triage.selectors import item_labels

LABEL_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
VALUE_MAX = 100
VALUES_MIN, VALUES_MAX = 2, 9  # one key each, 1 to 9
SEED_MAX = 2**31 - 1
LABELS_PER_ITEM_MAX = 20
FIRST_ROUND_HELD_OUT = "the first model's own test split (its training labels)"
METRIC_KEYS = ("n", "positives", "threshold", "auc", "average_precision", "f1", "precision", "recall", "accuracy")


def label_values_clean(raw) -> list[str]:
    """``"operation, organic, unsure"`` (or a list) as 2 to 9 distinct, non-blank values."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    values = [str(v).strip() for v in items if str(v).strip()]
    if not VALUES_MIN <= len(values) <= VALUES_MAX:
        raise ValidationError({"label_values": f"Give {VALUES_MIN} to {VALUES_MAX} labels, separated by commas "
                                               f"(keys 1–9 pick them); got {len(values)}."})
    if len(set(values)) != len(values):
        raise ValidationError({"label_values": "Each label may appear only once."})
    for value in values:
        if len(value) > VALUE_MAX or "\x00" in value:
            raise ValidationError({"label_values": f"A label holds at most {VALUE_MAX} characters (no NUL)."})
    return values


def _queue_checks(*, investigation: Investigation, analysis: Analysis, order: str, label_key: str, seed: int,
                  labels_per_item: int) -> None:
    if analysis.investigation_id != investigation.pk or analysis.kind != "score" or analysis.collection_id is None:
        raise ValidationError({"analysis": "Choose a scoring (a text model's scores) of this investigation."})
    if order not in TriageQueue.Order.values:
        raise ValidationError({"order": f"Choose one of {', '.join(TriageQueue.Order.values)}."})
    if not LABEL_KEY.fullmatch(label_key or ""):
        raise ValidationError({"label_key": "A label key is 1 to 64 letters, digits, '_', '.' or '-' "
                                            "(e.g. analyst_label)."})
    if not 0 <= seed <= SEED_MAX:
        raise ValidationError({"seed": f"A seed is a whole number from 0 to {SEED_MAX}."})
    if not 0 <= labels_per_item <= LABELS_PER_ITEM_MAX:
        raise ValidationError({"labels_per_item": f"Labels per item is a whole number from 0 (every member labels "
                                                  f"every item) to {LABELS_PER_ITEM_MAX}."})


@transaction.atomic
def queue_create(*, investigation: Investigation, user, analysis: Analysis, order: str, label_key: str,
                 label_values, seed: int = 0, labels_per_item: int = 0) -> TriageQueue:
    """The queue, and its round 1: the scoring it was made from, with its model's own held-out metrics."""
    _queue_checks(investigation=investigation, analysis=analysis, order=order, label_key=label_key, seed=seed,
                  labels_per_item=labels_per_item)
    values = label_values_clean(label_values)
    total = PostScore.objects.filter(analysis=analysis).count()
    if not total:
        raise ValidationError({"analysis": "That scoring stored no post scores."})
    queue = TriageQueue.objects.create(
        investigation=investigation, collection_id=analysis.collection_id, analysis=analysis, order=order, seed=seed,
        label_key=label_key, label_values=values, total=total, labels_per_item=labels_per_item, created_by=user,
    )
    model = TextModel.objects.filter(investigation=investigation, pk=(analysis.params or {}).get("model")).first()
    TriageRound.objects.create(queue=queue, number=1, analysis=analysis, model=model, held_out=FIRST_ROUND_HELD_OUT,
                               metrics=metrics_brief(model.metrics if model else {}), created_by=user)
    audit_record(investigation=investigation, user=user, action="triage.create", obj=queue,
                 summary=f"Made triage queue #{queue.pk}: {label_key} ({', '.join(values)}) on {total:,} posts, "
                         f"{order} order.",
                 detail={"analysis": analysis.pk, "order": order, "seed": seed, "label_key": label_key,
                         "label_values": values, "total": total, "labels_per_item": labels_per_item})
    return queue


def _post_of(queue: TriageQueue, post_id: int) -> Post:
    """The queue's post, locked until the decision commits (PostgreSQL; SQLite writes one at a time)."""
    if not PostScore.objects.filter(analysis_id=queue.analysis_id, post_id=post_id).exists():
        raise ValidationError({"post": f"Post {post_id} is not an item of this queue."})
    post = Post.objects.select_for_update().filter(pk=post_id, collection_id=queue.collection_id).first()
    if post is None:
        raise ValidationError({"post": f"Post {post_id} is no longer in the collection."})
    return post


@transaction.atomic
def decision_record(*, queue: TriageQueue, user, post_id: int, value: str = "", skip: bool = False) -> TriageDecision:
    """A label (``value``, one of the queue's) or a skip on one of the queue's posts. A label is written
    onto the post, and the decision keeps the label it replaced."""
    if not skip and value not in queue.label_values:
        raise ValidationError({"value": f"Choose one of {', '.join(queue.label_values)} (or skip)."})
    post = _post_of(queue, post_id)
    if skip:
        decision = TriageDecision.objects.create(queue=queue, post_id=post.pk, value="", user=user)
        audit_record(investigation=queue.investigation, user=user, action="triage.skip", obj=post,
                     summary=f"Skipped post {post.platform_id} in triage queue #{queue.pk}.",
                     detail={"queue": queue.pk, "post": post.pk})
        return decision
    labels = dict(post.labels or {})
    previous = {"value": labels[queue.label_key]} if queue.label_key in labels else {}
    post.labels = {**labels, queue.label_key: value}
    post.save(update_fields=["labels"])
    decision = TriageDecision.objects.create(queue=queue, post_id=post.pk, value=value, previous=previous, user=user)
    audit_record(investigation=queue.investigation, user=user, action="label.set", obj=post,
                 summary=f"Labelled post {post.platform_id} {queue.label_key}={value} in triage queue #{queue.pk}.",
                 detail={"queue": queue.pk, "post": post.pk, "key": queue.label_key, "value": value,
                         "previous": previous.get("value")})
    return decision


@transaction.atomic
def decision_undo(*, queue: TriageQueue, user) -> TriageDecision | None:
    """Remove the user's latest decision in the queue (None when there is none). A label's removal puts the
    post's label back as it was before it, unless a later decision in the queue has written it since: that
    one then takes over what it replaced (as if the removed one had never been)."""
    last = TriageDecision.objects.select_for_update().filter(queue=queue, user=user).order_by("-id").first()
    if last is None:
        return None
    post = Post.objects.select_for_update().filter(pk=last.post_id).first()
    if last.skipped or post is None:
        audit_record(investigation=queue.investigation, user=user, action="triage.undo", obj=last,
                     summary=f"Undid a skip of post {post.platform_id if post else last.post_id} in triage queue "
                             f"#{queue.pk}.",
                     detail={"queue": queue.pk, "post": last.post_id})
    else:
        _label_unwind(queue, last, post)
        audit_record(investigation=queue.investigation, user=user, action="label.undo", obj=post,
                     summary=f"Undid {queue.label_key}={last.value} on post {post.platform_id} in triage queue "
                             f"#{queue.pk}.",
                     detail={"queue": queue.pk, "post": post.pk, "key": queue.label_key, "value": last.value,
                             "restored": (post.labels or {}).get(queue.label_key)})
    decision_id = last.pk
    last.delete()
    last.pk = decision_id  # the caller reports which decision went
    return last


def _label_unwind(queue: TriageQueue, decision: TriageDecision, post: Post) -> None:
    later = (
        TriageDecision.objects.filter(queue=queue, post_id=decision.post_id, pk__gt=decision.pk)
        .exclude(value="")
        .order_by("pk")
        .first()
    )
    if later is not None:
        later.previous = decision.previous
        later.save(update_fields=["previous"])
        return
    labels = dict(post.labels or {})
    if labels.get(queue.label_key) != decision.value:  # changed outside this queue since: leave it
        return
    if "value" in decision.previous:
        labels[queue.label_key] = decision.previous["value"]
    else:
        labels.pop(queue.label_key, None)
    post.labels = labels
    post.save(update_fields=["labels"])


def metrics_brief(metrics: dict) -> dict:
    """The figures a round shows, from a model's full metrics (curves left out)."""
    return {k: metrics.get(k) for k in METRIC_KEYS if k in metrics}


# Agreement: resolving a disagreement ---------------------------------------------------------------

@transaction.atomic
def resolution_record(*, queue: TriageQueue, user, post_id: int, value: str) -> TriageResolution:
    """Settle a post the analysts labelled differently: the label training uses for it, also written onto the
    post. Resolving it again replaces the earlier resolution."""
    if value not in queue.label_values:
        raise ValidationError({"value": f"Choose one of {', '.join(queue.label_values)}."})
    post = _post_of(queue, post_id)
    given = item_labels(queue=queue).get(post.pk, {})
    if len(set(given.values())) < 2:
        raise ValidationError({"post": f"Post {post.platform_id} has no disagreement to resolve."})
    resolution, _ = TriageResolution.objects.update_or_create(queue=queue, post_id=post.pk,
                                                              defaults={"value": value, "user": user})
    labels = dict(post.labels or {})
    previous = labels.get(queue.label_key)
    post.labels = {**labels, queue.label_key: value}
    post.save(update_fields=["labels"])
    audit_record(investigation=queue.investigation, user=user, action="label.resolve", obj=post,
                 summary=f"Resolved post {post.platform_id} as {queue.label_key}={value} in triage queue #{queue.pk} "
                         f"({', '.join(f'{who}: {v}' for who, v in sorted(given.items()))}).",
                 detail={"queue": queue.pk, "post": post.pk, "key": queue.label_key, "value": value,
                         "labels": given, "previous": previous})
    return resolution


# Active learning: a retrain is an analysis kind; its round is written with its Analysis -----------------

def retrain_start(*, queue: TriageQueue, user, params: dict | None = None, enqueue: bool = True) -> Job:
    """Start the queue's next round (the ``triage_retrain`` analysis, as ``run_analysis triage_retrain --param
    queue=ID`` does); the kind's checks (enough labels of both classes...) answer with a ValidationError."""
    return analysis_start(investigation=queue.investigation, user=user, kind="triage_retrain",
                          collection=queue.collection, params={**(params or {}), "queue": queue.pk}, enqueue=enqueue)


def round_record(*, analysis: Analysis, model: TextModel | None, labels: int, original_labels: int, held_out: str,
                 metrics: dict) -> TriageRound:
    """Inside the retrain Analysis's transaction: the queue's next round, and the queue now reads its items (and
    its order) from this round's scores. The queue row is locked so two retrains finishing at once number apart."""
    queue = TriageQueue.objects.select_for_update().get(pk=analysis.params["queue"])
    number = (queue.rounds.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    record = TriageRound.objects.create(queue=queue, number=number, analysis=analysis, model=model, labels=labels,
                                        original_labels=original_labels, held_out=held_out, metrics=metrics,
                                        created_by=analysis.created_by)
    queue.analysis = analysis
    queue.total = PostScore.objects.filter(analysis=analysis).count()
    queue.save(update_fields=["analysis", "total"])
    auc = metrics.get("auc")
    audit_record(investigation=queue.investigation, user=analysis.created_by, action="triage.retrain", obj=queue,
                 summary=f"Retrained triage queue #{queue.pk}: round {number} from {labels:,} of its labels"
                         f"{f' and {original_labels:,} original ones' if original_labels else ''}"
                         f"{f', held-out AUC {auc:.3f}' if isinstance(auc, float) else ''}.",
                 detail={"queue": queue.pk, "round": number, "analysis": analysis.pk,
                         "model": model.pk if model else None, "labels": labels, "original_labels": original_labels,
                         "auc": auc, "f1": metrics.get("f1")})
    return record
