"""Reading the audit trail: members of the investigation only (any role), through the one membership check."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.audit.models import AuditEntry
from apps.investigations.models import Investigation
from apps.investigations.selectors import investigation_get


def audit_list(
    *,
    user,
    investigation_id: int,
    action: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEntry]:
    """The investigation's entries, newest first. ``action``: a slug ("job.cancel") or its family ("job");
    ``actor``: a username; ``since``/``until``: days, both included (in the site's time zone)."""
    investigation = investigation_get(user=user, investigation_id=investigation_id)
    rows = AuditEntry.objects.filter(investigation=investigation)
    if action:
        rows = rows.filter(Q(action=action) | Q(action__startswith=f"{action}."))
    if actor:
        rows = rows.filter(actor_name=actor)
    # Bounds as instants rather than ``at__date`` so the (investigation, at) index serves them.
    if since:
        rows = rows.filter(at__gte=_day_start(since))
    if until:
        rows = rows.filter(at__lt=_day_start(until + timedelta(days=1)))
    return rows.order_by("-at", "-id")


def audit_facets(*, investigation: Investigation) -> dict[str, list[str]]:
    """The actions and actors the investigation's trail holds: the filter form's choices."""
    rows = AuditEntry.objects.filter(investigation=investigation)
    return {
        "actions": sorted(set(rows.values_list("action", flat=True))),
        "actors": sorted(set(rows.exclude(actor_name="").values_list("actor_name", flat=True))),
    }


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
