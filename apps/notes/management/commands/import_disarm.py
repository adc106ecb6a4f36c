"""``manage.py import_disarm PATH``: load the DISARM framework's STIX 2.1 bundle (tactics, techniques).

The product ships none of the framework's data; re-running with a newer bundle updates in place."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.common.cli import print_summary
from apps.notes.disarm import BundleError, bundle_read
from apps.notes.services import disarm_import


class Command(BaseCommand):
    help = "Import DISARM tactics and techniques from its STIX 2.1 bundle (e.g. DISARM.json)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            bundle = bundle_read(path)
        except BundleError as exc:
            raise CommandError(str(exc)) from exc
        print_summary(self.stdout, {"command": "import_disarm", **disarm_import(bundle=bundle)})
