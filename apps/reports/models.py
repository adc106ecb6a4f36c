"""Case reports: a document (HTML, PDF, Markdown in a zip) or an exchange file (STIX 2.1, MISP, and the flagged posts
or accounts as CSV or Parquet) built from an investigation by a job, stored whole and downloaded by its members.

The file lives in ``MEDIA_ROOT/reports/<investigation>/``, named by its job, so a run that failed after writing it
can find and remove it (``apps.reports.services.report_cleanup``); deleting the row (or its investigation) removes
the file once that commits (``apps.reports.signals``).
"""
from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.db import models

from apps.investigations.models import Investigation

REPORT_KIND = "report"  # the job kind that builds a report


class Format(models.TextChoices):
    HTML = "html", "HTML (self-contained)"
    PDF = "pdf", "PDF"
    MD = "md", "Markdown with figures (zip)"
    STIX = "stix", "STIX 2.1 bundle (JSON)"
    MISP = "misp", "MISP event (JSON)"
    CSV = "csv", "CSV of flagged posts with every score"
    ACCOUNTS_CSV = "csv_accounts", "CSV of flagged accounts with every score"
    PARQUET = "parquet", "Parquet of flagged posts with every score"
    ACCOUNTS_PARQUET = "parquet_accounts", "Parquet of flagged accounts with every score"


class Section(models.TextChoices):
    """The parts of a report, in the order a document shows them."""

    SUMMARY = "summary", "Summary: collections and analyses"
    STORYLINE = "storyline", "Storyline: pins and notes in order"
    FLAGGED = "flagged", "Flagged accounts and posts"
    COMMUNITIES = "communities", "Coordination communities"
    DISARM = "disarm", "DISARM techniques and procedures"
    METHODS = "methods", "Methods and parameters"
    AUDIT = "audit", "Audit timeline"


SECTION_ORDER = list(Section.values)
DOCUMENT_FORMATS = (Format.HTML, Format.PDF, Format.MD)
# What each format is downloaded as: (extension, content type).
FILE_TYPES = {
    Format.HTML: ("html", "text/html; charset=utf-8"),
    Format.PDF: ("pdf", "application/pdf"),
    Format.MD: ("zip", "application/zip"),
    Format.STIX: ("stix.json", "application/stix+json;version=2.1"),
    Format.MISP: ("misp.json", "application/json"),
    Format.CSV: ("csv", "text/csv; charset=utf-8"),
    Format.ACCOUNTS_CSV: ("accounts.csv", "text/csv; charset=utf-8"),
    Format.PARQUET: ("posts.parquet", "application/vnd.apache.parquet"),
    Format.ACCOUNTS_PARQUET: ("accounts.parquet", "application/vnd.apache.parquet"),
}


def report_upload_to(report: Report, filename: str) -> str:
    return f"reports/{report.investigation_id}/{filename}"


class Report(models.Model):
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="reports")
    format = models.CharField(max_length=16, choices=Format.choices)
    sections = models.JSONField(default=list, blank=True)
    file = models.FileField(upload_to=report_upload_to, max_length=300)
    size = models.PositiveBigIntegerField(default=0)
    pages = models.PositiveIntegerField(null=True, blank=True)  # a PDF's
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    job = models.OneToOneField("jobs.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="report")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["investigation", "-created_at"], name="report_investigation_idx")]

    def __str__(self) -> str:
        return f"report #{self.pk} ({self.format})"

    @property
    def filename(self) -> str:
        """What the download is saved as: ``report-<investigation>-<id>.<ext>``."""
        return f"report-{self.investigation_id}-{self.pk}.{FILE_TYPES[self.format][0]}"

    @property
    def content_type(self) -> str:
        return FILE_TYPES[self.format][1]

    @property
    def stored_name(self) -> str:
        return PurePath(self.file.name).name if self.file else ""

    def section_labels(self) -> list[str]:
        return [Section(s).label.split(":")[0] for s in self.sections if s in Section.values]
