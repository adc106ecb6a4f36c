"""A report's file goes with its row: deleted directly, by a failed job's cleanup, or with its investigation (the
cascade sends ``post_delete`` for each report). The file is removed once the delete commits, so a rolled-back
delete keeps it."""
from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from apps.reports.models import Report


@receiver(post_delete, sender=Report, dispatch_uid="report_file_delete")
def report_file_delete(sender, instance: Report, **kwargs) -> None:
    if instance.file:
        storage, name = instance.file.storage, instance.file.name
        transaction.on_commit(lambda: storage.delete(name))
