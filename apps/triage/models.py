"""Triage queues: the posts a score analysis scored, shown one at a time in a chosen order, and the
analysts' decisions on them, the rounds of active learning and the resolutions of disagreements.

A queue reads its items from the source analysis's ``PostScore`` rows (written once with the analysis,
never changed), so it stores no item list of its own: ``total`` is counted once, when it is made. A
decision is one row per key press; for each post and analyst the latest row counts, and undo deletes the
analyst's latest. A decision with a label also writes ``Post.labels[label_key]``; the row keeps what it
replaced (``previous``) so an undo can put it back.

Active learning: each ``TriageRound`` is one model's scores of the queue's posts. Round 1 is the scoring the queue
was made from; a retrain (the ``triage_retrain`` analysis kind) adds the next round, and the queue then reads its
items from that round's scores (``analysis`` moves to the latest round's). Agreement: ``labels_per_item`` says how
many members label each item; a ``TriageResolution`` settles a post the analysts labelled differently, and is the
label training uses.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.investigations.models import Investigation


class TriageQueue(models.Model):
    class Unit(models.TextChoices):
        POST = "post", "posts"
        ACCOUNT = "account", "accounts"

    class Order(models.TextChoices):
        UNCERTAINTY = "uncertainty", "most uncertain first (nearest the detector's threshold)"
        SCORE = "score", "highest score first"
        RANDOM = "random", "random (seeded; for calibration)"

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="triage_queues")
    collection = models.ForeignKey("collections.Collection", on_delete=models.CASCADE, related_name="triage_queues")
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.POST)
    # A ``score`` analysis of the collection: its PostScores are a post queue's items; an account queue's items are
    # its ``TriageAccountItem`` rows, made from a ``score`` analysis (each account's mean post score) or a ``hybrid``
    # one (its account probability).
    analysis = models.ForeignKey("analyses.Analysis", on_delete=models.CASCADE, related_name="triage_queues")
    order = models.CharField(max_length=12, choices=Order.choices, default=Order.UNCERTAINTY)
    seed = models.PositiveIntegerField(default=0)
    label_key = models.CharField(max_length=64)
    label_values = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    # Each item is labelled by this many members, then leaves the others' queues; 0: every member labels every item.
    labels_per_item = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label_key} on {self.collection} ({self.order})"

    @property
    def title(self) -> str:
        return f"Triage #{self.pk}: {self.label_key} on {self.collection.name}"


class TriageAccountItem(models.Model):
    """One account of an account queue with the score that orders it, written once when the queue is made."""

    queue = models.ForeignKey(TriageQueue, on_delete=models.CASCADE, related_name="account_items", db_index=False)
    account = models.ForeignKey(
        "collections.Account", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    score = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["queue", "score"], name="triage_account_item_score_idx"),
            models.Index(fields=["queue", "account"], name="triage_account_item_acct_idx"),
        ]

    def __str__(self) -> str:
        return f"account {self.account_id} ({self.score:.3f}) in queue {self.queue_id}"


class TriageDecision(models.Model):
    """One analyst's label on one item (``value``), or a skip (``value`` empty), with who and when. The item is a
    post (a post queue) or an account (an account queue): exactly one of ``post`` and ``account`` is set."""

    queue = models.ForeignKey(TriageQueue, on_delete=models.CASCADE, related_name="decisions")
    # Plain ids into the bulk tables (no database constraint, as everywhere there).
    post = models.ForeignKey(
        "collections.Post", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False,
        null=True, blank=True,
    )
    account = models.ForeignKey(
        "collections.Account", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False,
        null=True, blank=True,
    )
    value = models.CharField(max_length=100, blank=True)
    # The post's label before this decision wrote it: {"value": ...}, or {} when it had none (or a skip).
    previous = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["queue", "user", "post"], name="triage_decision_user_post_idx"),
            models.Index(fields=["queue", "post"], name="triage_decision_post_idx"),
            models.Index(fields=["queue", "user", "account"], name="triage_decision_user_acct_idx"),
            models.Index(fields=["queue", "account"], name="triage_decision_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.value or 'skip'} on {'post' if self.post_id else 'account'} {self.post_id or self.account_id}"

    @property
    def item_id(self) -> int | None:
        return self.post_id or self.account_id

    @property
    def skipped(self) -> bool:
        return self.value == ""


class TriageRound(models.Model):
    """One round of active learning: the model whose scores order the queue, how many labels trained it, and its
    held-out metrics. Round 1 is the queue's source scoring (its model's own test-split metrics); round n > 1 is a
    ``triage_retrain`` analysis, measured on a held-out part of the queue's labels (``metrics``) beside the round
    before it on the same posts (``metrics["previous"]``)."""

    queue = models.ForeignKey(TriageQueue, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    # The round's scores of the queue's posts (a ``score`` analysis for round 1, a ``triage_retrain`` one after).
    analysis = models.ForeignKey("analyses.Analysis", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey("analyses.TextModel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    labels = models.PositiveIntegerField(default=0, help_text="the queue's labels the model trained on")
    original_labels = models.PositiveIntegerField(default=0, help_text="the first model's own training labels reused")
    held_out = models.CharField(max_length=200, blank=True, help_text="what the metrics were measured on")
    metrics = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["queue", "number"]
        constraints = [models.UniqueConstraint(fields=["queue", "number"], name="triage_round_number_unique")]

    def __str__(self) -> str:
        return f"round {self.number} of queue {self.queue_id}"


class TriageResolution(models.Model):
    """A member's settlement of a post the analysts labelled differently: the label training uses for it."""

    queue = models.ForeignKey(TriageQueue, on_delete=models.CASCADE, related_name="resolutions")
    post = models.ForeignKey(
        "collections.Post", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
    )
    value = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    resolved_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["queue", "post"], name="triage_resolution_post_unique")]

    def __str__(self) -> str:
        return f"{self.value} on post {self.post_id}"
