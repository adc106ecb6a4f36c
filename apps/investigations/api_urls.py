from django.urls import path

from apps.investigations import apis

urlpatterns = [
    path("investigations/", apis.InvestigationListApi.as_view(), name="api-investigation-list"),
    path("investigations/<int:pk>/", apis.InvestigationDetailApi.as_view(), name="api-investigation-detail"),
    path("investigations/<int:pk>/members/", apis.MemberListApi.as_view(), name="api-member-list"),
    path("investigations/<int:pk>/members/<str:username>/", apis.MemberDetailApi.as_view(), name="api-member-detail"),
]
