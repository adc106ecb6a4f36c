from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.jobs import views

urlpatterns = [
    path("investigations/<id:pk>/jobs/", views.job_list_view, name="job-list"),
    path("jobs/<id:pk>/", views.job_detail_view, name="job-detail"),
    path("jobs/<id:pk>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("jobs/<id:pk>/retry/", views.job_retry_view, name="job-retry"),
]
