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
from apps.collections.models import Account, Post
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.triage.models import TriageAccountItem, TriageDecision, TriageQueue, TriageResolution, TriageRound
from apps.triage.selectors import SOURCE_KINDS, is_account_queue, item_field, item_labels, walks_restart

LABEL_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
VALUE_MAX = 100
VALUES_MIN, VALUES_MAX = 2, 9  # one key each, 1 to 9
SEED_MAX = 2**31 - 1
LABELS_PER_ITEM_MAX = 20
FIRST_ROUND_HELD_OUT = "the first model's own test split (its training labels)"
RETRAIN_POSTS_ONLY = ("Retraining is for post queues only: it fine-tunes the text classifier on labelled posts, and "
                      "an account queue's labels are on accounts.")
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


def _queue_checks(*, investigation: Investigation, analysis: Analysis, unit: str, order: str, label_key: str,
                  seed: int, labels_per_item: int) -> None:
    if unit not in TriageQueue.Unit.values:
        raise ValidationError({"unit": f"Choose one of {', '.join(TriageQueue.Unit.values)}."})
    if (analysis.investigation_id != investigation.pk or analysis.kind not in SOURCE_KINDS[unit]
            or analysis.collection_id is None):
        what = ("a scoring (a text model's scores) or a hybrid account score" if unit == TriageQueue.Unit.ACCOUNT
                else "a scoring (a text model's scores)")
        raise ValidationError({"analysis": f"Choose {what} of this investigation."})
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


def account_scores(analysis: Analysis) -> dict[int, float]:
    """{account id: score} an account queue orders: each account's mean post score in a scoring, or a hybrid
    analysis's account probability (``result["table"]``); placeholder authors (no real account) left out."""
    from apps.analyses.hybrid_selectors import content_means

    if analysis.kind == "hybrid":
        table = (analysis.result or {}).get("table") or {}
        scores = {int(a): float(p) for a, p in zip(table.get("account", []), table.get("probability", []))
                  if p is not None}
    else:
        scores = content_means(analysis=analysis)
    placeholders = set(Account.objects.filter(pk__in=list(scores), placeholder=True).values_list("pk", flat=True))
    return {a: s for a, s in scores.items() if a not in placeholders}


