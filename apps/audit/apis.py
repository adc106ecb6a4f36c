"""The audit trail over the API: read-only. The view defines ``get`` alone, so every other method is a 405."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.views import APIView

from apps.audit.selectors import audit_list


class AuditEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True)
    summary = serializers.CharField()
    detail = serializers.JSONField()


class AuditPageOutput(serializers.Serializer):
    """LimitOffsetPagination's envelope, described for the schema."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AuditEntryOutput(many=True)


PAGE_PARAMETERS = [
    OpenApiParameter("limit", OpenApiTypes.INT, description="Entries per page (default 100)."),
    OpenApiParameter("offset", OpenApiTypes.INT, description="Entries to skip."),
]


class AuditFilterInput(serializers.Serializer):
    action = serializers.CharField(required=False, allow_blank=True, max_length=40)
    actor = serializers.CharField(required=False, allow_blank=True, max_length=150)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)


class AuditListApi(APIView):
    """The investigation's audit trail, newest first, paginated (limit/offset); filters as on the page."""

    @extend_schema(parameters=[AuditFilterInput, *PAGE_PARAMETERS], responses=AuditPageOutput)
    def get(self, request, pk: int):
        filters = AuditFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = audit_list(user=request.user, investigation_id=pk, **filters.validated_data)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(AuditEntryOutput(page, many=True).data)
