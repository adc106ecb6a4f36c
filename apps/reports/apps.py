from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "apps.reports"
    label = "reports"
    verbose_name = "Case reports"

    def ready(self):
        from apps.reports import services, signals  # noqa: F401  (the report job kind; files go with their rows)
