from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analyses import selectors, services
from apps.analyses.kinds import kind_names
from apps.collections.selectors import collection_get
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get
from apps.jobs.apis import JobOutput


class AnalysisOutput(serializers.Serializer):
    id = serializers.IntegerField()
    investigation = serializers.IntegerField(source="investigation_id")
    job = serializers.IntegerField(source="job_id")
    kind = serializers.CharField()
    collection = serializers.IntegerField(source="collection_id", allow_null=True)
    params = serializers.JSONField()
    summary = serializers.JSONField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()


class AnalysisDetailOutput(AnalysisOutput):
    result = serializers.JSONField()


class AnalysisListApi(APIView):
    @extend_schema(responses=AnalysisOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        analyses = selectors.analysis_list(investigation=investigation, kind=request.query_params.get("kind") or None)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(analyses, request, view=self)
        return paginator.get_paginated_response(AnalysisOutput(page, many=True).data)


class AnalysisDetailApi(APIView):
    @extend_schema(responses=AnalysisDetailOutput)
    def get(self, request, pk: int):
        return Response(AnalysisDetailOutput(selectors.analysis_get(user=request.user, analysis_id=pk)).data)


class AnalysisStartInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=kind_names())
    collection = serializers.IntegerField(help_text="the id of a collection of this investigation")
    params = serializers.JSONField(required=False, default=dict, help_text='e.g. {"account": "@handle"} for authorship')


class AnalysisStartApi(APIView):
    """Start an analysis; it runs as a job (poll it, or watch /ws/jobs/<id>/); its result names the analysis."""

    Input = AnalysisStartInput

    @extend_schema(request=AnalysisStartInput, responses={201: JobOutput})
    def post(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not isinstance(values["params"], dict):
            raise serializers.ValidationError({"params": "must be a JSON object"})
        collection = collection_get(user=request.user, collection_id=values["collection"])
        job = services.analysis_start(investigation=investigation, user=request.user, kind=values["kind"],
                                      collection=collection, params=values["params"])
        return Response(JobOutput(job).data, status=status.HTTP_201_CREATED)


class TextModelOutput(serializers.Serializer):
    id = serializers.IntegerField()
    investigation = serializers.IntegerField(source="investigation_id")
    name = serializers.CharField()
    kind = serializers.CharField()
    base_model = serializers.CharField()
    params = serializers.JSONField()
    training = serializers.JSONField()
    metrics = serializers.JSONField()
    split = serializers.JSONField()
    job = serializers.IntegerField(source="job_id", allow_null=True)
    created_by = serializers.CharField(source="created_by.username", default=None)
    created_at = serializers.DateTimeField()


class TextModelListApi(APIView):
    @extend_schema(responses=TextModelOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.text_model_list(investigation=investigation), request, view=self)
        return paginator.get_paginated_response(TextModelOutput(page, many=True).data)


class TextModelDetailApi(APIView):
    @extend_schema(responses=TextModelOutput)
    def get(self, request, pk: int):
        return Response(TextModelOutput(selectors.text_model_get(user=request.user, model_id=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        selectors.text_model_get(user=request.user, model_id=pk, role=Role.EDITOR).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostScoreOutput(serializers.Serializer):
    post = serializers.IntegerField(source="post_id")
    post_platform_id = serializers.CharField(source="post.platform_id", default=None)
    account = serializers.IntegerField(source="account_id")
    account_handle = serializers.CharField(source="account.handle", default=None)
    score = serializers.FloatField()
    text = serializers.CharField(source="post.text", default=None)


class PostScoreListApi(APIView):
    """Every scored post of a ``score`` analysis, paginated (limit/offset): ``?order=high`` (default) or
    ``low``, ``?account=<account id>`` for one account's posts."""

    @extend_schema(responses=PostScoreOutput(many=True))
    def get(self, request, pk: int):
        analysis = selectors.analysis_get(user=request.user, analysis_id=pk)
        if analysis.kind != "score":
            raise serializers.ValidationError({"analysis": "Only score analyses have post scores."})
        order, account = request.query_params.get("order", "high"), request.query_params.get("account", "")
        errors = {}
        if order not in selectors.POST_SCORE_ORDERS:
            errors["order"] = f"order must be high or low; got {order!r}."
        if account and not (account.isdigit() and len(account) < 19):  # a database id (bigint)
            errors["account"] = f"account must be an account id (a whole number); got {account!r}."
        if errors:
            raise serializers.ValidationError(errors)
        rows = selectors.post_score_list(analysis=analysis, order=order, account_id=int(account) if account else None)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(PostScoreOutput(page, many=True).data)
