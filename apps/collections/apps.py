from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "apps.collections"
    label = "collections"
    verbose_name = "Collections"

    def ready(self):
        from apps.collections import services, signals  # noqa: F401  (the import job kind; purge on delete)
