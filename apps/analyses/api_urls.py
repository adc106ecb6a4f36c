from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.analyses import apis, map_apis, network_apis

urlpatterns = [
    path("investigations/<id:pk>/analyses/", apis.AnalysisListApi.as_view(), name="api-analysis-list"),
    path("investigations/<id:pk>/analyses/start/", apis.AnalysisStartApi.as_view(), name="api-analysis-start"),
    path("analyses/<id:pk>/", apis.AnalysisDetailApi.as_view(), name="api-analysis-detail"),
    path("analyses/<id:pk>/post-scores/", apis.PostScoreListApi.as_view(), name="api-analysis-post-scores"),
    path("analyses/<id:pk>/points/", map_apis.AnalysisPointsApi.as_view(), name="api-analysis-points"),
    path(
        "analyses/<id:pk>/network/binary/",
        network_apis.NetworkBinaryApi.as_view(),
        name="api-analysis-network-binary",
    ),
    path("investigations/<id:pk>/models/", apis.TextModelListApi.as_view(), name="api-text-model-list"),
    path("models/<id:pk>/", apis.TextModelDetailApi.as_view(), name="api-text-model-detail"),
]
