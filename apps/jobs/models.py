from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.db import models

from apps.investigations.models import Investigation


class Job(models.Model):
    """One run of a background job. The row is the truth; websocket pushes are a courtesy."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=60)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True)
    retried_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration_s(self) -> float | None:
        if not self.started_at:
            return None
        end = self.finished_at or self.heartbeat_at
        return (end - self.started_at).total_seconds() if end else None

    @property
    def shown_params(self) -> dict:
        """The params as members see them: a server path (an upload's ``path``, a ``base_dir``) by its file
        name only. The row keeps the full paths, which the worker reads."""
        return _without_paths(self.params or {})

    def as_state(self) -> dict:
        """What a browser needs to draw the job: sent on connect and on every push."""
        return {
            "id": self.pk,
            "kind": self.kind,
            "status": self.status,
            "progress": round(self.progress, 4),
            "stage": self.stage,
            "error": self.error,
            "result": self.result,
            "cancel_requested": self.cancel_requested,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def _without_paths(value, key: str = ""):
    if isinstance(value, dict):
        return {k: _without_paths(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_paths(v, key) for v in value]
    if isinstance(value, str) and (key.endswith(("path", "dir")) or value.startswith("/")):
        return PurePath(value).name
    return value
