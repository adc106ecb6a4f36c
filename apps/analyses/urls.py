from django.urls import path

from apps.analyses import lm_views, text_views, views

urlpatterns = [
    path("analyses/<int:pk>/", views.analysis_detail_view, name="analysis-detail"),
    path("analyses/<int:pk>/score/", views.analysis_score_view, name="analysis-score"),
    path("collections/<int:pk>/authorship/", views.authorship_start_view, name="authorship-start"),
    path("analyses/<int:pk>/evidence/", views.analysis_evidence_view, name="analysis-evidence"),
    path("analyses/<int:pk>/export.<str:fmt>", views.analysis_export_view, name="analysis-export"),
    path("collections/<int:pk>/coordination/", views.network_start_view, {"kind": "coordination"}, name="coordination-start"),
    path("collections/<int:pk>/coaction/", views.network_start_view, {"kind": "coaction"}, name="coaction-start"),
    path("collections/<int:pk>/propagation/", views.spread_start_view, {"kind": "propagation"}, name="propagation-start"),
    path("collections/<int:pk>/retweet-network/", views.spread_start_view, {"kind": "retweet_network"}, name="retweet-network-start"),
    path("collections/<int:pk>/hashtag-network/", views.spread_start_view, {"kind": "hashtag_network"}, name="hashtag-network-start"),
    path("analyses/<int:pk>/timeline/", views.analysis_timeline_view, name="analysis-timeline"),
    path("collections/<int:pk>/train-classifier/", text_views.train_classifier_start_view, name="train-classifier-start"),
    path("models/<int:pk>/", text_views.text_model_detail_view, name="text-model-detail"),
    path("models/<int:pk>/delete/", text_views.text_model_delete_view, name="text-model-delete"),
    path("models/<int:pk>/score/", text_views.text_model_score_start_view, name="text-model-score"),
    path("models/<int:pk>/attention/", text_views.text_model_attention_view, name="text-model-attention"),
    path("models/<int:pk>/posts/<int:post_pk>/", text_views.text_model_post_view, name="text-model-post"),
    path("models/<int:pk>/posts/<int:post_pk>/bertviz/<str:view>/", text_views.text_model_post_bertviz_view,
         name="text-model-post-bertviz"),
    path("analyses/<int:pk>/post-scores.csv", text_views.score_posts_csv_view, name="analysis-post-scores-csv"),
    path("collections/<int:pk>/train-lm/", lm_views.train_lm_start_view, name="train-lm-start"),
    path("investigations/<int:pk>/compare-language-models/", lm_views.perplexity_matrix_start_view, name="perplexity-matrix-start"),
    path("models/<int:pk>/lm/", lm_views.lm_detail_view, name="lm-detail"),
]
