from django.core.management.base import BaseCommand

from apps.common.cli import print_summary
from apps.jobs.services import job_reap_stale


class Command(BaseCommand):
    help = "Fail running jobs whose worker stopped reporting (the scheduler also does this every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=int, default=None, help="seconds without a progress report")

    def handle(self, *args, **opts):
        reaped = job_reap_stale(stale_after_s=opts["stale_after"])
        print_summary(self.stdout, {"command": "reap_jobs", "failed_jobs": reaped})
