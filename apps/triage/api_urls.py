from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.triage import apis

urlpatterns = [
    path("triage/<id:pk>/next/", apis.TriageNextApi.as_view(), name="api-triage-next"),
    path("triage/<id:pk>/decisions/", apis.TriageDecisionApi.as_view(), name="api-triage-decisions"),
    path("triage/<id:pk>/undo/", apis.TriageUndoApi.as_view(), name="api-triage-undo"),
]
