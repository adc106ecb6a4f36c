"""Jobs: create, run, report progress, cancel, retry, and reap the runs of dead workers."""
from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
import traceback
from datetime import timedelta
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.jobs.push import job_push
from apps.jobs.registry import job_kind_get

log = logging.getLogger(__name__)


ERROR_MAX_CHARS = 4000  # a job's error and a file's error: a message, not a copy of the input
STAGE_MAX_CHARS = 300


def job_text(text: str, limit: int = ERROR_MAX_CHARS) -> str:
    """Text fit to store on a job row: no NUL (PostgreSQL text cannot hold one; a failure message
    quoting one could not be saved and left its job "running"), no lone surrogate (a byte that was not
    UTF-8, which no database encodes) and at most ``limit`` characters."""
    text = str(text).replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) <= limit:
        return text
    keep = max(limit - 60, limit // 2)  # room for the note
    return f"{text[:keep]}… ({len(text) - keep:,} more characters cut)"


class JobCancelled(Exception):
    """Raised inside a run when the analyst asked to cancel it."""


class JobError(Exception):
    """A failure with a message meant for the analyst (no traceback shown)."""


@lru_cache(maxsize=1)
def code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=5
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("MURMURATION_VERSION", "unknown")


def job_create(
    *,
    investigation: Investigation,
    kind: str,
    params: dict,
    user=None,
    retried_from: Job | None = None,
    enqueue: bool = True,
) -> Job:
    """Create a job row and queue it for a worker after commit (``enqueue=False``: the caller runs it)."""
    job_kind_get(kind)  # unknown kinds fail here, before anything is queued
    job = Job.objects.create(
        investigation=investigation,
        kind=kind,
        params=params,
        created_by=user,
        retried_from=retried_from,
        provenance={"code_version": code_version()},
    )
    if enqueue:
        job_enqueue(job)
    return job


def job_enqueue(job: Job) -> None:
    from django_q.tasks import async_task

    job_id = job.pk
    transaction.on_commit(lambda: async_task("apps.jobs.tasks.job_run_task", job_id, task_name=f"job-{job_id}"))


class Progress:
    """What a run calls to report progress; it also carries the cancel request back to the run.

    Writes to the row are throttled (the row is the truth, the push is a courtesy), except for
    the first and the final report.
    """

    def __init__(self, job: Job):
        self.job = job
        self.min_interval = settings.MURMURATION["PROGRESS_MIN_INTERVAL_S"]
        self._last_write = 0.0

    def __call__(self, fraction: float, stage: str = "", *, force: bool = False) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        now = time.monotonic()
        if not force and now - self._last_write < self.min_interval:
            return
        self._last_write = now
        stage = job_text(stage, STAGE_MAX_CHARS)
        Job.objects.filter(pk=self.job.pk).update(progress=fraction, stage=stage, heartbeat_at=timezone.now())
        self.job.progress, self.job.stage = fraction, stage
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled()
        job_push(self.job)

    def provenance(self, **facts) -> None:
        """Add facts (inputs with row counts, model used...) to the job's provenance."""
        self.job.provenance = {**self.job.provenance, **facts}
        Job.objects.filter(pk=self.job.pk).update(provenance=self.job.provenance)


def job_execute(*, job_id: int) -> Job | None:
    """Run a queued job in this worker.

    1. Claim the row (queued -> running) so a redelivered task cannot run it twice.
    2. Run the kind's function with a Progress reporter.
    3. Record success, or clean up the partial output and record the failure or cancellation.
    """
    job = _job_claim(job_id)
    if job is None:
        return None
    kind = job_kind_get(job.kind)
    progress = Progress(job)
    try:
        result = kind.run(job, progress)
    except JobCancelled:
        return _job_finish(job, Job.Status.CANCELLED, stage="Cancelled", cleanup=kind.cleanup)
    except JobError as exc:
        return _job_finish(job, Job.Status.FAILED, error=str(exc), cleanup=kind.cleanup)
    except Exception as exc:  # noqa: BLE001 - any crash must end as a failed row, never "running"
        log.exception("job %s crashed", job.pk)
        text = f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc(limit=8)}"
        return _job_finish(job, Job.Status.FAILED, error=text, cleanup=kind.cleanup)
    return _job_finish(job, Job.Status.SUCCEEDED, result=result or {}, stage="Done")


