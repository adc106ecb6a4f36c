"""Writing the audit trail. Every service that changes something in an investigation calls
``audit_record`` once, inside its transaction where it has one, so a rolled-back change leaves no entry."""
from __future__ import annotations

from apps.audit.models import AuditEntry
from apps.investigations.models import Investigation

SUMMARY_MAX = 500


def audit_record(
    *, investigation: Investigation, user, action: str, obj=None, summary: str, detail: dict | None = None
) -> AuditEntry:
    """Append one entry: who (``user``; None for the system), what (``action``, a slug like "job.cancel",
    and a one-sentence ``summary``), on which object (``obj``, any model instance: call before deleting it,
    while it still has its pk) and the particulars (``detail``, JSON)."""
    actor = user if user is not None and user.is_authenticated else None
    return AuditEntry.objects.create(
        investigation=investigation,
        actor=actor,
        actor_name=actor.get_username() if actor else "",
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
        summary=_storable(summary)[:SUMMARY_MAX],
        detail=_storable(detail or {}),
    )


def _storable(value):
    """``value`` with every NUL written out as the text ``\\x00``: PostgreSQL's text and jsonb cannot hold one,
    and a name from an untrusted file may carry one (stored the same on SQLite, so both read alike)."""
    if isinstance(value, str):
        return value.replace("\x00", "\\x00")
    if isinstance(value, dict):
        return {_storable(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value
