"""The simulated town the behaviour, hybrid and store tests share: ``simulate_operation``'s posts imported through
ingest (so the analysis store is written as an upload writes it), its accounts labelled role=operation|resident from
the simulation's truth."""
from __future__ import annotations

from apps.collections.models import Account, Collection
from apps.jobs.services import job_execute
from ml.simulation import OperationConfig, operation_truth, write_operation_csv

TOWN = OperationConfig(seed=5, days=6, organic_accounts=60, operation_accounts=16, seed_accounts=2)


def town_import(investigation, user, folder, config: OperationConfig = TOWN) -> Collection:
    from apps.collections.services import import_start

    path = folder / "town.csv"
    write_operation_csv(path, config)
    job = import_start(investigation=investigation, user=user, collection_name="town",
                       files=[{"path": str(path), "name": "town.csv"}], enqueue=False)
    assert job_execute(job_id=job.pk).status == "succeeded"
    collection = Collection.objects.get(investigation=investigation, name="town")
    operation = operation_truth(config)["operation_userids"]
    accounts = Account.objects.filter(collection=collection, observed=True)
    accounts.filter(platform_id__in=operation).update(labels={"role": "operation"})
    accounts.exclude(platform_id__in=operation).update(labels={"role": "resident"})
    return collection
