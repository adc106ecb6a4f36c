"""Evidence pins (a saved workspace view: its URL state, a caption and a thumbnail), the case storyline (pins
and notes in the order the case is told) and each member's last workspace layout.

A pin's ``state`` is the workspace URL's query string without the "?": it is only ever put after
``/investigations/<pk>/workspace/?``, so whatever it says (even ``javascript:...``) stays text in a query.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from apps.investigations.models import Investigation
from apps.notes.models import Note


def workspace_url(investigation_id: int, state: str) -> str:
    """The workspace page showing ``state``: the one place a state becomes a URL."""
    base = reverse("workspace", args=[investigation_id])
    return f"{base}?{state}" if state else base


class Pin(models.Model):
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="pins")
    caption = models.CharField(max_length=300)
    state = models.TextField(blank=True)
    thumbnail = models.BinaryField(null=True, blank=True)  # a PNG, checked by apps.pins.thumbnails
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["investigation", "-created_at"], name="pin_investigation_created_idx")]

    def __str__(self) -> str:
        return f"pin #{self.pk}: {self.caption[:40]}"

    @property
    def url(self) -> str:
        return workspace_url(self.investigation_id, self.state)


class StoryItem(models.Model):
    """One step of the case's storyline: a pin or a note (never both), with an optional connecting sentence.
    Deleting the pin or note removes its step; the others keep their order."""

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="story_items")
    position = models.PositiveIntegerField()
    pin = models.ForeignKey(Pin, on_delete=models.CASCADE, null=True, blank=True, related_name="story_items")
    note = models.ForeignKey(Note, on_delete=models.CASCADE, null=True, blank=True, related_name="story_items")
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(pin__isnull=False, note__isnull=True)
                           | models.Q(pin__isnull=True, note__isnull=False)),
                name="story_item_pin_xor_note",
            ),
            models.UniqueConstraint(fields=["investigation", "pin"], name="story_item_one_per_pin"),
            models.UniqueConstraint(fields=["investigation", "note"], name="story_item_one_per_note"),
        ]

    def __str__(self) -> str:
        return f"step {self.position}: {self.kind} #{self.pin_id or self.note_id}"

    @property
    def kind(self) -> str:
        return "pin" if self.pin_id else "note"

    @property
    def ref(self) -> dict:
        """The item as the storyline API writes it: ``{"pin": id}`` or ``{"note": id}``, with its text."""
        ref = {self.kind: self.pin_id or self.note_id}
        return {**ref, "text": self.text} if self.text else ref


class WorkspaceLayout(models.Model):
    """A member's last workspace state in an investigation: their own view, not case data (never audited)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="workspace_layouts")
    state = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "investigation"], name="one_layout_per_member")]

    def __str__(self) -> str:
        return f"layout of user {self.user_id} in investigation {self.investigation_id}"
