"""manage.py run_analysis KIND --investigation NAME --collection NAME [--param key=value ...]
[--account HANDLE] [--user USERNAME] [--queue]

Runs the same analysis job the pages start (in this process, or on a worker with --queue) and ends
with one JSON summary line. ``--account X`` is short for ``--param account=X`` (authorship).
Several values are comma-separated: ``run_analysis perplexity_matrix --collection A --param collections=B,C
--param models=3,4 --param target=D`` (the matrix's columns are A, B and C; see its kind).
"""
from __future__ import annotations

import argparse
import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.analyses.kinds.base import errors_to_sentence, kind_get, kind_names
from apps.analyses.services import analysis_start
from apps.collections.models import Collection
from apps.common.cli import key_values, print_summary
from apps.investigations.cli import cli_investigation, cli_user
from apps.jobs.services import job_execute


class Command(BaseCommand):
    help = "Run an analysis of a collection (one JSON summary line at the end)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        """``--help`` lists every kind's parameters, from the same declarations the pages and the API use."""
        lines = ["parameters (--param KEY=VALUE; lists comma-separated):"]
        for name in kind_names():
            lines.append(f"  {name}:")
            lines += [f"    {param.describe()}" for param in kind_get(name).params]
        kwargs.update(epilog="\n".join(lines), formatter_class=argparse.RawDescriptionHelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=kind_names())
        parser.add_argument("--investigation", required=True)
        parser.add_argument("--collection", required=True, help="the collection's name in the investigation")
        parser.add_argument("--param", action="append", metavar="KEY=VALUE", help="a parameter of the analysis")
        parser.add_argument("--account", help="the account to analyse (handle or platform id): --param account=...")
        parser.add_argument("--user", help="acting user (default: the first superuser)")
        parser.add_argument(
            "--queue", action="store_true", help="queue the job for a worker instead of running it here"
        )

    def handle(self, *args, **opts):
        user = cli_user(opts["user"])
        investigation = cli_investigation(opts["investigation"], user)
        collection = Collection.objects.filter(investigation=investigation, name=opts["collection"]).first()
        if collection is None:
            raise CommandError(
                f"No collection named {opts['collection']!r} in the investigation {investigation.name!r}"
            )
        params = key_values(opts["param"], "--param")
        if opts["account"]:
            params["account"] = opts["account"]
        started = time.monotonic()
        try:
            job = analysis_start(
                investigation=investigation,
                user=user,
                kind=opts["kind"],
                collection=collection,
                params=params,
                enqueue=opts["queue"],
            )
        except ValidationError as exc:
            raise CommandError(errors_to_sentence(exc)) from None
        if not opts["queue"]:
            job = job_execute(job_id=job.pk)
        result = {k: v for k, v in (job.result or {}).items() if k not in ("analysis_id", "kind")}
        print_summary(
            self.stdout,
            {
                "command": "run_analysis",
                "kind": opts["kind"],
                "job": job.pk,
                "status": job.status,
                "analysis": (job.result or {}).get("analysis_id"),
                **result,
                "error": job.error.splitlines()[0] if job.error else "",
                "seconds": round(time.monotonic() - started, 2),
            },
        )
        if job.status == "failed":
            raise SystemExit(1)
