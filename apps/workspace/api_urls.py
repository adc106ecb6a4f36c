from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.workspace import apis

urlpatterns = [
    path("investigations/<id:pk>/workspace/posts/", apis.PostListApi.as_view(), name="api-workspace-posts"),
    path("investigations/<id:pk>/workspace/posts/<id:post_pk>/", apis.PostApi.as_view(), name="api-workspace-post"),
    path("investigations/<id:pk>/workspace/timeline/", apis.TimelineApi.as_view(), name="api-workspace-timeline"),
    path(
        "investigations/<id:pk>/workspace/accounts/<id:account_pk>/",
        apis.AccountApi.as_view(),
        name="api-workspace-account",
    ),
    path("investigations/<id:pk>/workspace/networks/", apis.NetworkListApi.as_view(), name="api-workspace-networks"),
    path("analyses/<id:pk>/network/", apis.NetworkApi.as_view(), name="api-analysis-network"),
    path("analyses/<id:pk>/network/active/", apis.NetworkActiveApi.as_view(), name="api-analysis-network-active"),
]
