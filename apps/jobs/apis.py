from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get
from apps.jobs import services
from apps.jobs.selectors import job_get, job_list


class JobOutput(serializers.Serializer):
    id = serializers.IntegerField()
    investigation = serializers.IntegerField(source="investigation_id")
    kind = serializers.CharField()
    params = serializers.JSONField(source="shown_params")
    status = serializers.CharField()
    progress = serializers.FloatField()
    stage = serializers.CharField()
    error = serializers.CharField()
    result = serializers.JSONField()
    provenance = serializers.JSONField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()
    duration_s = serializers.FloatField()
    cancel_requested = serializers.BooleanField()
    retried_from = serializers.IntegerField(source="retried_from_id", allow_null=True)


class JobListApi(APIView):
    @extend_schema(responses=JobOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(JobOutput(job_list(investigation=investigation)[:200], many=True).data)


class JobDetailApi(APIView):
    @extend_schema(responses=JobOutput)
    def get(self, request, pk: int):
        return Response(JobOutput(job_get(user=request.user, job_id=pk)).data)


class JobCancelApi(APIView):
    @extend_schema(request=None, responses=JobOutput)
    def post(self, request, pk: int):
        job = services.job_cancel(job=job_get(user=request.user, job_id=pk, role=Role.EDITOR), user=request.user)
        return Response(JobOutput(job).data)


class JobRetryApi(APIView):
    @extend_schema(request=None, responses=JobOutput)
    def post(self, request, pk: int):
        job = job_get(user=request.user, job_id=pk, role=Role.EDITOR)
        try:
            new = services.job_retry(job=job, user=request.user)
        except services.JobError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(JobOutput(new).data, status=status.HTTP_201_CREATED)
