"""Jobs on a real django-q2 worker process: an import runs to the end; a killed worker's job ends failed
and leaves nothing of its file behind."""
from __future__ import annotations

import time

import pytest

from devstack.stack import last_json_line, portal_stack
from tests.support.files import write_ira_csv

pytestmark = [pytest.mark.worker, pytest.mark.services]


def wait_for(predicate, timeout: float = 120, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {timeout} s")


def setup_user(stack):
    stack.shell(
        "from django.contrib.auth.models import User; User.objects.create_superuser('ops', password='ops-pass-123')"
    )


def job_row(stack, job_id):
    return stack.query("SELECT status, progress, error FROM jobs_job WHERE id = ?", (job_id,))[0]


def test_a_queued_import_runs_on_the_worker_and_accounts_for_every_row(tmp_path):
    source = write_ira_csv(tmp_path / "ira.csv", 3000)
    with portal_stack(tmp_path, server=False) as stack:
        setup_user(stack)
        out = stack.manage("import_collection", str(source), "--investigation", "W", "--user", "ops", "--queue")
        job_id = last_json_line(out.stdout)["job"]
        wait_for(lambda: job_row(stack, job_id)[0] in ("succeeded", "failed"))
        assert job_row(stack, job_id)[:2] == ("succeeded", 1.0)
        rows_read, stored, dup, rejected = stack.query(
            "SELECT rows_read, stored, duplicates, rejected FROM collections_importfile"
        )[0]
        assert (rows_read, stored, dup, rejected) == (3000, 3000, 0, 0)
        assert stack.query("SELECT COUNT(*) FROM collections_post")[0][0] == 3000


def test_a_worker_killed_during_an_import_leaves_the_job_failed_and_nothing_half_written(tmp_path):
    source = write_ira_csv(tmp_path / "big.csv", 400_000)
    with portal_stack(tmp_path, server=False, env={"INGEST_BATCH_ROWS": "2000"}) as stack:
        setup_user(stack)
        out = stack.manage("import_collection", str(source), "--investigation", "K", "--user", "ops", "--queue")
        job_id = last_json_line(out.stdout)["job"]
        wait_for(lambda: stack.query("SELECT COUNT(*) FROM collections_post")[0][0] >= 6000, timeout=180)
        stack.kill_worker()
        status, progress, _ = job_row(stack, job_id)
        assert status == "running" and 0 < progress < 1
        assert stack.query("SELECT COUNT(*) FROM collections_post")[0][0] >= 6000  # half-written, for now
        reaped = last_json_line(stack.manage("reap_jobs", "--stale-after", "0").stdout)
        assert reaped["failed_jobs"] == [job_id]
        status, _, error = job_row(stack, job_id)
        assert status == "failed" and "stopped during 'Importing big.csv" in error
        assert stack.query("SELECT COUNT(*) FROM collections_post")[0][0] == 0
        assert stack.query("SELECT COUNT(*) FROM collections_interaction")[0][0] == 0
        assert stack.query("SELECT COUNT(*) FROM collections_account")[0][0] == 0
        # the import created its collection and kept none of it: the collection goes too
        assert stack.query("SELECT COUNT(*) FROM collections_importfile")[0][0] == 0
        assert stack.query("SELECT COUNT(*) FROM collections_collection")[0][0] == 0
