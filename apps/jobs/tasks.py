"""django-q2 entry points: load by id, call the service."""
from apps.jobs import services


def job_run_task(job_id: int) -> None:
    services.job_execute(job_id=job_id)


def job_reap_task() -> list[int]:
    return services.job_reap_stale()
