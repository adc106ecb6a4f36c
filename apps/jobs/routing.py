from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.jobs.consumers import JobConsumer

websocket_urlpatterns = [path("ws/jobs/<id:job_id>/", JobConsumer.as_asgi())]
