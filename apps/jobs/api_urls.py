from django.urls import path

from apps.jobs import apis

urlpatterns = [
    path("investigations/<int:pk>/jobs/", apis.JobListApi.as_view(), name="api-job-list"),
    path("jobs/<int:pk>/", apis.JobDetailApi.as_view(), name="api-job-detail"),
    path("jobs/<int:pk>/cancel/", apis.JobCancelApi.as_view(), name="api-job-cancel"),
    path("jobs/<int:pk>/retry/", apis.JobRetryApi.as_view(), name="api-job-retry"),
]
