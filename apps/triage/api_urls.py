from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.triage import apis

urlpatterns = [
    path("triage/<id:pk>/next/", apis.TriageNextApi.as_view(), name="api-triage-next"),
    path("triage/<id:pk>/decisions/", apis.TriageDecisionApi.as_view(), name="api-triage-decisions"),
    path("triage/<id:pk>/undo/", apis.TriageUndoApi.as_view(), name="api-triage-undo"),
    path("triage/<id:pk>/rounds/", apis.TriageRoundsApi.as_view(), name="api-triage-rounds"),
    path("triage/<id:pk>/retrain/", apis.TriageRetrainApi.as_view(), name="api-triage-retrain"),
    path("triage/<id:pk>/disagreements/", apis.TriageDisagreementsApi.as_view(), name="api-triage-disagreements"),
    path("triage/<id:pk>/resolutions/", apis.TriageResolutionApi.as_view(), name="api-triage-resolutions"),
]
