from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    name = "apps.analyses"
    label = "analyses"
    verbose_name = "Analyses"

    def ready(self):
        from apps.analyses import services  # noqa: F401  (one job kind per analysis kind)
