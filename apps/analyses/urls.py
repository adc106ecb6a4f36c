from django.urls import path

from apps.analyses import views

urlpatterns = [
    path("analyses/<int:pk>/", views.analysis_detail_view, name="analysis-detail"),
    path("analyses/<int:pk>/score/", views.analysis_score_view, name="analysis-score"),
    path("collections/<int:pk>/authorship/", views.authorship_start_view, name="authorship-start"),
]
