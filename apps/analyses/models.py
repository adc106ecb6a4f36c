"""Analyses: the stored outcome of every detector run, one row per successful job."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.investigations.models import Investigation


class Analysis(models.Model):
    """Written once, at the end of its job, in one transaction: a row here is always complete.

    ``result`` holds what the kind's page draws (bounded: e.g. at most 500 ranked posts);
    ``summary`` is the small dict the command's JSON line and the list pages show.
    """

    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="analyses")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="analysis")
    kind = models.CharField(max_length=40)
    # The input collection; null for kinds that read several collections.
    collection = models.ForeignKey(
        "collections.Collection", on_delete=models.CASCADE, null=True, blank=True, related_name="analyses"
    )
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"
        indexes = [models.Index(fields=["investigation", "-created_at"], name="analysis_investigation_idx")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def title(self) -> str:
        """What lists call it: the kind and its subject (an account, a hashtag...), when it has one."""
        subject = self.summary.get("account") or self.params.get("account")
        return f"{self.kind.capitalize()} of @{subject}" if subject else self.kind.capitalize()
