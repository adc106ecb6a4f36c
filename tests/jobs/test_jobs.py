"""The job framework: claim, run, progress, failure cleanup, cancel, retry, reaping dead workers."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.jobs.models import Job
from apps.jobs.registry import job_kind_register
from apps.jobs.services import (
    JobError,
    job_cancel,
    job_create,
    job_execute,
    job_reap_stale,
    job_retry,
)

pytestmark = [pytest.mark.django_db, pytest.mark.services]
CALLS: list = []


def run_ok(job, progress):
    progress(0.5, "halfway", force=True)
    return {"answer": job.params["x"] * 2}


def run_crash(job, progress):
    progress(0.3, "about to crash", force=True)
    raise ZeroDivisionError("division by zero")


def run_refuse(job, progress):
    raise JobError("Collection 'x' has one class only; a classifier needs two.")


def run_cancelled_midway(job, progress):
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    progress(0.6, "checking in", force=True)
    return {"unreachable": True}


def cleanup(job):
    CALLS.append(job.pk)


for name, fn in [
    ("t-ok", run_ok),
    ("t-crash", run_crash),
    ("t-refuse", run_refuse),
    ("t-cancel", run_cancelled_midway),
]:
    job_kind_register(name=name, run=fn, cleanup=cleanup)


def make(investigation, kind, **params):
    return job_create(investigation=investigation, kind=kind, params=params or {"x": 21}, enqueue=False)


def test_a_job_runs_to_success_with_its_result_and_timings(investigation):
    job = job_execute(job_id=make(investigation, "t-ok").pk)
    assert (job.status, job.progress, job.result) == ("succeeded", 1.0, {"answer": 42})
    assert job.started_at <= job.finished_at and job.worker
    assert job.provenance["code_version"]


def test_a_crash_fails_the_job_with_the_error_and_cleans_up(investigation):
    CALLS.clear()
    job = job_execute(job_id=make(investigation, "t-crash").pk)
    assert job.status == "failed" and job.error.startswith("ZeroDivisionError: division by zero")
    assert CALLS == [job.pk]


def test_a_job_error_is_shown_without_a_traceback(investigation):
    job = job_execute(job_id=make(investigation, "t-refuse").pk)
    assert job.error == "Collection 'x' has one class only; a classifier needs two."


def test_a_running_job_stops_at_its_next_report_when_cancelled(investigation):
    CALLS.clear()
    job = job_execute(job_id=make(investigation, "t-cancel").pk)
    assert job.status == "cancelled" and job.result == {} and CALLS == [job.pk]


def test_a_queued_job_is_cancelled_at_once_and_never_runs(investigation):
    job = job_cancel(job=make(investigation, "t-ok"))
    assert job.status == "cancelled"
    assert job_execute(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_a_job_runs_once_even_if_delivered_twice(investigation):
    job = make(investigation, "t-ok")
    job_execute(job_id=job.pk)
    assert job_execute(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_retry_makes_a_new_job_with_the_same_parameters(investigation):
    failed = job_execute(job_id=make(investigation, "t-crash", x=5).pk)
    retry = job_retry(job=failed)
    assert (retry.kind, retry.params, retry.retried_from_id, retry.status) == ("t-crash", {"x": 5}, failed.pk, "queued")


def test_a_succeeded_job_cannot_be_retried(investigation):
    done = job_execute(job_id=make(investigation, "t-ok").pk)
    with pytest.raises(JobError, match="Only a failed or cancelled job can be retried"):
        job_retry(job=done)


def test_the_reaper_fails_jobs_whose_worker_stopped_reporting(investigation):
    CALLS.clear()
    stale = make(investigation, "t-ok")
    Job.objects.filter(pk=stale.pk).update(
        status="running", stage="Importing", worker="host:123", heartbeat_at=timezone.now() - timedelta(seconds=300)
    )
    fresh = make(investigation, "t-ok")
    Job.objects.filter(pk=fresh.pk).update(status="running", heartbeat_at=timezone.now())
    assert job_reap_stale(stale_after_s=120) == [stale.pk]
    stale.refresh_from_db()
    assert stale.status == "failed" and "host:123" in stale.error and "Importing" in stale.error
    assert CALLS == [stale.pk]


def test_a_redelivered_running_job_is_failed_not_run_again(investigation):
    job = make(investigation, "t-ok")
    Job.objects.filter(pk=job.pk).update(status="running", worker="gone:1", stage="Working")
    assert job_execute(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == "failed" and "redelivered" in job.error


def test_unknown_kinds_are_refused_before_anything_is_queued(investigation):
    with pytest.raises(ValueError, match="unknown job kind 'nope'"):
        job_create(investigation=investigation, kind="nope", params={})
    assert not Job.objects.filter(kind="nope").exists()


def test_a_job_error_is_storable_whatever_it_quotes():
    from apps.jobs.services import ERROR_MAX_CHARS, job_text

    assert job_text("a\x00b\udcffc é") == "a\\x00b\\udcffc é"  # no NUL, no lone surrogate; the rest as it was
    long = job_text("x" * (ERROR_MAX_CHARS * 3))
    assert len(long) <= ERROR_MAX_CHARS and long.endswith("more characters cut)")
