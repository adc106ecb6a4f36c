from django.apps import AppConfig


class AnalysesConfig(AppConfig):
    name = "apps.analyses"
    label = "analyses"
    verbose_name = "Analyses"

    def ready(self):
        # Every kind is registered, then one job kind per analysis kind (``services.job_kinds_register``).
        from apps.analyses import registry, services

        services.job_kinds_register(registry.KINDS)
