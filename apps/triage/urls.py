from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.triage import views

urlpatterns = [
    path("investigations/<id:pk>/triage/", views.triage_list_view, name="triage-list"),
    path("investigations/<id:pk>/triage/new/", views.triage_create_view, name="triage-create"),
    path("triage/<id:pk>/", views.triage_queue_view, name="triage-queue"),
    path("triage/<id:pk>/disagreements/", views.triage_disagreements_view, name="triage-disagreements"),
]
