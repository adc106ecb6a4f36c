"""Case notes (Markdown on the investigation or on something inside it) and DISARM technique tags.

A note's or tag's target is ``target_type`` plus ``target_ref``, a small dict of ids checked against the
investigation when written (``apps.notes.targets``): accounts, posts and entities live in bulk tables
that are purged set-wise, and communities and edges are numbers inside an analysis's result, so none of
them can be a foreign key. A target that has since been deleted shows as gone; the note stays.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.investigations.models import Investigation
from apps.notes.rendering import markdown_to_html


class TargetType(models.TextChoices):
    INVESTIGATION = "investigation", "Investigation"
    ACCOUNT = "account", "Account"
    POST = "post", "Post"
    ENTITY = "entity", "Entity"
    EDGE = "edge", "Edge"
    COMMUNITY = "community", "Community"
    ANALYSIS = "analysis", "Analysis"
    NOTE = "note", "Note"
    PIN = "pin", "Pin"


NOTE_TARGETS = [t for t in TargetType.values if t != TargetType.NOTE]
TAG_TARGETS = [TargetType.NOTE, TargetType.PIN, TargetType.ACCOUNT, TargetType.COMMUNITY]


class Note(models.Model):
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField()
    target_type = models.CharField(max_length=16, choices=TargetType.choices, default=TargetType.INVESTIGATION)
    target_ref = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["investigation", "target_type"], name="note_investigation_type_idx")]

    def __str__(self) -> str:
        return f"note #{self.pk} on {self.target_type}"

    @property
    def html(self) -> str:
        return markdown_to_html(self.body)


class DisarmTactic(models.Model):
    """A DISARM tactic (TA01...), global: imported from the framework's STIX bundle, never shipped."""

    external_id = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    shortname = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class DisarmTechnique(models.Model):
    """A DISARM technique (T0049) or sub-technique (T0049.001, with its ``parent``)."""

    external_id = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    tactic = models.ForeignKey(DisarmTactic, on_delete=models.SET_NULL, null=True, related_name="techniques")
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children")

    class Meta:
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class TechniqueTag(models.Model):
    """Evidence that the case shows a technique: on a note, an account or a community, seen on a date."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="technique_tags")
    technique = models.ForeignKey(DisarmTechnique, on_delete=models.PROTECT, related_name="tags")
    target_type = models.CharField(max_length=16, choices=TargetType.choices)
    target_ref = models.JSONField(default=dict, blank=True)
    # The tagged note, when the target is one: deleting the note removes its tags.
    note = models.ForeignKey(Note, on_delete=models.CASCADE, null=True, blank=True, related_name="tags")
    seen_on = models.DateField(null=True, blank=True)
    procedure = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["technique__external_id", "-created_at"]
        indexes = [models.Index(fields=["investigation", "technique"], name="tag_investigation_tech_idx")]

    def __str__(self) -> str:
        return f"{self.technique_id} on {self.target_type}"
