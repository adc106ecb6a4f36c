from django.urls import path

from apps.jobs import views

urlpatterns = [
    path("investigations/<int:pk>/jobs/", views.job_list_view, name="job-list"),
    path("jobs/<int:pk>/", views.job_detail_view, name="job-detail"),
    path("jobs/<int:pk>/cancel/", views.job_cancel_view, name="job-cancel"),
    path("jobs/<int:pk>/retry/", views.job_retry_view, name="job-retry"),
]
