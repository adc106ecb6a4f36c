from django.urls import path

import apps.common.converters  # noqa: F401  (registers <id:...>)
from apps.investigations import apis

urlpatterns = [
    path("investigations/", apis.InvestigationListApi.as_view(), name="api-investigation-list"),
    path("investigations/<id:pk>/", apis.InvestigationDetailApi.as_view(), name="api-investigation-detail"),
    path("investigations/<id:pk>/members/", apis.MemberListApi.as_view(), name="api-member-list"),
    path("investigations/<id:pk>/members/<str:username>/", apis.MemberDetailApi.as_view(), name="api-member-detail"),
]
