"""Triage queues: the posts a score analysis scored, shown one at a time in a chosen order, and the
analysts' decisions on them.

A queue reads its items from the source analysis's ``PostScore`` rows (written once with the analysis,
never changed), so it stores no item list of its own: ``total`` is counted once, when it is made. A
decision is one row per key press; for each post and analyst the latest row counts, and undo deletes the
analyst's latest. A decision with a label also writes ``Post.labels[label_key]``; the row keeps what it
replaced (``previous``) so an undo can put it back.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.investigations.models import Investigation


class TriageQueue(models.Model):
    class Unit(models.TextChoices):
        POST = "post", "posts"  # accounts later

    class Order(models.TextChoices):
        UNCERTAINTY = "uncertainty", "most uncertain first (nearest the detector's threshold)"
        SCORE = "score", "highest score first"
        RANDOM = "random", "random (seeded; for calibration)"

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="triage_queues")
    collection = models.ForeignKey("collections.Collection", on_delete=models.CASCADE, related_name="triage_queues")
    unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.POST)
    # A ``score`` analysis of the collection: its PostScores are the items.
    analysis = models.ForeignKey("analyses.Analysis", on_delete=models.CASCADE, related_name="triage_queues")
    order = models.CharField(max_length=12, choices=Order.choices, default=Order.UNCERTAINTY)
    seed = models.PositiveIntegerField(default=0)
    label_key = models.CharField(max_length=64)
    label_values = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label_key} on {self.collection} ({self.order})"

    @property
    def title(self) -> str:
        return f"Triage #{self.pk}: {self.label_key} on {self.collection.name}"


class TriageDecision(models.Model):
    """One analyst's label on one item (``value``), or a skip (``value`` empty), with who and when."""

    queue = models.ForeignKey(TriageQueue, on_delete=models.CASCADE, related_name="decisions")
    # A plain id into the bulk post table (no database constraint, as everywhere there).
    post = models.ForeignKey(
        "collections.Post", on_delete=models.DO_NOTHING, related_name="+", db_index=False, db_constraint=False
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
        ]

    def __str__(self) -> str:
        return f"{self.value or 'skip'} on post {self.post_id}"

    @property
    def skipped(self) -> bool:
        return self.value == ""
