"""The triage API: the next item for the calling analyst, a decision (a label or a skip), undo; the rounds of active
learning and a retrain; the disagreements and their resolution. Viewers read; writing needs the editor role; a
non-member gets 404 for every queue. Each decision answers with the next item and the analyst's progress, so a key
press costs one request; asked with ``ahead``, it brings the item after that one too (``upcoming``), which the page
draws at the next key press without waiting for the server."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.converters import MAX_ID
from apps.investigations.models import Role
from apps.triage import services
from apps.triage.selectors import (
    disagreements,
    items_describe,
    items_next,
    progress,
    queue_get,
    retrain_jobs,
    round_list,
)

AHEAD_HELP = "also answer with the item after the next one (upcoming), to draw at once after the next decision"


class TriageDecisionInput(serializers.Serializer):
    post = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="a post queue's item")
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False,
                                       help_text="an account queue's item")
    value = serializers.CharField(max_length=services.VALUE_MAX, required=False, allow_blank=True, default="",
                                  help_text="one of the queue's labels; leave out with skip")
    skip = serializers.BooleanField(required=False, default=False)
    ahead = serializers.BooleanField(required=False, default=False, help_text=AHEAD_HELP)


class TriageAheadInput(serializers.Serializer):
    ahead = serializers.BooleanField(required=False, default=False, help_text=AHEAD_HELP)


class TriageProgressOutput(serializers.Serializer):
    done = serializers.IntegerField(help_text="items the caller decided (labelled or skipped)")
    labelled = serializers.IntegerField()
    skipped = serializers.IntegerField()
    total = serializers.IntegerField()


class TriageRecentPostOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    time = serializers.DateTimeField(allow_null=True)


class TriageTopPostOutput(TriageRecentPostOutput):
    score = serializers.FloatField()


class TriageCommunityOutput(serializers.Serializer):
    analysis = serializers.IntegerField()
    title = serializers.CharField()
    community = serializers.IntegerField()
    size = serializers.IntegerField()


class TriageItemPostOutput(serializers.Serializer):
    id = serializers.IntegerField()
    platform_id = serializers.CharField()
    text = serializers.CharField()
    time = serializers.DateTimeField(allow_null=True)
    kind = serializers.CharField()
    label = serializers.JSONField(allow_null=True, help_text="the post's current value of the queue's label key")
    url = serializers.CharField()


class TriageItemAccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    labels = serializers.JSONField()
    url = serializers.CharField()
    recent = TriageRecentPostOutput(many=True)
    # An account queue's item only:
    label = serializers.JSONField(required=False, allow_null=True,
                                  help_text="account queue: the account's current value of the queue's label key")
    posts = serializers.IntegerField(required=False, help_text="account queue: the account's posts")
    top_posts = TriageTopPostOutput(many=True, required=False, help_text="account queue: its highest-scored posts")
    communities = TriageCommunityOutput(many=True, required=False,
                                        help_text="account queue: its communities in stored networks")


class TriageNeighbourOutput(serializers.Serializer):
    id = serializers.IntegerField()
    handle = serializers.CharField()
    weight = serializers.FloatField()


class TriageNetworkOutput(serializers.Serializer):
    analysis = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField()
    neighbours = TriageNeighbourOutput(many=True)


class TriageItemOutput(serializers.Serializer):
    unit = serializers.CharField(help_text="post or account: what the item is")
    post = TriageItemPostOutput(allow_null=True, help_text="null in an account queue")
    account = TriageItemAccountOutput()
    score = serializers.FloatField()
    unreliable = serializers.BooleanField(
        allow_null=True, required=False,
        help_text="a post beyond the model's training range (the score page's mark); null: no range measured",
    )
    uncertainty = serializers.FloatField(help_text="|score − 0.5|")
    attention_url = serializers.CharField(allow_null=True)
    networks = TriageNetworkOutput(many=True)


class TriageNextOutput(serializers.Serializer):
    item = TriageItemOutput(allow_null=True, help_text="null when the caller has decided every item")
    upcoming = TriageItemOutput(allow_null=True, required=False,
                                help_text="asked with ahead: the item after it (null: none after it)")
    progress = TriageProgressOutput()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "upcoming" not in instance:  # not asked ahead: absent, not null (which says there is none)
            data.pop("upcoming", None)
        return data


class TriageDecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    post = serializers.IntegerField(source="post_id", allow_null=True)
    account = serializers.IntegerField(source="account_id", allow_null=True)
    value = serializers.CharField()
    skipped = serializers.BooleanField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField()


class TriageDecisionResultOutput(TriageNextOutput):
    decision = TriageDecisionOutput()


class TriageUndoOutput(TriageNextOutput):
    undone = TriageDecisionOutput(allow_null=True, help_text="null when the caller had nothing to undo")


def next_payload(*, queue, user, ahead: bool = False) -> dict:
    """``{"item", "progress"}``: the caller's next item with its context, and how far they are; with ``ahead``, the
    item after it too (``upcoming``)."""
    rows = items_next(queue=queue, user=user, count=2 if ahead else 1)
    described = items_describe(queue=queue, rows=rows) + [None, None]
    payload = {"item": described[0], "progress": progress(queue=queue, user=user)}
    return {**payload, "upcoming": described[1]} if ahead else payload


class TriageNextApi(APIView):
    @extend_schema(parameters=[TriageAheadInput], responses=TriageNextOutput)
    def get(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk)
        query = TriageAheadInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        payload = next_payload(queue=queue, user=request.user, ahead=query.validated_data["ahead"])
        return Response(TriageNextOutput(payload).data)


class TriageDecisionApi(APIView):
    Input = TriageDecisionInput

    @extend_schema(request=Input, responses={201: TriageDecisionResultOutput})
    def post(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.decision_record(queue=queue, user=request.user, post_id=data.validated_data.get("post"),
                                            account_id=data.validated_data.get("account"),
                                            value=data.validated_data["value"], skip=data.validated_data["skip"])
        payload = {"decision": decision,
                   **next_payload(queue=queue, user=request.user, ahead=data.validated_data["ahead"])}
        return Response(TriageDecisionResultOutput(payload).data, status=status.HTTP_201_CREATED)


class TriageUndoApi(APIView):
    Input = TriageAheadInput

    @extend_schema(request=Input, responses=TriageUndoOutput)
    def post(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        undone = services.decision_undo(queue=queue, user=request.user)
        payload = next_payload(queue=queue, user=request.user, ahead=data.validated_data["ahead"])
        return Response(TriageUndoOutput({"undone": undone, **payload}).data)


# Active learning -------------------------------------------------------------------------------------

class TriageRoundOutput(serializers.Serializer):
    number = serializers.IntegerField()
    analysis = serializers.IntegerField(source="analysis_id")
    model = serializers.IntegerField(source="model_id", allow_null=True)
    model_name = serializers.CharField(source="model.name", allow_null=True, default=None)
    labels = serializers.IntegerField(help_text="the queue's labels the model trained on")
    original_labels = serializers.IntegerField(help_text="the first model's own training labels reused")
    held_out = serializers.CharField(help_text="what the metrics were measured on")
    metrics = serializers.JSONField(help_text="auc, f1, precision, recall...; previous: the round before, same posts")
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class TriageRoundsOutput(serializers.Serializer):
    rounds = TriageRoundOutput(many=True)
    job = serializers.JSONField(allow_null=True, help_text="the latest retraining job's state (null: none yet)")


class TriageRetrainInput(serializers.Serializer):
    params = serializers.JSONField(required=False, default=dict,
                                   help_text="the triage_retrain kind's parameters (epochs, held_out...)")


def rounds_payload(queue) -> dict:
    job = retrain_jobs(queue=queue).first()
    return {"rounds": list(round_list(queue=queue)), "job": job.as_state() if job else None}


class TriageRoundsApi(APIView):
    @extend_schema(responses=TriageRoundsOutput)
    def get(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk)
        return Response(TriageRoundsOutput(rounds_payload(queue)).data)


class TriageRetrainApi(APIView):
    Input = TriageRetrainInput

    @extend_schema(request=Input, responses={202: TriageRoundsOutput})
    def post(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        params = data.validated_data["params"]
        if not isinstance(params, dict):
            raise serializers.ValidationError({"params": "params must be an object of parameters."})
        services.retrain_start(queue=queue, user=request.user, params=params)
        return Response(TriageRoundsOutput(rounds_payload(queue)).data, status=status.HTTP_202_ACCEPTED)


# Agreement -------------------------------------------------------------------------------------------

class TriageResolutionOutput(serializers.Serializer):
    value = serializers.CharField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    resolved_at = serializers.DateTimeField()


class TriageDisagreementOutput(serializers.Serializer):
    post = serializers.IntegerField(source="post_id")
    labels = serializers.DictField(child=serializers.CharField(), help_text="analyst → their latest label")
    resolution = TriageResolutionOutput(allow_null=True)


class TriageDisagreementsOutput(serializers.Serializer):
    disagreements = TriageDisagreementOutput(many=True)
    unresolved = serializers.IntegerField()


class TriageResolutionInput(serializers.Serializer):
    post = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    value = serializers.CharField(max_length=services.VALUE_MAX, help_text="one of the queue's labels")


class TriageDisagreementsApi(APIView):
    @extend_schema(responses=TriageDisagreementsOutput)
    def get(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk)
        rows = disagreements(queue=queue)
        payload = {"disagreements": rows, "unresolved": sum(r["resolution"] is None for r in rows)}
        return Response(TriageDisagreementsOutput(payload).data)


class TriageResolutionApi(APIView):
    Input = TriageResolutionInput

    @extend_schema(request=Input, responses={201: TriageResolutionOutput})
    def post(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        resolution = services.resolution_record(queue=queue, user=request.user, post_id=data.validated_data["post"],
                                                value=data.validated_data["value"])
        return Response(TriageResolutionOutput(resolution).data, status=status.HTTP_201_CREATED)
