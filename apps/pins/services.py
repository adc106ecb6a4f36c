"""Writes: pins and the storyline (editors and owners; the caller's selector checked the role), each change
with one audit entry in its transaction, and layouts (any member's own view: not audited).

Storyline edits read the order, change it and write it back, so each one first locks the investigation's row
(PostgreSQL; SQLite serialises writers anyway): two editors moving items at once cannot lose each other's move.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from apps.audit.services import audit_record
from apps.common.ids import as_id
from apps.investigations.models import Investigation
from apps.notes.models import Note
from apps.pins.models import Pin, StoryItem, WorkspaceLayout
from apps.pins.validation import caption_clean, png_check, state_clean, text_clean

STORYLINE_MAX = 1_000


def _lock(investigation: Investigation) -> None:
    Investigation.objects.select_for_update().filter(pk=investigation.pk).values_list("pk", flat=True).first()


@transaction.atomic
def pin_create(*, investigation: Investigation, user, caption: str, state: str, thumbnail_png: bytes | None = None,
               add_to_storyline: bool = True) -> Pin:
    caption, state, thumbnail_png = caption_clean(caption), state_clean(state), png_check(thumbnail_png)
    if add_to_storyline:
        _lock(investigation)
    pin = Pin.objects.create(investigation=investigation, caption=caption, state=state, thumbnail=thumbnail_png,
                             created_by=user)
    if add_to_storyline:
        last = StoryItem.objects.filter(investigation=investigation).aggregate(last=Max("position"))["last"]
        StoryItem.objects.create(investigation=investigation, pin=pin, position=0 if last is None else last + 1)
    audit_record(investigation=investigation, user=user, action="pin.create", obj=pin,
                 summary=f"Pinned a view: {caption}",
                 detail={"caption": caption, "state": state, "thumbnail_bytes": len(thumbnail_png or b""),
                         "storyline": add_to_storyline})
    pin.has_thumbnail = thumbnail_png is not None
    return pin


@transaction.atomic
def pin_update(*, pin: Pin, user, caption: str) -> Pin:
    before, pin.caption = pin.caption, caption_clean(caption)
    pin.save(update_fields=["caption"])
    audit_record(investigation=pin.investigation, user=user, action="pin.edit", obj=pin,
                 summary=f"Renamed pin #{pin.pk}: {pin.caption}", detail={"before": before, "caption": pin.caption})
    return pin


@transaction.atomic
def pin_delete(*, pin: Pin, user) -> None:
    audit_record(investigation=pin.investigation, user=user, action="pin.delete", obj=pin,
                 summary=f"Deleted pin #{pin.pk}: {pin.caption}",
                 detail={"caption": pin.caption, "state": pin.state,
                         "in_storyline": StoryItem.objects.filter(pin=pin).exists()})
    pin.delete()


@transaction.atomic
def storyline_set(*, investigation: Investigation, user, items: list, summary: str | None = None) -> list[StoryItem]:
    """Replace the storyline with ``items`` (``{"pin": id}`` or ``{"note": id}``, each with an optional
    ``"text"``), in that order. Every id must name a pin or note of this investigation, once; a refusal names
    the item's index and changes nothing."""
    _lock(investigation)
    rows = _items_clean(investigation, items)
    current = list(StoryItem.objects.filter(investigation=investigation))
    before = [item.ref for item in current]
    # Items that stay keep their rows (and ids: an open page's buttons still name them); the rest go or come.
    kept = {(item.pin_id, item.note_id): item for item in current}
    ordered = []
    for position, row in enumerate(rows):
        item = kept.pop((row.get("pin_id"), row.get("note_id")), None)
        if item is None:
            item = StoryItem(investigation=investigation, pin_id=row.get("pin_id"), note_id=row.get("note_id"))
        item.position, item.text = position, row["text"]
        ordered.append(item)
    StoryItem.objects.filter(pk__in=[item.pk for item in kept.values()]).delete()
    StoryItem.objects.bulk_update([item for item in ordered if item.pk], ["position", "text"])
    StoryItem.objects.bulk_create([item for item in ordered if not item.pk])
    after = [item.ref for item in ordered]
    audit_record(investigation=investigation, user=user, action="storyline.edit", obj=None,
                 summary=summary or f"Set the storyline: {len(after)} items.",
                 detail={"before": before, "items": after})
    return ordered


