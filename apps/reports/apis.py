"""The reports API: list an investigation's reports and start one (a job: follow it at ``/api/jobs/<id>/``), read
one report's facts; the file itself is downloaded from ``download_url``. Viewers read; building needs the editor
role; a non-member gets 404 for every report."""
from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get
from apps.reports import services
from apps.reports.models import Format, Section
from apps.reports.selectors import report_get, report_list


class ReportStartInput(serializers.Serializer):
    format = serializers.ChoiceField(choices=Format.values)
    sections = serializers.ListField(child=serializers.ChoiceField(choices=Section.values), required=False,
                                     default=list, max_length=len(Section.values),
                                     help_text="none: every section (an exchange format keeps those it carries)")
    min_weight = serializers.FloatField(required=False, default=0.0, min_value=0.0,
                                        help_text="STIX: coordination edges at or above this weight")


class ReportStartOutput(serializers.Serializer):
    job = serializers.IntegerField()
    job_url = serializers.CharField(help_text="the job's page (progress)")
    status_url = serializers.CharField(help_text="the job in the API: its result holds report_id when done")


class ReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    investigation = serializers.IntegerField(source="investigation_id")
    format = serializers.CharField()
    sections = serializers.ListField(child=serializers.CharField())
    size = serializers.IntegerField(help_text="bytes")
    pages = serializers.IntegerField(allow_null=True, help_text="a PDF's pages")
    filename = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, report) -> str:
        return reverse("report-download", args=[report.pk])


class ReportListApi(APIView):
    Input = ReportStartInput

    @extend_schema(responses=ReportOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(ReportOutput(report_list(investigation=investigation), many=True).data)

    @extend_schema(request=Input, responses={202: ReportStartOutput})
    def post(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.report_start(investigation=investigation, user=request.user,
                                    base_url=request.build_absolute_uri("/"), **data.validated_data)
        out = {"job": job.pk, "job_url": reverse("job-detail", args=[job.pk]),
               "status_url": reverse("api-job-detail", args=[job.pk])}
        return Response(ReportStartOutput(out).data, status=status.HTTP_202_ACCEPTED)


class ReportDetailApi(APIView):
    @extend_schema(responses=ReportOutput)
    def get(self, request, pk: int):
        return Response(ReportOutput(report_get(user=request.user, report_id=pk)).data)
