"""The audit trail: one row per change in an investigation, appended and never edited.

Append-only is enforced in the ORM: ``save`` refuses an existing row, ``delete`` refuses always, and the
default manager's ``update``/``delete`` refuse too. Two things still reach the rows, on purpose:

- deleting the investigation deletes its trail: the cascade collector deletes through raw SQL
  (``_raw_delete``/``DeleteQuery``), never through ``Model.delete`` or this manager;
- deleting a user empties ``actor`` (SET_NULL, through the *base* manager, a plain one) while
  ``actor_name`` keeps who it was.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.investigations.models import Investigation


class AppendOnlyError(Exception):
    """An attempt to edit or delete an audit entry."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit entries cannot be edited.")

    def delete(self):
        raise AppendOnlyError("Audit entries cannot be deleted (only with their investigation).")


class AuditEntry(models.Model):
    investigation = models.ForeignKey(Investigation, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=500)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["investigation", "at"], name="audit_investigation_at_idx")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit entries cannot be deleted (only with their investigation).")
