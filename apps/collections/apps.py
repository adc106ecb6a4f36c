from django.apps import AppConfig


class CollectionsConfig(AppConfig):
    name = "apps.collections"
    label = "collections"
    verbose_name = "Collections"

    def ready(self):
        from apps.collections import services  # noqa: F401  (registers the import job kind)
