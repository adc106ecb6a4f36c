"""Create the demo user and load the demo investigation (a simulated operation), once.

Prints the credentials, then one JSON summary line.
"""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection
from apps.collections.services import import_start
from apps.common.cli import print_summary
from apps.investigations.models import Investigation
from apps.investigations.services import investigation_create
from apps.jobs.services import job_execute

DEMO_USER = "demo"
DEMO_PASSWORD = "murmuration-demo"
DEMO_INVESTIGATION = "Demo: simulated operation"
DEMO_COLLECTION = "Simulated operation (seed 7)"
# What a newcomer watches finish on a worker, then opens: the operation co-posts within minutes, so the
# influence model runs on one-minute bins (its one-hour default finds no edge in a burst of seconds).
# The platform's takedown list, as an analyst receives one: the operation's accounts are labelled
# takedown=operation, every other account takedown=not listed (the map is coloured by it).
TAKEDOWN_KEY = "takedown"
DEMO_ANALYSES = (
    ("coordination", {"bin_seconds": 60}),
    ("coaction", {}),
    ("hashtag_network", {}),
    # A sample of 3,000 posts: MiniLM embeds about 100 posts a second on two cores.
    ("embedding_map", {"unit": "post", "max_points": 3000, "colour_by": TAKEDOWN_KEY}),
    # MiniLM fine-tuned on 2,000 posts of the takedown list against the rest (about a minute), then every post
    # scored with it (a second job, queued when the model is stored): the workspace's score filter and column.
    (
        "train_classifier",
        {"label_source": "account_label", "label_key": TAKEDOWN_KEY, "positive_values": ["operation"],
         "score_after": True},
    ),
)


class Command(BaseCommand):
    help = "Create the demo user and the demo investigation with a simulated operation."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--no-analyses", action="store_true", help="load the data only; queue no analysis")

    def handle(self, *args, **opts):
        user = self._user()
        investigation = Investigation.objects.filter(name=DEMO_INVESTIGATION, memberships__user=user).first()
        if investigation is None:
            investigation = investigation_create(
                user=user,
                name=DEMO_INVESTIGATION,
                description=(
                    "Generated data: organic accounts and a coordinated operation amplifying a few seed accounts."
                ),
            )
        collection = Collection.objects.filter(investigation=investigation, name=DEMO_COLLECTION).first()
        job, queued = None, []
        if collection is None or not collection.stats.get("posts"):
            job = job_execute(job_id=self._import(investigation, user, opts["seed"]).pk)
            collection = Collection.objects.get(investigation=investigation, name=DEMO_COLLECTION)
            self._takedown_labels(collection, opts["seed"])
            if not opts["no_analyses"]:
                queued = [
                    analysis_start(
                        investigation=investigation, user=user, kind=kind, collection=collection, params=params
                    )
                    for kind, params in DEMO_ANALYSES
                ]
        self.stdout.write(f"Log in at http://127.0.0.1:8000/ as {DEMO_USER} / {DEMO_PASSWORD}")
        print_summary(
            self.stdout,
            {
                "command": "demo_setup",
                "user": DEMO_USER,
                "investigation": investigation.pk,
                "collection": collection.pk,
                "posts": collection.stats.get("posts"),
                "import_job": job.pk if job else None,
                "analysis_jobs": {j.params["kind"]: j.pk for j in queued},
            },
        )

    def _user(self):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USER, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def _takedown_labels(self, collection, seed: int) -> None:
        from ml.simulation.operation import truth_path

        truth = json.loads(truth_path(self._path(seed)).read_text(encoding="utf-8"))
        accounts = Account.objects.filter(collection=collection)
        listed = accounts.filter(platform_id__in=truth["operation_userids"])
        listed.update(labels={TAKEDOWN_KEY: "operation"})
        accounts.exclude(pk__in=listed.values("pk")).update(labels={TAKEDOWN_KEY: "not listed"})

    @staticmethod
    def _path(seed: int) -> Path:
        return Path(settings.VAR_DIR) / "demo" / f"operation-seed{seed}.csv.gz"

    def _import(self, investigation, user, seed: int):
        from ml.simulation.operation import OperationConfig, write_operation_csv

        path = self._path(seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_operation_csv(path, OperationConfig(seed=seed))
        return import_start(
            investigation=investigation,
            user=user,
            collection_name=DEMO_COLLECTION,
            files=[{"path": str(path), "name": path.name}],
            labels={"source": "simulation"},
            enqueue=False,
        )
