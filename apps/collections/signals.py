"""Deleting a collection (directly or with its investigation) removes its bulk rows set-wise, and its analysis
store once the deletion commits."""
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from apps.collections.ingest import collection_purge
from apps.collections.models import Collection
from apps.collections.store import store_remove_on_commit


@receiver(pre_delete, sender=Collection)
def collection_rows_purge(sender, instance: Collection, **kwargs):
    collection_purge(collection_id=instance.pk)
    store_remove_on_commit(instance.pk)
