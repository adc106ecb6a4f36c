"""manage.py import_collection PATH... --investigation NAME [--collection NAME] [--format F]
[--map field=column ...] [--no-header] [--label key=value ...] [--user USERNAME] [--queue]

Runs the same import job the upload page starts (in this process, or on a worker with --queue) and
ends with one JSON summary line.
"""
from __future__ import annotations

import resource
import time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.collections.services import import_start, labels_parse
from apps.common.cli import key_values, print_summary
from apps.investigations.cli import cli_investigation, cli_user
from apps.jobs.services import job_execute


def _own_peak_mb() -> float:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Command(BaseCommand):
    help = "Import files into a collection of an investigation (one JSON summary line at the end)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+")
        parser.add_argument("--investigation", required=True)
        parser.add_argument("--collection", help="collection name (default: the first file's name)")
        parser.add_argument("--format", default=None)
        parser.add_argument(
            "--map",
            action="append",
            metavar="FIELD=COLUMN",
            help="generic CSV column mapping; a column by header name or by position (col1 is the first)",
        )
        parser.add_argument(
            "--no-header",
            action="store_true",
            help="the files' first row is data (generic CSV; map columns by position: col1, col2, ...)",
        )
        parser.add_argument("--label", action="append", metavar="KEY=VALUE", help="label every account and post")
        parser.add_argument("--user", help="acting user (default: the first superuser)")
        parser.add_argument(
            "--queue", action="store_true", help="queue the job for a worker instead of running it here"
        )

    def handle(self, *args, **opts):
        user = cli_user(opts["user"])
        investigation = cli_investigation(opts["investigation"], user)
        files = [{"path": str(Path(p).resolve()), "name": Path(p).name} for p in opts["paths"]]
        name = opts["collection"] or files[0]["name"].split(".")[0]
        try:
            labels = labels_parse(opts["label"])
        except ValidationError as exc:
            raise CommandError(f"--label: {' '.join(exc.messages)}") from None
        started = time.monotonic()
        try:
            job = import_start(
                investigation=investigation,
                user=user,
                collection_name=name,
                files=files,
                format=opts["format"],
                mapping=key_values(opts["map"], "--map"),
                labels=labels,
                no_header=opts["no_header"],
                enqueue=opts["queue"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        if not opts["queue"]:
            job = job_execute(job_id=job.pk)
        seconds = time.monotonic() - started
        result = job.result or {}
        summary = {
            "command": "import_collection",
            "job": job.pk,
            "status": job.status,
            "investigation": investigation.pk,
            "collection": name,
            **{k: result.get(k) for k in ("collection_id", "rows_read", "stored", "duplicates", "rejected")},
            "seconds": round(seconds, 2),
            "rows_per_s": round((result.get("rows_read") or 0) / seconds, 1) if seconds and not opts["queue"] else None,
            # The writer's own peak (VmHWM: ru_maxrss carries a parent's size over exec) plus the
            # parser child's, which has been reaped by now.
            "peak_rss_mb": round(_own_peak_mb() + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "error": job.error.splitlines()[0] if job.error else "",
        }
        print_summary(self.stdout, summary)
        if job.status == "failed":
            raise SystemExit(1)
