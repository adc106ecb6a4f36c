from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.analyses import hybrid_views, lm_views, text_views, views

urlpatterns = [
    path("analyses/<id:pk>/", views.analysis_detail_view, name="analysis-detail"),
    path("analyses/<id:pk>/score/", views.analysis_score_view, name="analysis-score"),
    path("collections/<id:pk>/authorship/", views.authorship_start_view, name="authorship-start"),
    path("analyses/<id:pk>/evidence/", views.analysis_evidence_view, name="analysis-evidence"),
    path("analyses/<id:pk>/export.<str:fmt>", views.analysis_export_view, name="analysis-export"),
    path(
        "collections/<id:pk>/coordination/", views.kind_start_view, {"kind": "coordination"}, name="coordination-start"
    ),
    path("collections/<id:pk>/coaction/", views.kind_start_view, {"kind": "coaction"}, name="coaction-start"),
    path("collections/<id:pk>/propagation/", views.kind_start_view, {"kind": "propagation"}, name="propagation-start"),
    path(
        "collections/<id:pk>/retweet-network/",
        views.kind_start_view,
        {"kind": "retweet_network"},
        name="retweet-network-start",
    ),
    path(
        "collections/<id:pk>/hashtag-network/",
        views.kind_start_view,
        {"kind": "hashtag_network"},
        name="hashtag-network-start",
    ),
    path("analyses/<id:pk>/timeline/", views.analysis_timeline_view, name="analysis-timeline"),
    path(
        "collections/<id:pk>/embedding-map/",
        views.kind_start_view,
        {"kind": "embedding_map"},
        name="embedding-map-start",
    ),
    path("collections/<id:pk>/behaviour/", views.kind_start_view, {"kind": "behaviour"}, name="behaviour-start"),
    path("collections/<id:pk>/hybrid/", hybrid_views.hybrid_start_view, name="hybrid-start"),
    path(
        "collections/<id:pk>/train-classifier/", text_views.train_classifier_start_view, name="train-classifier-start"
    ),
    path("models/<id:pk>/", text_views.text_model_detail_view, name="text-model-detail"),
    path("models/<id:pk>/delete/", text_views.text_model_delete_view, name="text-model-delete"),
    path("models/<id:pk>/score/", text_views.text_model_score_start_view, name="text-model-score"),
    path("models/<id:pk>/attention/", text_views.text_model_attention_view, name="text-model-attention"),
    path("models/<id:pk>/posts/<id:post_pk>/", text_views.text_model_post_view, name="text-model-post"),
    path(
        "models/<id:pk>/posts/<id:post_pk>/bertviz/<str:view>/",
        text_views.text_model_post_bertviz_view,
        name="text-model-post-bertviz",
    ),
    path("analyses/<id:pk>/post-scores.csv", text_views.score_posts_csv_view, name="analysis-post-scores-csv"),
    path("collections/<id:pk>/train-lm/", lm_views.train_lm_start_view, name="train-lm-start"),
    path(
        "investigations/<id:pk>/compare-language-models/",
        lm_views.perplexity_matrix_start_view,
        name="perplexity-matrix-start",
    ),
    path("models/<id:pk>/lm/", lm_views.lm_detail_view, name="lm-detail"),
]
