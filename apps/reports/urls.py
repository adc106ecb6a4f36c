from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.reports import views

urlpatterns = [
    path("investigations/<id:pk>/reports/", views.report_list_view, name="report-list"),
    path("reports/<id:pk>/download/", views.report_download_view, name="report-download"),
]
