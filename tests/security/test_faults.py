"""Faults under a running portal: PostgreSQL restarted mid-import, Redis restarted mid-analysis.

The test starts a PostgreSQL cluster (initdb) and a redis-server of its own on free loopback ports (the
machine's services are shared and never restarted), runs the portal's worker (``manage.py qcluster``)
against them, and restarts one server while a job is mid-way. The job must end failed or succeeded, never
stay running past the reaper; a failed import keeps none of its rows; and the worker takes new jobs after.

It needs no DATABASE_URL or REDIS_URL and ignores them, so it is not marked ``services``: the first pass of
``make test`` runs it, once. Where initdb or redis-server is absent it skips, naming what is missing.
"""
from __future__ import annotations

import json
import warnings

import pytest

from devstack.stack import (
    ThrowawayPostgres,
    ThrowawayRedis,
    last_json_line,
    portal_stack,
    throwaway_postgres_missing,
    throwaway_redis_missing,
    wait_until,
)
from tests.support.files import write_ira_csv

pytestmark = [pytest.mark.worker]

BIG_IMPORT_ROWS = 100_000  # about 40 s to import here: the restart lands after its second batch of 2,000
STALE_AFTER_S = 5  # a job whose heartbeat is this old, after the restart, is left to the reaper


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    missing = throwaway_postgres_missing() or throwaway_redis_missing()
    if missing:
        warnings.warn(f"the fault tests did NOT run: {missing}", stacklevel=1)
        pytest.skip(f"fault tests need their own PostgreSQL and Redis servers: {missing}")
    postgres = ThrowawayPostgres()
    redis = ThrowawayRedis(tmp_path_factory.mktemp("redis"))
    try:
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.close()


@pytest.fixture(scope="module")
def stack(servers, tmp_path_factory):
    postgres, redis = servers
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "INGEST_BATCH_ROWS": "2000"}
    with portal_stack(tmp_path_factory.mktemp("portal"), server=False, env=env) as stack:
        stack.shell("from django.contrib.auth.models import User; "
                    "User.objects.create_superuser('ops', password='ops-pass-123')")
        yield stack


def job_row(stack, job_id: int) -> dict:
    status, progress, error, params, stale_s, finished = stack.query(
        "SELECT status, progress, error, params, EXTRACT(EPOCH FROM now() - heartbeat_at), finished_at "
        "FROM jobs_job WHERE id = ?", (job_id,))[0]
    params = params if isinstance(params, dict) else json.loads(params)
    return {"status": status, "progress": progress, "error": error, "params": params, "stale_s": float(stale_s or 0),
            "finished_at": finished}


def job_finished(stack, job_id: int, timeout: float = 120) -> dict:
    return wait_until(lambda: (row := job_row(stack, job_id))["status"] not in ("queued", "running") and row,
                      timeout=timeout, what=f"job {job_id} finishes")


def rows_of(stack, collection_id: int) -> dict:
    """The bulk rows a collection holds, per table."""
    tables = ("post", "interaction", "account", "entity")
    return {t: stack.query(f"SELECT COUNT(*) FROM collections_{t} WHERE collection_id = ?", (collection_id,))[0][0]
            for t in tables}


def queue(stack, *args: str) -> int:
    return last_json_line(stack.manage(*args, "--user", "ops", "--queue").stdout)["job"]


def test_a_redis_restart_mid_analysis_lets_the_job_finish_and_the_worker_take_the_next(stack, servers, tmp_path):
    _, redis = servers
    source = write_ira_csv(tmp_path / "small.csv", 12_000, accounts=300)
    stack.manage("import_collection", str(source), "--investigation", "Redis", "--collection", "small", "--user", "ops")
    job_id = queue(stack, "run_analysis", "coordination", "--investigation", "Redis", "--collection", "small")
    wait_until(lambda: job_row(stack, job_id)["status"] != "queued", timeout=60, every=0.05, what="the analysis starts")

    redis.restart()  # everything Redis held is gone: the broker's lists, the channel layer's groups
    assert job_row(stack, job_id)["status"] == "running", "the analysis ended before Redis was back: make it bigger"

    # Redis carries only the queue and the courtesy push: the job itself must not notice.
    row = job_finished(stack, job_id)
    assert (row["status"], row["error"]) == ("succeeded", "")
    assert stack.query("SELECT COUNT(*) FROM analyses_analysis WHERE job_id = ?", (job_id,))[0][0] == 1
    # The cluster reconnects to the new Redis and takes the next job.
    next_id = queue(stack, "run_analysis", "hashtag_network", "--investigation", "Redis", "--collection", "small")
    assert job_finished(stack, next_id, timeout=90)["status"] == "succeeded"


def test_a_postgres_restart_mid_import_ends_the_job_and_keeps_none_or_all_of_its_rows(stack, servers, tmp_path):
    postgres, _ = servers
    source = write_ira_csv(tmp_path / "big.csv", BIG_IMPORT_ROWS)
    job_id = queue(stack, "import_collection", str(source), "--investigation", "Postgres", "--collection", "big")
    collection_id = wait_until(lambda: job_row(stack, job_id)["params"].get("collection_id"), timeout=30)
    wait_until(lambda: rows_of(stack, collection_id)["post"] >= 4000, timeout=120, what="two batches are stored")
    assert 0 < job_row(stack, job_id)["progress"] < 1

    postgres.restart()  # every connection is cut; the server is back within a second

    # The worker loses its connection mid-batch. It records the failure itself when it can; when the server
    # was still down at that moment the row stays "running" with a stale heartbeat, and the reaper (which the
    # cluster's scheduler runs every minute) ends it: here it is run as soon as the heartbeat is stale.
    def ended_or_stale():
        row = job_row(stack, job_id)
        return row if row["status"] != "running" or row["stale_s"] > STALE_AFTER_S else None

    if wait_until(ended_or_stale, timeout=120, what="the import ends or goes stale")["status"] == "running":
        stack.manage("reap_jobs", "--stale-after", str(STALE_AFTER_S))
    row = job_row(stack, job_id)
    assert row["status"] in ("failed", "succeeded"), row
    if row["status"] == "succeeded":
        assert rows_of(stack, collection_id)["post"] == BIG_IMPORT_ROWS
    else:
        assert row["error"]
        # Nothing half-written: the import created its collection and kept none of it, so the collection goes too.
        assert rows_of(stack, collection_id) == {"post": 0, "interaction": 0, "account": 0, "entity": 0}
        assert stack.query("SELECT COUNT(*) FROM collections_collection WHERE id = ?", (collection_id,))[0][0] == 0
        assert stack.query("SELECT COUNT(*) FROM collections_importfile WHERE job_id = ?", (job_id,))[0][0] == 0

    # The worker reconnects: the next import runs whole.
    after = write_ira_csv(tmp_path / "after.csv", 3000)
    next_id = queue(stack, "import_collection", str(after), "--investigation", "Postgres", "--collection", "after")
    row = job_finished(stack, next_id, timeout=90)
    assert row["status"] == "succeeded", row["error"]
    assert rows_of(stack, row["params"]["collection_id"])["post"] == 3000
