"""Deleting a collection (directly or with its investigation) removes its bulk rows set-wise."""
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from apps.collections.ingest import collection_purge
from apps.collections.models import Collection


@receiver(pre_delete, sender=Collection)
def collection_rows_purge(sender, instance: Collection, **kwargs):
    collection_purge(collection_id=instance.pk)
