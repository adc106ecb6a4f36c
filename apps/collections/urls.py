from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.collections import views

urlpatterns = [
    path("investigations/<id:pk>/upload/", views.collection_upload_view, name="collection-upload"),
    path("investigations/<id:pk>/upload/preview/", views.upload_preview_view, name="upload-preview"),
    path("collections/<id:pk>/", views.collection_detail_view, name="collection-detail"),
    path("collections/<id:pk>/posts/", views.collection_posts_view, name="collection-posts"),
    path("imports/<id:pk>/rejected.csv", views.import_file_rejected_view, name="import-file-rejected"),
    path("vendor/plotly.min.js", views.plotly_js_view, name="plotly-js"),
]
