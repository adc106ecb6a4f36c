from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.collections import apis

urlpatterns = [
    path("investigations/<id:pk>/collections/", apis.CollectionListApi.as_view(), name="api-collection-list"),
    path("investigations/<id:pk>/imports/", apis.ImportStartApi.as_view(), name="api-import-start"),
    path("collections/<id:pk>/", apis.CollectionDetailApi.as_view(), name="api-collection-detail"),
    path("collections/<id:pk>/posts/", apis.PostListApi.as_view(), name="api-post-list"),
    path("collections/<id:pk>/accounts/", apis.AccountListApi.as_view(), name="api-account-list"),
    path("collections/<id:pk>/imports/", apis.ImportFileListApi.as_view(), name="api-import-file-list"),
    path("imports/<id:pk>/rejected/", apis.RejectedRowListApi.as_view(), name="api-rejected-row-list"),
]
