"""The courtesy push of a job's state to open browsers (the row stays the truth).

With channels-redis (REDIS_URL set) a worker's push reaches every web process. The in-memory layer
is per process, so in the embedded mode the websocket consumer polls the row instead, and a worker
does not push at all.
"""
from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

log = logging.getLogger(__name__)


def job_group(job_id: int) -> str:
    return f"job-{job_id}"


def layer_crosses_processes() -> bool:
    layer = get_channel_layer()
    return layer is not None and not isinstance(layer, InMemoryChannelLayer)


def job_push(job) -> None:
    if not layer_crosses_processes():
        return
    try:
        async_to_sync(get_channel_layer().group_send)(job_group(job.pk), {"type": "job.state", "state": job.as_state()})
    except Exception:  # noqa: BLE001 - a failed push must never fail the job; the row is the truth
        log.warning("push of job %s failed", job.pk, exc_info=True)
