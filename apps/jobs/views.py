"""Job pages: the list of an investigation's jobs, one job's live progress, cancel and retry."""
from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.collections.selectors import collection_list
from apps.investigations.models import Role
from apps.investigations.selectors import membership_get
from apps.jobs.models import Job
from apps.jobs.registry import job_kind_get
from apps.jobs.selectors import job_get, job_list
from apps.jobs.services import JobError, job_cancel, job_retry

JOBS_PER_PAGE = 50


def kind_label(kind: str) -> str:
    try:
        return job_kind_get(kind).label
    except ValueError:
        return kind


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@login_required
def job_list_view(request, pk: int):
    membership = membership_get(user=request.user, investigation_id=pk)
    page = Paginator(job_list(investigation=membership.investigation), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"job": job, "kind": kind_label(job.kind), "duration": duration_text(job.duration_s)} for job in page]
    context = {"investigation": membership.investigation, "page": page, "rows": rows}
    return render(request, "jobs/list.html", context)


@login_required
def job_detail_view(request, pk: int):
    job = job_get(user=request.user, job_id=pk)
    membership = membership_get(user=request.user, investigation_id=job.investigation_id)
    context = {
        "job": job,
        "investigation": job.investigation,
        "kind": kind_label(job.kind),
        "here": f"Job #{job.pk}",
        "state": job.as_state(),
        "duration": duration_text(job.duration_s),
        "can_edit": membership.allows(Role.EDITOR),
        "params_json": json.dumps(job.shown_params, indent=2, cls=DjangoJSONEncoder),
        "provenance_json": json.dumps(job.provenance, indent=2, cls=DjangoJSONEncoder),
        "result_json": json.dumps(job.result, indent=2, cls=DjangoJSONEncoder) if job.result else "",
        "job_collection": _job_collection(job),
        **_kind_context(job),
    }
    return render(request, "jobs/detail.html", context)


def _kind_context(job: Job) -> dict:
    try:
        kind = job_kind_get(job.kind)
    except ValueError:  # a kind no longer registered
        return {}
    return kind.page_context(job) if kind.page_context else {}


def _job_collection(job: Job):
    collection_id = (job.result or {}).get("collection_id") or (job.params or {}).get("collection_id")
    if not collection_id:
        return None
    return collection_list(investigation=job.investigation).filter(pk=collection_id).first()


@login_required
@require_POST
def job_cancel_view(request, pk: int):
    job = job_get(user=request.user, job_id=pk, role=Role.EDITOR)
    job = job_cancel(job=job, user=request.user)
    if job.status == Job.Status.CANCELLED:
        messages.info(request, f"Job #{job.pk} was cancelled.")
    elif job.cancel_requested:
        messages.info(request, f"Job #{job.pk} will stop at its next progress report.")
    else:
        messages.warning(request, f"Job #{job.pk} is {job.status}; there was nothing to cancel.")
    return redirect("job-detail", pk=job.pk)


@login_required
@require_POST
def job_retry_view(request, pk: int):
    job = job_get(user=request.user, job_id=pk, role=Role.EDITOR)
    try:
        new_job = job_retry(job=job, user=request.user)
    except JobError as exc:
        messages.error(request, str(exc))
        return redirect("job-detail", pk=job.pk)
    messages.success(request, f"Job #{new_job.pk} retries job #{job.pk}.")
    return redirect("job-detail", pk=new_job.pk)
