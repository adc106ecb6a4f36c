from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analyses import selectors, services
from apps.analyses.kinds.base import CHOICE, DATE, FLAG, FLOAT, INT, LIST, Kind, Param, kind_get, kind_names
from apps.collections.selectors import collection_get
from apps.common.ids import id_param
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
    collection = serializers.IntegerField(min_value=1, help_text="the id of a collection of this investigation")
    params = serializers.JSONField(
        required=False, default=dict, help_text="the kind's parameters (see each kind's schema)"
    )


def _schema_field(param: Param) -> serializers.Field:
    """A declared parameter as the OpenAPI schema shows it. Only the schema: values are checked by the kind's
    ``check``, so the API, the pages and ``run_analysis`` answer a bad value with the same sentence."""
    common = {"required": False, "help_text": param.help}
    default = None if callable(param.default) else param.default_value()
    if default is not None:
        common["default"] = default
    numbers = {"min_value": param.low, "max_value": param.high}
    if param.type == INT:
        return serializers.IntegerField(**numbers, **common)
    if param.type == FLOAT:
        return serializers.FloatField(**numbers, **common)
    if param.type == FLAG:
        return serializers.BooleanField(**common)
    if param.type == CHOICE:
        return serializers.ChoiceField(choices=param.choices, **common)
    if param.type == DATE:
        return serializers.DateField(**common)
    if param.type == LIST:
        child = (
            serializers.ChoiceField(choices=param.choices)
            if param.choices
            else serializers.IntegerField()
            if param.item == INT
            else serializers.FloatField()
            if param.item == FLOAT
            else serializers.CharField()
        )
        return serializers.ListField(child=child, max_length=param.max_items, **common)
    return serializers.CharField(max_length=param.max_length, allow_blank=True, **common)


def _start_serializer(kind: Kind) -> type[serializers.Serializer]:
    camel = "".join(part.capitalize() for part in kind.name.split("_"))
    params = type(f"{camel}Params", (serializers.Serializer,), {p.name: _schema_field(p) for p in kind.params})
    return type(
        f"{camel}Start",
        (serializers.Serializer,),
        {
            "kind": serializers.ChoiceField(choices=[kind.name]),
            "collection": serializers.IntegerField(
                min_value=1, help_text="the id of a collection of this investigation"
            ),
            "params": params(required=False, help_text=kind.label),
        },
    )


def start_schema() -> PolymorphicProxySerializer:
    """One request shape per kind, told apart by ``kind``: each kind's parameters in the schema."""
    return PolymorphicProxySerializer(
        component_name="AnalysisStart",
        resource_type_field_name="kind",
        serializers={name: _start_serializer(kind_get(name)) for name in kind_names()},
    )


class AnalysisStartApi(APIView):
    """Start an analysis; it runs as a job (poll it, or watch /ws/jobs/<id>/); its result names the analysis."""

    Input = AnalysisStartInput

    @extend_schema(request=start_schema(), responses={201: JobOutput})
    def post(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        collection = collection_get(user=request.user, collection_id=values["collection"])
        job = services.analysis_start(
            investigation=investigation,
            user=request.user,
            kind=values["kind"],
            collection=collection,
            params=values["params"],
        )
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
        services.text_model_delete(
            selectors.text_model_get(user=request.user, model_id=pk, role=Role.EDITOR), user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostScoreOutput(serializers.Serializer):
    post = serializers.IntegerField(source="post_id")
    post_platform_id = serializers.CharField(source="post.platform_id", default=None)
    account = serializers.IntegerField(source="account_id")
    account_handle = serializers.CharField(source="account.handle", default=None)
    score = serializers.FloatField()
    ood = serializers.FloatField(allow_null=True, help_text="distance to the training posts (null: not measured)")
    shift = serializers.FloatField(
        allow_null=True, help_text="the collection's shift probability: how sure a classifier is that a post like this "
        "comes from the scored collection rather than the training posts (null: not measured)")
    unreliable = serializers.BooleanField(
        allow_null=True, help_text="beyond the training range or above the shift limit (null: not measured)")
    text = serializers.CharField(source="post.text", default=None)


class PostScoreListApi(APIView):
    """Every scored post of a ``score`` analysis, paginated (limit/offset): ``?order=high`` (default) or
    ``low``, ``?account=<account id>`` for one account's posts."""

    @extend_schema(responses=PostScoreOutput(many=True))
    def get(self, request, pk: int):
        analysis = selectors.analysis_get(user=request.user, analysis_id=pk)
        if analysis.kind != "score":
            raise serializers.ValidationError({"analysis": "Only score analyses have post scores."})
        order, errors = request.query_params.get("order", "high"), {}
        if order not in selectors.POST_SCORE_ORDERS:
            errors["order"] = f"order must be high or low; got {order[:40]!r}."
        try:
            account = id_param(request.query_params.get("account"), name="account")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if errors:
            raise serializers.ValidationError(errors)
        rows = selectors.post_score_list(analysis=analysis, order=order, account_id=account)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(PostScoreOutput(page, many=True).data)
