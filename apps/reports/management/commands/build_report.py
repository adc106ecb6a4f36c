"""manage.py build_report --investigation NAME [--sections a,b,...] --format FORMAT
[--user USERNAME] [--base-url URL] [--min-weight W] [--out PATH] [--queue]

FORMAT: html, pdf, md, stix, misp, csv (flagged posts), csv_accounts, parquet (flagged posts), parquet_accounts.
Builds the same report the reports page builds (in this process, or on a worker with --queue), through the same
service, and ends with one JSON summary line. ``--out`` also copies the file there.
"""
from __future__ import annotations

import shutil
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.analyses.kinds.base import errors_to_sentence
from apps.common.cli import print_summary
from apps.investigations.cli import cli_investigation, cli_user
from apps.jobs.services import job_execute
from apps.reports.models import Format, Report, Section
from apps.reports.services import report_start


class Command(BaseCommand):
    help = "Build a case report of an investigation (one JSON summary line at the end)."

    def add_arguments(self, parser):
        parser.add_argument("--investigation", required=True)
        parser.add_argument("--format", required=True, choices=Format.values)
        parser.add_argument("--sections", default="", help=f"comma-separated, of {','.join(Section.values)} "
                                                            "(default: every one)")
        parser.add_argument("--user", help="acting user (default: the first superuser)")
        parser.add_argument("--base-url", default="", help="the portal's address, for links in the report")
        parser.add_argument("--min-weight", type=float, default=0.0, help="STIX: coordination edges at or above")
        parser.add_argument("--out", help="also copy the report to this path")
        parser.add_argument("--queue", action="store_true", help="queue the job for a worker instead of running it")

    def handle(self, *args, **opts):
        user = cli_user(opts["user"])
        if user is None:
            raise CommandError("No user to act as: pass --user USERNAME")
        investigation = cli_investigation(opts["investigation"], user)
        started = time.monotonic()
        try:
            job = report_start(investigation=investigation, user=user, format=opts["format"],
                               sections=opts["sections"], base_url=opts["base_url"], min_weight=opts["min_weight"],
                               enqueue=opts["queue"])
        except ValidationError as exc:
            raise CommandError(errors_to_sentence(exc)) from None
        if not opts["queue"]:
            job = job_execute(job_id=job.pk)
        report = Report.objects.filter(job=job).first()
        if report is not None and opts["out"]:
            with report.file.open("rb") as source, open(opts["out"], "wb") as target:
                shutil.copyfileobj(source, target)
        print_summary(self.stdout, {
            "command": "build_report",
            "job": job.pk,
            "status": job.status,
            "report": report.pk if report else None,
            "format": opts["format"],
            "sections": job.params["sections"],
            "size": report.size if report else None,
            "pages": report.pages if report else None,
            "path": report.file.path if report else None,
            "error": job.error.splitlines()[0] if job.error else "",
            "seconds": round(time.monotonic() - started, 2),
        })
        if job.status == "failed":
            raise SystemExit(1)
