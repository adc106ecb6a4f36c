from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.reports import apis

urlpatterns = [
    path("investigations/<id:pk>/reports/", apis.ReportListApi.as_view(), name="api-report-list"),
    path("reports/<id:pk>/", apis.ReportDetailApi.as_view(), name="api-report-detail"),
]
