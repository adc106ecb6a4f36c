"""The audit trail's page and CSV, and the case timeline's page: every member may read them; nothing here writes
to the trail but the CSV download (an export is itself recorded)."""
from __future__ import annotations

import json

import plotly
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.audit import timeline
from apps.audit.forms import AuditFilterForm
from apps.audit.selectors import audit_facets, audit_list
from apps.audit.services import audit_record
from apps.common.csvfile import csv_streaming_response
from apps.common.http import bad_request
from apps.investigations.selectors import membership_get

ENTRIES_PER_PAGE = 50
CSV_HEADER = ["id", "at", "actor", "action", "object_type", "object_id", "summary", "detail"]


def _filter_form(request, investigation) -> AuditFilterForm:
    return AuditFilterForm(request.GET, facets=audit_facets(investigation=investigation))


@login_required
@require_GET
def audit_list_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    form = _filter_form(request, membership.investigation)
    valid = form.is_valid()
    rows = audit_list(user=request.user, investigation_id=pk, **form.filters()) if valid else []
    page = Paginator(rows, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"investigation": membership.investigation, "form": form, "page": page, "filter_query": query.urlencode()}
    return render(request, "audit/list.html", context, status=200 if valid else 400)


@login_required
@require_GET
def audit_csv_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    form = _filter_form(request, membership.investigation)
    if not form.is_valid():
        messages_ = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
        return bad_request(request, ValidationError(messages_))
    filters = form.filters()
    audit_record(investigation=membership.investigation, user=request.user, action="export",
                 summary="Exported the audit trail as CSV.",
                 detail={"format": "csv", "what": "audit", "filters": {k: str(v) for k, v in filters.items()}})
    rows = audit_list(user=request.user, investigation_id=pk, **filters)

    def lines():
        yield CSV_HEADER
        for entry in rows.iterator(chunk_size=2_000):
            yield [entry.pk, entry.at.isoformat(), entry.actor_name, entry.action, entry.object_type,
                   entry.object_id if entry.object_id is not None else "", entry.summary, _json(entry.detail)]

    return csv_streaming_response(lines(), filename=f"audit-{pk}.csv")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class TimelineFilterForm(forms.Form):
    """The timeline page's filters (plain GET): a lane, a kind the case has."""

    lane = forms.ChoiceField(required=False, choices=[("", "Both lanes"), *timeline.LANE_LABELS.items()])
    kind = forms.ChoiceField(required=False)

    def __init__(self, *args, kinds: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Any kind")] + [(k, k) for k in kinds]


@login_required
@require_GET
def case_timeline_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    events = timeline.case_timeline(membership.investigation)
    form = TimelineFilterForm(request.GET, kinds=timeline.timeline_kinds(events))
    valid = form.is_valid()
    shown = timeline.timeline_filter(events, **{k: v for k, v in form.cleaned_data.items() if v}) if valid else []
    context = {
        "investigation": membership.investigation,
        "form": form,
        "filtered": any(request.GET.get(k) for k in form.fields),
        "total": len(events),
        "rows": [{**e, "when": timeline.display_when(e), "lane_label": timeline.LANE_LABELS[e["lane"]]} for e in shown],
        "figure": timeline.timeline_figure(shown),
        "plotly_version": plotly.__version__,
    }
    return render(request, "audit/timeline.html", context, status=200 if valid else 400)
