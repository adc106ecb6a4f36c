"""Reads: reports and the report jobs still running, always through an investigation the user belongs to."""
from __future__ import annotations

from django.db.models import QuerySet

from apps.analyses.kinds.base import kind_get, kind_names
from apps.analyses.models import Analysis
from apps.analyses.selectors import analysis_list
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


NETWORK_FORMATS = ("gexf", "graphml")


def network_exports(*, investigation: Investigation) -> list[tuple[Analysis, list[str]]]:
    """The investigation's stored networks, newest first, each with the file formats it downloads as (GEXF,
    GraphML, from the analysis's own export)."""
    formats = {name: [f for f in NETWORK_FORMATS if f in kind_get(name).exports] for name in kind_names()}
    analyses = analysis_list(investigation=investigation).filter(kind__in=[k for k, f in formats.items() if f])
    return [(analysis, formats[analysis.kind]) for analysis in analyses.defer("result")]
