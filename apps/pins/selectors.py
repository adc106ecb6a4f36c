"""Reads: pins, the storyline and layouts, always through an investigation the user belongs to.

Lists never load thumbnails (up to 300 KB each): they carry ``has_thumbnail`` instead, and the PNG is read
only by the one view that serves it.
"""
from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from apps.investigations.models import Investigation, Role
from apps.investigations.selectors import member_object_get
from apps.notes.models import Note
from apps.pins.models import Pin, StoryItem, WorkspaceLayout


def _has(path: str) -> ExpressionWrapper:
    return ExpressionWrapper(Q(**{f"{path}__isnull": False}), output_field=BooleanField())


def pin_list(*, investigation: Investigation) -> QuerySet[Pin]:
    return (Pin.objects.filter(investigation=investigation).defer("thumbnail").select_related("created_by")
            .annotate(has_thumbnail=_has("thumbnail")))


def pin_get(*, user, pin_id: int, role: str = Role.VIEWER) -> Pin:
    queryset = (Pin.objects.defer("thumbnail").select_related("investigation", "created_by")
                .annotate(has_thumbnail=_has("thumbnail")))
    return member_object_get(user=user, queryset=queryset, pk=pin_id, role=role)


def pin_thumbnail_get(*, user, pin_id: int) -> bytes | None:
    """The pin's PNG (members only: 404 otherwise), or None when it has none."""
    pin = member_object_get(user=user, queryset=Pin.objects.only("id", "investigation_id", "thumbnail"), pk=pin_id)
    return bytes(pin.thumbnail) if pin.thumbnail is not None else None


def storyline_get(*, investigation: Investigation) -> list[StoryItem]:
    """The storyline in order; each item's pin (without its PNG) or note is loaded."""
    items = (StoryItem.objects.filter(investigation=investigation).select_related("pin", "note")
             .defer("pin__thumbnail").annotate(has_thumbnail=_has("pin__thumbnail")))
    items = list(items)
    for item in items:
        if item.pin is not None:
            item.pin.has_thumbnail = item.has_thumbnail
    return items


def storyline_candidates(*, investigation: Investigation) -> dict[str, list]:
    """What an editor may add to the storyline: the case's notes and pins not in it yet."""
    used = StoryItem.objects.filter(investigation=investigation)
    notes = Note.objects.filter(investigation=investigation).exclude(pk__in=used.filter(note__isnull=False)
                                                                      .values("note_id"))
    pins = pin_list(investigation=investigation).exclude(pk__in=used.filter(pin__isnull=False).values("pin_id"))
    return {"notes": list(notes.only("id", "body", "target_type", "updated_at")), "pins": list(pins)}


def layout_get(*, user, investigation: Investigation) -> str:
    """The member's last workspace state in the investigation ("" when none was saved)."""
    row = WorkspaceLayout.objects.filter(user=user, investigation=investigation).values_list("state", flat=True)
    return row.first() or ""
