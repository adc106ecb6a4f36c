"""The triage API: the next item for the calling analyst, a decision (a label or a skip), undo. Viewers read;
writing needs the editor role; a non-member gets 404 for every queue. Each write answers with the next item
and the analyst's progress, so a key press costs one request."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.converters import MAX_ID
from apps.investigations.models import Role
from apps.triage import services
from apps.triage.selectors import item_describe, item_next, progress, queue_get


class TriageDecisionInput(serializers.Serializer):
    post = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    value = serializers.CharField(max_length=services.VALUE_MAX, required=False, allow_blank=True, default="",
                                  help_text="one of the queue's labels; leave out with skip")
    skip = serializers.BooleanField(required=False, default=False)


class TriageProgressOutput(serializers.Serializer):
    done = serializers.IntegerField(help_text="items the caller decided (labelled or skipped)")
    labelled = serializers.IntegerField()
    skipped = serializers.IntegerField()
    total = serializers.IntegerField()


class TriageRecentPostOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    time = serializers.DateTimeField(allow_null=True)


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
    post = TriageItemPostOutput()
    account = TriageItemAccountOutput()
    score = serializers.FloatField()
    uncertainty = serializers.FloatField(help_text="|score − 0.5|")
    attention_url = serializers.CharField(allow_null=True)
    networks = TriageNetworkOutput(many=True)


class TriageNextOutput(serializers.Serializer):
    item = TriageItemOutput(allow_null=True, help_text="null when the caller has decided every item")
    progress = TriageProgressOutput()


class TriageDecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    post = serializers.IntegerField(source="post_id")
    value = serializers.CharField()
    skipped = serializers.BooleanField()
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField()


class TriageDecisionResultOutput(TriageNextOutput):
    decision = TriageDecisionOutput()


class TriageUndoOutput(TriageNextOutput):
    undone = TriageDecisionOutput(allow_null=True, help_text="null when the caller had nothing to undo")


def next_payload(*, queue, user) -> dict:
    """``{"item", "progress"}``: the caller's next item with its context, and how far they are."""
    row = item_next(queue=queue, user=user)
    return {"item": item_describe(queue=queue, row=row) if row else None, "progress": progress(queue=queue, user=user)}


class TriageNextApi(APIView):
    @extend_schema(responses=TriageNextOutput)
    def get(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk)
        return Response(TriageNextOutput(next_payload(queue=queue, user=request.user)).data)


class TriageDecisionApi(APIView):
    Input = TriageDecisionInput

    @extend_schema(request=Input, responses={201: TriageDecisionResultOutput})
    def post(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.decision_record(queue=queue, user=request.user, post_id=data.validated_data["post"],
                                            value=data.validated_data["value"], skip=data.validated_data["skip"])
        payload = {"decision": decision, **next_payload(queue=queue, user=request.user)}
        return Response(TriageDecisionResultOutput(payload).data, status=status.HTTP_201_CREATED)


class TriageUndoApi(APIView):
    @extend_schema(request=None, responses=TriageUndoOutput)
    def post(self, request, pk: int):
        queue = queue_get(user=request.user, queue_id=pk, role=Role.EDITOR)
        undone = services.decision_undo(queue=queue, user=request.user)
        return Response(TriageUndoOutput({"undone": undone, **next_payload(queue=queue, user=request.user)}).data)
