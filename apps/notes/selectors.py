"""Reads: every note, tag and evidence list goes through an investigation the user belongs to."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.investigations.models import Investigation, Role
from apps.investigations.selectors import member_object_get
from apps.notes.models import DisarmTactic, DisarmTechnique, Note, TechniqueTag
from apps.notes.targets import targets_describe


def note_list(*, investigation: Investigation, target_type: str | None = None) -> QuerySet[Note]:
    notes = Note.objects.filter(investigation=investigation).select_related("author")
    return notes.filter(target_type=target_type) if target_type else notes


def note_get(*, user, note_id: int, role: str = Role.VIEWER) -> Note:
    return member_object_get(user=user, queryset=Note.objects.select_related("investigation", "author"), pk=note_id,
                             role=role)


def tag_list(*, investigation: Investigation) -> QuerySet[TechniqueTag]:
    return TechniqueTag.objects.filter(investigation=investigation).select_related("technique", "created_by")


def tag_get(*, user, tag_id: int, role: str = Role.VIEWER) -> TechniqueTag:
    return member_object_get(user=user, queryset=TechniqueTag.objects.select_related("investigation", "technique"),
                             pk=tag_id, role=role)


def technique_choices() -> list[tuple[str, str]]:
    return [(t.external_id, f"{t.external_id} {t.name}") for t in DisarmTechnique.objects.only("external_id", "name")]


def with_targets(*, investigation: Investigation, items) -> list:
    """``items`` (notes or tags) as a list, each with ``.described`` (label and link back)."""
    items = list(items)
    described = targets_describe(investigation=investigation, items=items)
    for item in items:
        item.described = described[id(item)]
    return items


def disarm_evidence(*, investigation: Investigation) -> list[dict]:
    """The techniques the case has tags for, grouped by tactic in the framework's order:
    ``[{"tactic", "techniques": [{"technique", "tags": [...], "notes": [...]}]}]``."""
    tags = with_targets(investigation=investigation, items=tag_list(investigation=investigation)
                        .select_related("technique__tactic", "note"))
    by_technique: dict[int, dict] = {}
    for tag in tags:
        entry = by_technique.setdefault(tag.technique_id, {"technique": tag.technique, "tags": [], "notes": {}})
        entry["tags"].append(tag)
        if tag.note is not None:
            entry["notes"][tag.note.pk] = tag.note
    groups = {t.pk: {"tactic": t, "techniques": []} for t in DisarmTactic.objects.all()}
    untactical = {"tactic": None, "techniques": []}
    for entry in sorted(by_technique.values(), key=lambda e: e["technique"].external_id):
        entry["notes"] = list(entry["notes"].values())
        groups.get(entry["technique"].tactic_id, untactical)["techniques"].append(entry)
    return [g for g in [*groups.values(), untactical] if g["techniques"]]
