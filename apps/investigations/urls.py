from django.urls import path

from apps.investigations import views

urlpatterns = [
    path("", views.investigation_list_view, name="investigation-list"),
    path("investigations/<int:pk>/", views.investigation_detail_view, name="investigation-detail"),
    path("investigations/<int:pk>/members/", views.member_set_view, name="member-set"),
    path("investigations/<int:pk>/members/remove/", views.member_remove_view, name="member-remove"),
    path("investigations/<int:pk>/delete/", views.investigation_delete_view, name="investigation-delete"),
]
