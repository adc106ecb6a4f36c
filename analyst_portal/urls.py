from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from its own URL: the CSP refuses inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("apps.investigations.api_urls")),
    path("api/", include("apps.collections.api_urls")),
    path("api/", include("apps.jobs.api_urls")),
    path("api/", include("apps.analyses.api_urls")),
    path("api/", include("apps.audit.api_urls")),
    path("api/", include("apps.notes.api_urls")),
    path("api/", include("apps.workspace.api_urls")),
    path("api/", include("apps.pins.api_urls")),
    path("api/", include("apps.triage.api_urls")),
    path("api/", include("apps.reports.api_urls")),
    path("", include("apps.investigations.urls")),
    path("", include("apps.collections.urls")),
    path("", include("apps.jobs.urls")),
    path("", include("apps.analyses.urls")),
    path("", include("apps.audit.urls")),
    path("", include("apps.notes.urls")),
    path("", include("apps.workspace.urls")),
    path("", include("apps.pins.urls")),
    path("", include("apps.triage.urls")),
    path("", include("apps.reports.urls")),
]
