from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "apps.jobs"
    label = "jobs"

    def ready(self):
        from apps.jobs import signals  # noqa: F401  (registers the reaper schedule after migrate)
