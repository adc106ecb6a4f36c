from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.jobs import apis

urlpatterns = [
    path("investigations/<id:pk>/jobs/", apis.JobListApi.as_view(), name="api-job-list"),
    path("jobs/<id:pk>/", apis.JobDetailApi.as_view(), name="api-job-detail"),
    path("jobs/<id:pk>/cancel/", apis.JobCancelApi.as_view(), name="api-job-cancel"),
    path("jobs/<id:pk>/retry/", apis.JobRetryApi.as_view(), name="api-job-retry"),
]
