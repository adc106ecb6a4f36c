from django.urls import path

from apps.collections import views

urlpatterns = [
    path("investigations/<int:pk>/upload/", views.collection_upload_view, name="collection-upload"),
    path("investigations/<int:pk>/upload/preview/", views.upload_preview_view, name="upload-preview"),
    path("collections/<int:pk>/", views.collection_detail_view, name="collection-detail"),
    path("collections/<int:pk>/posts/", views.collection_posts_view, name="collection-posts"),
    path("imports/<int:pk>/rejected.csv", views.import_file_rejected_view, name="import-file-rejected"),
    path("vendor/plotly.min.js", views.plotly_js_view, name="plotly-js"),
]
