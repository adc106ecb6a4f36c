from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.notes import apis

urlpatterns = [
    path("investigations/<id:pk>/notes/", apis.NoteListApi.as_view(), name="api-note-list"),
    path("notes/<id:pk>/", apis.NoteDetailApi.as_view(), name="api-note-detail"),
    path("investigations/<id:pk>/tags/", apis.TagListApi.as_view(), name="api-tag-list"),
    path("tags/<id:pk>/", apis.TagDetailApi.as_view(), name="api-tag-detail"),
    path("investigations/<id:pk>/disarm/", apis.DisarmEvidenceApi.as_view(), name="api-disarm"),
]
