"""Writes: start a report (a job), build it in the worker, record its downloads.

The caller checked the role through the selectors (editors build; any member downloads). A report is built by a
job with progress, like an analysis, so a PDF of a large case never holds a web request; ``manage.py build_report``
runs the same job in its own process.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from apps.audit.services import audit_record
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.jobs.registry import job_kind_register
from apps.jobs.services import Progress, job_create
from apps.reports import documents, exchange
from apps.reports.content import report_content
from apps.reports.models import (
    DOCUMENT_FORMATS,
    FILE_TYPES,
    REPORT_KIND,
    Format,
    Report,
    Section,
    report_upload_to,
)

BASE_URL_MAX = 300
MIN_WEIGHT_MAX = 1e12
BUILDERS = {
    Format.HTML: documents.html_build,
    Format.PDF: documents.pdf_build,
    Format.MD: documents.md_build,
    Format.STIX: lambda content: documents.Built(exchange.stix_bundle(content)),
    Format.MISP: lambda content: documents.Built(exchange.misp_event(content)),
    Format.CSV: lambda content: documents.Built(exchange.table_csv(exchange.flagged_posts_table(content))),
    Format.ACCOUNTS_CSV: lambda content: documents.Built(exchange.table_csv(exchange.flagged_accounts_table(content))),
    Format.PARQUET: lambda content: documents.Built(exchange.table_parquet(exchange.flagged_posts_table(content))),
    Format.ACCOUNTS_PARQUET: lambda content: documents.Built(
        exchange.table_parquet(exchange.flagged_accounts_table(content))),
}
# What each exchange format reads (the documents read the sections the analyst picked).
EXCHANGE_NEEDS = {
    Format.STIX: (Section.STORYLINE, Section.FLAGGED, Section.COMMUNITIES, Section.DISARM),
    Format.MISP: (Section.STORYLINE, Section.FLAGGED, Section.DISARM),
    Format.CSV: (Section.FLAGGED,),
    Format.ACCOUNTS_CSV: (Section.FLAGGED,),
    Format.PARQUET: (Section.FLAGGED,),
    Format.ACCOUNTS_PARQUET: (Section.FLAGGED,),
}


def report_params_clean(*, format: str, sections, base_url: str = "", min_weight=0.0) -> dict:
    """The job's parameters, or a ValidationError naming the field. ``sections``: a list or comma-separated text
    (none: every section); an exchange format keeps those it can carry (``EXCHANGE_NEEDS``)."""
    if format not in Format.values:
        raise ValidationError({"format": f"Choose one of {', '.join(Format.values)}."})
    if isinstance(sections, str):
        sections = [s.strip() for s in sections.split(",") if s.strip()]
    if not isinstance(sections, list | tuple) or not all(isinstance(s, str) for s in sections):
        raise ValidationError({"sections": "Give the sections as a list of names."})
    unknown = [s for s in sections if s not in Section.values]
    if unknown:
        raise ValidationError({"sections": f"Unknown section {unknown[0][:40]!r}; choose from "
                                           f"{', '.join(Section.values)}."})
    chosen = [s for s in Section.values if s in sections] or list(Section.values)
    if format not in DOCUMENT_FORMATS:
        chosen = [s for s in chosen if s in EXCHANGE_NEEDS[format]]
        if not chosen:
            needs = ", ".join(EXCHANGE_NEEDS[format])
            raise ValidationError({"sections": f"A {format} file carries only {needs}: choose at least one."})
    try:
        weight = float(min_weight)
    except (TypeError, ValueError):
        raise ValidationError({"min_weight": "The edge weight threshold is a number."}) from None
    if not 0 <= weight <= MIN_WEIGHT_MAX:
        raise ValidationError({"min_weight": "The edge weight threshold is a number from 0 up."})
    base_url = (base_url or "").strip()
    if base_url and (len(base_url) > BASE_URL_MAX or not base_url.startswith(("http://", "https://"))):
        raise ValidationError({"base_url": "The portal's address starts with http:// or https://."})
    return {"format": format, "sections": chosen, "base_url": base_url, "min_weight": weight}


def report_start(*, investigation: Investigation, user, format: str, sections, base_url: str = "",
                 min_weight=0.0, enqueue: bool = True) -> Job:
    """Check the choices, then create the job that builds the report (``enqueue=False``: the caller runs it)."""
    params = report_params_clean(format=format, sections=sections, base_url=base_url, min_weight=min_weight)
    return job_create(investigation=investigation, kind=REPORT_KIND, params=params, user=user, enqueue=enqueue)


def report_run(job: Job, progress: Progress) -> dict:
    """The job: 1. read what the sections say; 2. render the format; 3. store the file and the row, with the audit
    entry, in one transaction (a failure leaves a file at most, which ``report_cleanup`` removes)."""
    params = job.params
    fmt, sections = params["format"], params["sections"]
    progress(0.0, "Reading the investigation", force=True)
    content = report_content(investigation=job.investigation, sections=sections, base_url=params.get("base_url", ""),
                             user=job.created_by, exchange=fmt not in DOCUMENT_FORMATS,
                             min_weight=params.get("min_weight", 0.0), progress=progress)
    progress(0.7, f"Rendering the {Format(fmt).label}", force=True)
    built = BUILDERS[fmt](content)
    progress(0.95, "Saving the report", force=True)
    with transaction.atomic():
        report = Report(investigation=job.investigation, format=fmt, sections=sections, size=len(built.data),
                        pages=built.pages, created_by=job.created_by, job=job)
        report.file.save(_file_name(job, fmt), ContentFile(built.data), save=False)
        report.save()
        audit_record(investigation=job.investigation, user=job.created_by, action="report.create", obj=report,
                     summary=f"Built a {fmt.upper()} report (#{report.pk}) of {len(sections)} section(s).",
                     detail={"format": fmt, "sections": sections, "size": report.size, "pages": report.pages,
                             "job": job.pk})
    return {"report_id": report.pk, "format": fmt, "sections": sections, "size": report.size, "pages": report.pages,
            "storyline_items": len(content.storyline), "figures": len(content.figures)}


def _file_name(job: Job, fmt: str) -> str:
    """Named by the job, so ``report_cleanup`` finds what a failed run wrote."""
    return f"job-{job.pk}.{FILE_TYPES[fmt][0]}"


def report_cleanup(job: Job) -> None:
    """A failed, cancelled or dead run keeps nothing: its row (if a dying worker wrote one) and its file."""
    Report.objects.filter(job=job).delete()
    stored = report_upload_to(Report(investigation_id=job.investigation_id), _file_name(job, "html"))
    folder = Path(settings.MEDIA_ROOT) / Path(stored).parent
    for path in folder.glob(f"job-{job.pk}.*"):
        path.unlink(missing_ok=True)


def report_download_record(*, report: Report, user) -> None:
    """A download takes the case out of the portal: recorded as an export, as the audit CSV's download is."""
    audit_record(investigation=report.investigation, user=user, action="export", obj=report,
                 summary=f"Downloaded report #{report.pk} ({report.format.upper()}).",
                 detail={"format": report.format, "what": "report", "report": report.pk})


job_kind_register(name=REPORT_KIND, run=report_run, cleanup=report_cleanup, label="Report")
