"""Writes: notes and technique tags (editors and owners; the caller's selector checked the role) and
the DISARM import (global, idempotent). Each change to a case leaves one audit entry, in its transaction."""
from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.audit.services import audit_record
from apps.investigations.models import Investigation
from apps.notes.disarm import DisarmBundle
from apps.notes.models import NOTE_TARGETS, TAG_TARGETS, DisarmTactic, DisarmTechnique, Note, TargetType, TechniqueTag
from apps.notes.targets import target_clean

BODY_MAX = 100_000
PROCEDURE_MAX = 5_000


def _body_clean(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "A note needs some text."})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": f"A note holds at most {BODY_MAX:,} characters."})
    return body


@transaction.atomic
def note_create(*, investigation: Investigation, user, body: str, target_type: str = TargetType.INVESTIGATION,
                target: dict | None = None) -> Note:
    body = _body_clean(body)
    ref = target_clean(investigation=investigation, target_type=target_type, ref=target or {}, allowed=NOTE_TARGETS)
    note = Note.objects.create(investigation=investigation, author=user, body=body, target_type=target_type,
                               target_ref=ref)
    audit_record(investigation=investigation, user=user, action="note.create", obj=note,
                 summary=f"Added a note on {target_type}.", detail={"target_type": target_type, "target": ref})
    return note


@transaction.atomic
def note_update(*, note: Note, user, body: str) -> Note:
    note.body = _body_clean(body)
    note.save(update_fields=["body", "updated_at"])
    audit_record(investigation=note.investigation, user=user, action="note.edit", obj=note,
                 summary=f"Edited note #{note.pk}.")
    return note


@transaction.atomic
def note_delete(*, note: Note, user) -> None:
    audit_record(investigation=note.investigation, user=user, action="note.delete", obj=note,
                 summary=f"Deleted note #{note.pk} (and its {note.tags.count()} tags).",
                 detail={"body": note.body[:2000], "target_type": note.target_type, "target": note.target_ref})
    note.delete()


@transaction.atomic
def tag_add(*, investigation: Investigation, user, technique: str, target_type: str, target: dict | None = None,
            seen_on: datetime.date | None = None, procedure: str = "") -> TechniqueTag:
    row = DisarmTechnique.objects.filter(external_id=(technique or "").strip().upper()).first()
    if row is None:
        raise ValidationError({"technique": f"No DISARM technique {technique!r} (has `manage.py import_disarm` run?)."})
    if len(procedure or "") > PROCEDURE_MAX:
        raise ValidationError({"procedure": f"A procedure holds at most {PROCEDURE_MAX:,} characters."})
    ref = target_clean(investigation=investigation, target_type=target_type, ref=target or {}, allowed=TAG_TARGETS)
    tag = TechniqueTag.objects.create(
        investigation=investigation, technique=row, target_type=target_type, target_ref=ref,
        note_id=ref.get("note"), seen_on=seen_on, procedure=(procedure or "").strip(), created_by=user,
    )
    audit_record(investigation=investigation, user=user, action="tag.add", obj=tag,
                 summary=f"Tagged {row.external_id} on {target_type}.",
                 detail={"technique": row.external_id, "target_type": target_type, "target": ref})
    return tag


@transaction.atomic
def tag_remove(*, tag: TechniqueTag, user) -> None:
    audit_record(investigation=tag.investigation, user=user, action="tag.remove", obj=tag,
                 summary=f"Removed tag {tag.technique.external_id} from {tag.target_type}.",
                 detail={"technique": tag.technique.external_id, "target_type": tag.target_type,
                         "target": tag.target_ref})
    tag.delete()


@transaction.atomic
def disarm_import(*, bundle: DisarmBundle) -> dict:
    """Tactics, then techniques, then sub-techniques' parents: each updated in place by its external id,
    so a second run of the same bundle creates nothing and tags keep their techniques."""
    created = updated = 0
    tactics = {}
    for t in bundle.tactics:
        row, new = DisarmTactic.objects.update_or_create(
            external_id=t.external_id, defaults={"name": t.name, "shortname": t.shortname, "description": t.description}
        )
        tactics[t.shortname] = row
        created, updated = created + new, updated + (not new)
    techniques = {}
    for t in bundle.techniques:
        row, new = DisarmTechnique.objects.update_or_create(
            external_id=t.external_id,
            defaults={"name": t.name, "description": t.description, "tactic": tactics.get(t.tactic_shortname)},
        )
        techniques[t.external_id] = row
        created, updated = created + new, updated + (not new)
    for t in bundle.techniques:
        parent = techniques.get(t.parent_id) if t.parent_id else None
        DisarmTechnique.objects.filter(pk=techniques[t.external_id].pk).update(parent=parent)
    return {"tactics": len(bundle.tactics), "techniques": len(bundle.techniques), "created": created,
            "updated": updated}
