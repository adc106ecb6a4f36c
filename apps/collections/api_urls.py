from django.urls import path

from apps.collections import apis

urlpatterns = [
    path("investigations/<int:pk>/collections/", apis.CollectionListApi.as_view(), name="api-collection-list"),
    path("investigations/<int:pk>/imports/", apis.ImportStartApi.as_view(), name="api-import-start"),
    path("collections/<int:pk>/", apis.CollectionDetailApi.as_view(), name="api-collection-detail"),
    path("collections/<int:pk>/posts/", apis.PostListApi.as_view(), name="api-post-list"),
    path("collections/<int:pk>/accounts/", apis.AccountListApi.as_view(), name="api-account-list"),
    path("collections/<int:pk>/imports/", apis.ImportFileListApi.as_view(), name="api-import-file-list"),
    path("imports/<int:pk>/rejected/", apis.RejectedRowListApi.as_view(), name="api-rejected-row-list"),
]
