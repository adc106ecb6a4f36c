from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.investigations import views

urlpatterns = [
    path("", views.investigation_list_view, name="investigation-list"),
    path("investigations/<id:pk>/", views.investigation_detail_view, name="investigation-detail"),
    path("investigations/<id:pk>/members/", views.member_set_view, name="member-set"),
    path("investigations/<id:pk>/members/remove/", views.member_remove_view, name="member-remove"),
    path("investigations/<id:pk>/delete/", views.investigation_delete_view, name="investigation-delete"),
]
