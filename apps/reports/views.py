"""Pages: an investigation's reports (every member) with the form that builds one (editors) and the links to its
networks' GEXF and GraphML files, and the download.

A download is always an attachment: an HTML report is never shown inside the portal's origin, and opened from
disk it asks nothing of any server (see ``apps.reports.documents``)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from apps.common.forms import service_errors_to_form
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, membership_get
from apps.reports import services
from apps.reports.forms import ReportForm
from apps.reports.selectors import network_exports, report_get, report_jobs_open, report_list


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_list_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    form = ReportForm()
    if request.method == "POST":
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        form = ReportForm(request.POST)
        if form.is_valid():
            try:
                job = services.report_start(investigation=investigation, user=request.user,
                                            base_url=request.build_absolute_uri("/"), **_choices(form))
            except ValidationError as exc:
                service_errors_to_form(form, exc)
            else:
                messages.success(request, f"Building the report (job #{job.pk}); it is listed here when done.")
                return redirect("report-list", pk=pk)
    context = {
        "investigation": membership.investigation,
        "can_edit": membership.allows(Role.EDITOR),
        "reports": report_list(investigation=membership.investigation),
        "jobs": [job.as_state() for job in report_jobs_open(investigation=membership.investigation)],
        "networks": network_exports(investigation=membership.investigation),
        "form": form,
    }
    return render(request, "reports/list.html", context, status=400 if form.errors else 200)


def _choices(form: ReportForm) -> dict:
    data = form.cleaned_data
    return {"format": data["format"], "sections": data["sections"], "min_weight": data["min_weight"] or 0.0}


@login_required
@require_GET
def report_download_view(request, pk: int):
    report = report_get(user=request.user, report_id=pk)
    try:
        handle = report.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("This report's file is missing on the server.") from None
    services.report_download_record(report=report, user=request.user)
    response = FileResponse(handle, as_attachment=True, filename=report.filename, content_type=report.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
