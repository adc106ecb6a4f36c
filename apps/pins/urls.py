from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.pins import views

urlpatterns = [
    path("investigations/<id:pk>/storyline/", views.storyline_view, name="storyline"),
    path("pins/<id:pk>/", views.pin_open_view, name="pin-open"),
    path("pins/<id:pk>/thumbnail.png", views.pin_thumbnail_view, name="pin-thumbnail"),
    path("pins/<id:pk>/edit/", views.pin_edit_view, name="pin-edit"),
    path("pins/<id:pk>/delete/", views.pin_delete_view, name="pin-delete"),
]
