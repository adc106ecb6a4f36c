"""Reads: reports and the report jobs still running, always through an investigation the user belongs to."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.investigations.models import Investigation, Role
from apps.investigations.selectors import member_object_get
from apps.jobs.models import Job
from apps.reports.models import REPORT_KIND, Report

JOBS_SHOWN = 10


def report_list(*, investigation: Investigation) -> QuerySet[Report]:
    return Report.objects.filter(investigation=investigation).select_related("created_by")


def report_get(*, user, report_id: int, role: str = Role.VIEWER) -> Report:
    return member_object_get(user=user, queryset=Report.objects.select_related("investigation", "created_by"),
                             pk=report_id, role=role)


def report_jobs_open(*, investigation: Investigation) -> list[Job]:
    """The report jobs not finished yet, and those that failed without a report, newest first (a few)."""
    jobs = Job.objects.filter(investigation=investigation, kind=REPORT_KIND).exclude(status=Job.Status.SUCCEEDED)
    return list(jobs.order_by("-created_at", "-id")[:JOBS_SHOWN])
