from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.notes import views

urlpatterns = [
    path("investigations/<id:pk>/notes/", views.note_list_view, name="note-list"),
    path("investigations/<id:pk>/tags/", views.tag_add_view, name="tag-add"),
    path("investigations/<id:pk>/disarm/", views.disarm_view, name="disarm"),
    path("notes/<id:pk>/edit/", views.note_edit_view, name="note-edit"),
    path("notes/<id:pk>/delete/", views.note_delete_view, name="note-delete"),
    path("tags/<id:pk>/delete/", views.tag_remove_view, name="tag-remove"),
]