def _items_clean(investigation: Investigation, items) -> list[dict]:
    if not isinstance(items, list | tuple):
        raise ValidationError({"items": "The storyline is a list of items: {\"pin\": id} or {\"note\": id}."})
    if len(items) > STORYLINE_MAX:
        raise ValidationError({"items": f"A storyline holds at most {STORYLINE_MAX:,} items."})
    pins = set(Pin.objects.filter(investigation=investigation).values_list("pk", flat=True))
    notes = set(Note.objects.filter(investigation=investigation).values_list("pk", flat=True))
    rows, seen = [], set()
    for index, item in enumerate(items):
        kind, pk, text = _item_parse(index, item)
        if pk not in (pins if kind == "pin" else notes):
            raise ValidationError({"items": f"Item {index}: this investigation has no {kind} {pk}."})
        if (kind, pk) in seen:
            raise ValidationError({"items": f"Item {index}: {kind} {pk} is already in the storyline."})
        seen.add((kind, pk))
        rows.append({f"{kind}_id": pk, "text": text})
    return rows


def _item_parse(index: int, item) -> tuple[str, int, str]:
    if not isinstance(item, dict) or set(item) - {"pin", "note", "text"} or len(set(item) & {"pin", "note"}) != 1:
        raise ValidationError({"items": f"Item {index}: give exactly one of \"pin\" or \"note\" (and optional "
                                        "\"text\")."})
    kind = "pin" if "pin" in item else "note"
    pk = as_id(item[kind]) if isinstance(item[kind], int | str) and not isinstance(item[kind], bool) else None
    if pk is None:
        raise ValidationError({"items": f"Item {index}: {kind}={str(item[kind])[:40]!r} is not an id."})
    try:
        text = text_clean(item.get("text"), field="items")
    except ValidationError as exc:
        raise ValidationError({"items": f"Item {index}: {exc.message_dict['items'][0]}"}) from None
    return kind, pk, text


# The page's one-step edits: each reads the order under the lock, changes it and sets it (one audit entry).

def _current(investigation: Investigation) -> list[StoryItem]:
    _lock(investigation)
    return list(StoryItem.objects.filter(investigation=investigation))


def _index_of(items: list[StoryItem], item_id: int) -> int:
    for index, item in enumerate(items):
        if item.pk == item_id:
            return index
    raise ValidationError({"item": "That item is no longer in the storyline (reload the page)."})


@transaction.atomic
def storyline_move(*, investigation: Investigation, user, item_id: int, step: int) -> list[StoryItem]:
    items = _current(investigation)
    index = _index_of(items, item_id)
    target = index + step
    if not 0 <= target < len(items):
        raise ValidationError({"item": f"That item is already {'first' if step < 0 else 'last'}."})
    items[index], items[target] = items[target], items[index]
    moved = items[target]
    return storyline_set(investigation=investigation, user=user, items=[i.ref for i in items],
                         summary=f"Moved {moved.kind} #{moved.pin_id or moved.note_id} {'up' if step < 0 else 'down'} "
                                 f"in the storyline (to step {target + 1}).")


@transaction.atomic
def storyline_remove(*, investigation: Investigation, user, item_id: int) -> list[StoryItem]:
    items = _current(investigation)
    gone = items.pop(_index_of(items, item_id))
    return storyline_set(investigation=investigation, user=user, items=[i.ref for i in items],
                         summary=f"Removed {gone.kind} #{gone.pin_id or gone.note_id} from the storyline.")


@transaction.atomic
def storyline_text(*, investigation: Investigation, user, item_id: int, text: str) -> list[StoryItem]:
    items = _current(investigation)
    index = _index_of(items, item_id)
    refs = [i.ref for i in items]
    refs[index] = {**{k: v for k, v in refs[index].items() if k != "text"}, "text": text}
    return storyline_set(investigation=investigation, user=user, items=refs,
                         summary=f"Changed the connecting text of step {index + 1} of the storyline.")


@transaction.atomic
def storyline_append(*, investigation: Investigation, user, kind: str, pk: int) -> list[StoryItem]:
    refs = [i.ref for i in _current(investigation)] + [{kind: pk}]
    return storyline_set(investigation=investigation, user=user, items=refs,
                         summary=f"Added {kind} #{pk} to the storyline.")


def layout_save(*, user, investigation: Investigation, state: str) -> WorkspaceLayout:
    layout, _ = WorkspaceLayout.objects.update_or_create(user=user, investigation=investigation,
                                                         defaults={"state": state_clean(state)})
    return layout
