from django.apps import AppConfig


class InvestigationsConfig(AppConfig):
    name = "apps.investigations"
    label = "investigations"
