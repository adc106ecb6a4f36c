"""The audit trail and the case timeline over the API: read-only. Each view defines ``get`` alone, so every other
method is a 405."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.audit.selectors import audit_list
from apps.audit.timeline import LANES, case_timeline, timeline_filter
from apps.investigations.selectors import investigation_get


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


class TimelineEventOutput(serializers.Serializer):
    lane = serializers.ChoiceField(choices=LANES, help_text="world: the evidence's own dates; case: the audit trail")
    start = serializers.CharField(help_text="ISO-8601: a date alone for a day, else a UTC time")
    end = serializers.CharField(allow_null=True, help_text="null for a point in time")
    kind = serializers.CharField(help_text="collection, tag, pin, analysis, story; in the case, the action's family")
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_null=True, help_text="the object's page, while it exists")
    actor = serializers.CharField(allow_null=True, help_text="who (case events by a user); null otherwise")


class TimelineFilterInput(serializers.Serializer):
    lane = serializers.ChoiceField(choices=LANES, required=False)
    kind = serializers.CharField(required=False, allow_blank=True, max_length=40)


class CaseTimelineApi(APIView):
    """The case timeline: the evidence's dates and the audit trail, sorted by start; filters as on the page."""

    @extend_schema(parameters=[TimelineFilterInput], responses=TimelineEventOutput(many=True))
    def get(self, request, pk: int):
        filters = TimelineFilterInput(data=request.query_params)
        filters.is_valid(raise_exception=True)
        investigation = investigation_get(user=request.user, investigation_id=pk)
        events = timeline_filter(case_timeline(investigation), **filters.validated_data)
        return Response(TimelineEventOutput(events, many=True).data)
