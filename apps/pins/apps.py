from django.apps import AppConfig


class PinsConfig(AppConfig):
    name = "apps.pins"
    label = "pins"
    verbose_name = "Evidence pins and the case storyline"
