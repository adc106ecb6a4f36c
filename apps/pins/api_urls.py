from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.pins import apis

urlpatterns = [
    path("investigations/<id:pk>/pins/", apis.PinListApi.as_view(), name="api-pin-list"),
    path("pins/<id:pk>/", apis.PinDetailApi.as_view(), name="api-pin-detail"),
    path("investigations/<id:pk>/storyline/", apis.StorylineApi.as_view(), name="api-storyline"),
    path("investigations/<id:pk>/workspace/layout/", apis.WorkspaceLayoutApi.as_view(), name="api-workspace-layout"),
]