def _job_claim(job_id: int) -> Job | None:
    now = timezone.now()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker, stage="Starting"
    )
    if not claimed:
        job = Job.objects.filter(pk=job_id).first()
        if job is not None and job.status == Job.Status.RUNNING:
            # Redelivered while marked running: the worker that held it died.
            job_fail_dead(job, reason="the task was redelivered while marked running")
        return None
    job = Job.objects.get(pk=job_id)
    job_push(job)
    return job


def _job_finish(
    job: Job, status: str, *, error: str = "", result: dict | None = None, stage: str = "", cleanup=None
) -> Job:
    if cleanup is not None and status != Job.Status.SUCCEEDED:
        try:
            cleanup(job)
        except Exception:  # noqa: BLE001
            log.exception("cleanup of job %s failed", job.pk)
            error = (error + "\n\nCleanup of partial output also failed; see the worker log.").strip()
    fields = {
        "status": status,
        "error": job_text(error),
        "finished_at": timezone.now(),
        "stage": job_text(stage or status.capitalize(), STAGE_MAX_CHARS),
    }
    if result is not None:
        fields["result"] = result
    if status == Job.Status.SUCCEEDED:
        fields["progress"] = 1.0
    Job.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    job_push(job)
    return job


def job_fail_dead(job: Job, *, reason: str) -> Job:
    """Mark a run whose worker died as failed and remove what it half-wrote."""
    kind = job_kind_get(job.kind)
    error = f"The worker running this job ({job.worker or 'unknown'}) stopped during '{job.stage}': {reason}."
    return _job_finish(job, Job.Status.FAILED, error=error, cleanup=kind.cleanup)


def job_reap_stale(*, stale_after_s: int | None = None) -> list[int]:
    """Fail every running job whose heartbeat is older than ``stale_after_s``; returns their ids."""
    stale_after_s = stale_after_s if stale_after_s is not None else settings.MURMURATION["JOB_STALE_AFTER_S"]
    cutoff = timezone.now() - timedelta(seconds=stale_after_s)
    reaped = []
    for job in Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff):
        job_fail_dead(job, reason=f"no progress report for over {stale_after_s} s")
        reaped.append(job.pk)
    return reaped


def job_cancel(*, job: Job, user=None) -> Job:
    """Cancel a queued job at once; ask a running one to stop at its next progress report."""
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now(), stage="Cancelled", cancel_requested=True
        ):
            _cancel_record(job, user, "cancelled")
        elif Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            cancel_requested=True, stage="Cancelling"
        ):
            _cancel_record(job, user, "asked to stop")
    job.refresh_from_db()
    job_push(job)
    return job


def _cancel_record(job: Job, user, what: str) -> None:
    audit_record(investigation=job.investigation, user=user, action="job.cancel", obj=job,
                 summary=f"Job #{job.pk} ({job.kind}) was {what}.", detail={"kind": job.kind, "outcome": what})


def job_retry(*, job: Job, user=None) -> Job:
    if not job.is_finished or job.status == Job.Status.SUCCEEDED:
        raise JobError(f"Only a failed or cancelled job can be retried; job #{job.pk} is {job.status}.")
    with transaction.atomic():
        new = job_create(investigation=job.investigation, kind=job.kind, params=job.params, user=user, retried_from=job)
        audit_record(investigation=job.investigation, user=user, action="job.retry", obj=new,
                     summary=f"Job #{new.pk} retries job #{job.pk} ({job.kind}).",
                     detail={"kind": job.kind, "retried_from": job.pk})
    return new


def job_wait(*, job: Job, timeout_s: float = 3600, poll_s: float = 0.2) -> Job:
    """Block until a job finishes (for commands and tests that drive a real worker)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(poll_s)
    raise TimeoutError(f"job #{job.pk} still {job.status} after {timeout_s} s")
