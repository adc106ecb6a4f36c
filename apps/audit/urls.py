from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.audit import views

urlpatterns = [
    path("investigations/<id:pk>/audit/", views.audit_list_view, name="audit-list"),
    path("investigations/<id:pk>/audit.csv", views.audit_csv_view, name="audit-csv"),
    path("investigations/<id:pk>/timeline/", views.case_timeline_view, name="case-timeline"),
]
