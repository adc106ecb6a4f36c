from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.audit import apis

urlpatterns = [
    path("investigations/<id:pk>/audit/", apis.AuditListApi.as_view(), name="api-audit-list"),
    path("investigations/<id:pk>/timeline/", apis.CaseTimelineApi.as_view(), name="api-case-timeline"),
]
