from django.urls import path

from apps.analyses import apis

urlpatterns = [
    path("investigations/<int:pk>/analyses/", apis.AnalysisListApi.as_view(), name="api-analysis-list"),
    path("investigations/<int:pk>/analyses/start/", apis.AnalysisStartApi.as_view(), name="api-analysis-start"),
    path("analyses/<int:pk>/", apis.AnalysisDetailApi.as_view(), name="api-analysis-detail"),
    path("analyses/<int:pk>/post-scores/", apis.PostScoreListApi.as_view(), name="api-analysis-post-scores"),
    path("investigations/<int:pk>/models/", apis.TextModelListApi.as_view(), name="api-text-model-list"),
    path("models/<int:pk>/", apis.TextModelDetailApi.as_view(), name="api-text-model-detail"),
]