@transaction.atomic
def queue_create(*, investigation: Investigation, user, analysis: Analysis, order: str, label_key: str,
                 label_values, seed: int = 0, labels_per_item: int = 0, unit: str = TriageQueue.Unit.POST
                 ) -> TriageQueue:
    """The queue, and its round 1: the scoring it was made from, with its model's own held-out metrics. An account
    queue also stores its items (``account_scores``) once; it has no retraining rounds beyond the first."""
    _queue_checks(investigation=investigation, analysis=analysis, unit=unit, order=order, label_key=label_key,
                  seed=seed, labels_per_item=labels_per_item)
    values = label_values_clean(label_values)
    scores = account_scores(analysis) if unit == TriageQueue.Unit.ACCOUNT else None
    total = len(scores) if scores is not None else PostScore.objects.filter(analysis=analysis).count()
    if not total:
        raise ValidationError({"analysis": f"That analysis stored no {'account' if scores is not None else 'post'} "
                                           f"scores."})
    queue = TriageQueue.objects.create(
        investigation=investigation, collection_id=analysis.collection_id, analysis=analysis, unit=unit, order=order,
        seed=seed, label_key=label_key, label_values=values, total=total, labels_per_item=labels_per_item,
        created_by=user,
    )
    if scores is not None:
        TriageAccountItem.objects.bulk_create(
            (TriageAccountItem(queue=queue, account_id=a, score=s) for a, s in scores.items()), batch_size=5_000)
    model = TextModel.objects.filter(investigation=investigation, pk=(analysis.params or {}).get("model")).first()
    TriageRound.objects.create(queue=queue, number=1, analysis=analysis, model=model, held_out=FIRST_ROUND_HELD_OUT,
                               metrics=metrics_brief(model.metrics if model else {}), created_by=user)
    audit_record(investigation=investigation, user=user, action="triage.create", obj=queue,
                 summary=f"Made triage queue #{queue.pk}: {label_key} ({', '.join(values)}) on {total:,} {unit}s, "
                         f"{order} order.",
                 detail={"analysis": analysis.pk, "unit": unit, "order": order, "seed": seed, "label_key": label_key,
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


def _account_of(queue: TriageQueue, account_id: int) -> Account:
    """The account queue's account, locked until the decision commits."""
    if not TriageAccountItem.objects.filter(queue_id=queue.pk, account_id=account_id).exists():
        raise ValidationError({"account": f"Account {account_id} is not an item of this queue."})
    account = Account.objects.select_for_update().filter(pk=account_id, collection_id=queue.collection_id).first()
    if account is None:
        raise ValidationError({"account": f"Account {account_id} is no longer in the collection."})
    return account


def _target_of(queue: TriageQueue, post_id: int | None, account_id: int | None) -> tuple[Post | Account, str, str]:
    """(the item's row, its field in a decision, how the audit names it): a post of a post queue, an account of an
    account queue."""
    if is_account_queue(queue):
        if not account_id:
            raise ValidationError({"account": "This queue's items are accounts: give the account."})
        account = _account_of(queue, account_id)
        return account, "account", f"account {account}"
    if not post_id:
        raise ValidationError({"post": "This queue's items are posts: give the post."})
    post = _post_of(queue, post_id)
    return post, "post", f"post {post.platform_id}"


@transaction.atomic
def decision_record(*, queue: TriageQueue, user, post_id: int | None = None, value: str = "", skip: bool = False,
                    account_id: int | None = None) -> TriageDecision:
    """A label (``value``, one of the queue's) or a skip on one of the queue's items: a post (``post_id``) or, in an
    account queue, an account (``account_id``). A label is written onto the post (``Post.labels``) or the account
    (``Account.labels``), and the decision keeps the label it replaced."""
    if not skip and value not in queue.label_values:
        raise ValidationError({"value": f"Choose one of {', '.join(queue.label_values)} (or skip)."})
    target, field, named = _target_of(queue, post_id, account_id)
    if skip:
        decision = TriageDecision.objects.create(queue=queue, value="", user=user, **{f"{field}_id": target.pk})
        audit_record(investigation=queue.investigation, user=user, action="triage.skip", obj=target,
                     summary=f"Skipped {named} in triage queue #{queue.pk}.",
                     detail={"queue": queue.pk, field: target.pk})
        return decision
    labels = dict(target.labels or {})
    previous = {"value": labels[queue.label_key]} if queue.label_key in labels else {}
    target.labels = {**labels, queue.label_key: value}
    target.save(update_fields=["labels"])
    decision = TriageDecision.objects.create(queue=queue, value=value, previous=previous, user=user,
                                             **{f"{field}_id": target.pk})
    audit_record(investigation=queue.investigation, user=user, action="label.set", obj=target,
                 summary=f"Labelled {named} {queue.label_key}={value} in triage queue #{queue.pk}.",
                 detail={"queue": queue.pk, field: target.pk, "key": queue.label_key, "value": value,
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
    field = "account" if last.account_id else "post"
    target = (Account if last.account_id else Post).objects.select_for_update().filter(pk=last.item_id).first()
    named = f"{field} {(target if field == 'account' else target.platform_id) if target else last.item_id}"
    if last.skipped or target is None:
        audit_record(investigation=queue.investigation, user=user, action="triage.undo", obj=last,
                     summary=f"Undid a skip of {named} in triage queue #{queue.pk}.",
                     detail={"queue": queue.pk, field: last.item_id})
    else:
        _label_unwind(queue, last, target)
        audit_record(investigation=queue.investigation, user=user, action="label.undo", obj=target,
                     summary=f"Undid {queue.label_key}={last.value} on {named} in triage queue #{queue.pk}.",
                     detail={"queue": queue.pk, field: target.pk, "key": queue.label_key, "value": last.value,
                             "restored": (target.labels or {}).get(queue.label_key)})
    decision_id = last.pk
    last.delete()
    # The item is undecided again: walks start afresh, now and once more after the commit (a walk in between still
    # saw the decision; a rollback only costs one walk from the beginning).
    walks_restart(queue)
    transaction.on_commit(lambda: walks_restart(queue))
    last.pk = decision_id  # the caller reports which decision went
    return last


def _label_unwind(queue: TriageQueue, decision: TriageDecision, post: Post | Account) -> None:
    """Put the item's (a post's or an account's) label back as it was before ``decision``."""
    field = item_field(queue)
    later = (
        TriageDecision.objects.filter(queue=queue, pk__gt=decision.pk, **{field: getattr(decision, field)})
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
    if is_account_queue(queue):
        raise ValidationError({"post": "Resolving disagreements covers post queues only (it feeds retraining)."})
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
    queue=ID`` does); the kind's checks (enough labels of both classes...) answer with a ValidationError. Post
    queues only: the text classifier reads posts, and an account's label is no post's label."""
    if is_account_queue(queue):
        raise ValidationError({"queue": RETRAIN_POSTS_ONLY})
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
