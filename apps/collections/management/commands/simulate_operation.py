"""Generate the demo's synthetic information operation: an X archive CSV and its truth file."""
from __future__ import annotations

import json
from dataclasses import replace

from django.core.management.base import BaseCommand, CommandError

from ml.simulation import OperationConfig, write_operation_csv


class Command(BaseCommand):
    help = ("Write a seeded synthetic information operation as an X information-operations archive CSV "
            "(gzip when OUT ends .gz), with the ground truth in OUT's stem + .truth.json.")

    def add_arguments(self, parser):
        defaults = OperationConfig()
        parser.add_argument("--out", required=True, help="CSV path; .csv.gz writes gzip")
        parser.add_argument("--seed", type=int, default=defaults.seed)
        parser.add_argument("--days", type=int, default=defaults.days)
        parser.add_argument("--organic", type=int, default=defaults.organic_accounts, help="organic accounts")
        parser.add_argument("--operation", type=int, default=defaults.operation_accounts,
                            help="operation accounts, seeds included (0: organic only)")

    def handle(self, *args, out, seed, days, organic, operation, **options):
        try:
            config = replace(OperationConfig(), seed=seed, days=days, organic_accounts=organic,
                             operation_accounts=operation,
                             # a small operation keeps the usual leaders only while it has room for them
                             seed_accounts=min(OperationConfig.seed_accounts, max(operation, 0)))
        except ValueError as error:
            raise CommandError(str(error)) from None
        summary = write_operation_csv(out, config)
        self.stdout.write(json.dumps({
            "command": "simulate_operation", "out": summary["out"], "rows": summary["rows"],
            "accounts": summary["accounts"], "operation_accounts": summary["operation_accounts"],
            "seed": seed, "truth": summary["truth"],
        }))
