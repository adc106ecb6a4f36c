from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.workspace import views

urlpatterns = [
    path("investigations/<id:pk>/workspace/", views.workspace_view, name="workspace"),
]
