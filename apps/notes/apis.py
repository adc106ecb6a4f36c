from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get
from apps.notes import services
from apps.notes.models import NOTE_TARGETS, TAG_TARGETS
from apps.notes.selectors import disarm_evidence, note_get, note_list, tag_get, tag_list, with_targets

REF_FIELDS = ("account", "post", "entity", "analysis", "community", "source", "target", "note", "pin")


class TargetInput(serializers.Serializer):
    def target_ref(self) -> dict:
        return {k: self.validated_data[k] for k in REF_FIELDS if self.validated_data.get(k) is not None}


class NoteInput(TargetInput):
    body = serializers.CharField(max_length=services.BODY_MAX)
    target_type = serializers.ChoiceField(choices=NOTE_TARGETS, default="investigation")
    account = serializers.IntegerField(required=False, min_value=1)
    post = serializers.IntegerField(required=False, min_value=1)
    entity = serializers.IntegerField(required=False, min_value=1)
    analysis = serializers.IntegerField(required=False, min_value=1)
    community = serializers.IntegerField(required=False, min_value=0)
    source = serializers.IntegerField(required=False, min_value=1)
    target = serializers.IntegerField(required=False, min_value=1)
    pin = serializers.IntegerField(required=False, min_value=1)


class NoteUpdateInput(serializers.Serializer):
    body = serializers.CharField(max_length=services.BODY_MAX)


class TagInput(TargetInput):
    technique = serializers.CharField(max_length=20)
    target_type = serializers.ChoiceField(choices=TAG_TARGETS)
    note = serializers.IntegerField(required=False, min_value=1)
    pin = serializers.IntegerField(required=False, min_value=1)
    account = serializers.IntegerField(required=False, min_value=1)
    analysis = serializers.IntegerField(required=False, min_value=1)
    community = serializers.IntegerField(required=False, min_value=0)
    seen_on = serializers.DateField(required=False, allow_null=True, default=None)
    procedure = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.PROCEDURE_MAX)


class TargetOutput(serializers.Serializer):
    target_type = serializers.CharField()
    target_ref = serializers.JSONField()
    target_label = serializers.CharField(source="described.label")
    target_url = serializers.CharField(source="described.url", allow_null=True)


class TagOutput(TargetOutput):
    id = serializers.IntegerField()
    technique = serializers.CharField(source="technique.external_id")
    technique_name = serializers.CharField(source="technique.name")
    seen_on = serializers.DateField(allow_null=True)
    procedure = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class NoteOutput(TargetOutput):
    id = serializers.IntegerField()
    investigation = serializers.IntegerField(source="investigation_id")
    author = serializers.CharField(source="author.username", allow_null=True, default=None)
    body = serializers.CharField()
    html = serializers.CharField(help_text="the body as sanitised HTML")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def _described(investigation, *items):
    return with_targets(investigation=investigation, items=items)


class NoteListApi(APIView):
    Input = NoteInput

    @extend_schema(parameters=[OpenApiParameter("target_type", str, enum=NOTE_TARGETS)],
                   responses=NoteOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        target_type = request.query_params.get("target_type")
        notes = note_list(investigation=investigation, target_type=target_type if target_type in NOTE_TARGETS else None)
        return Response(NoteOutput(_described(investigation, *notes), many=True).data)

    @extend_schema(request=Input, responses={201: NoteOutput})
    def post(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.note_create(investigation=investigation, user=request.user, body=data.validated_data["body"],
                                    target_type=data.validated_data["target_type"], target=data.target_ref())
        return Response(NoteOutput(_described(investigation, note)[0]).data, status=status.HTTP_201_CREATED)


class NoteDetailApi(APIView):
    Input = NoteUpdateInput

    @extend_schema(responses=NoteOutput)
    def get(self, request, pk: int):
        note = note_get(user=request.user, note_id=pk)
        return Response(NoteOutput(_described(note.investigation, note)[0]).data)

    @extend_schema(request=Input, responses=NoteOutput)
    def patch(self, request, pk: int):
        note = note_get(user=request.user, note_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.note_update(note=note, user=request.user, body=data.validated_data["body"])
        return Response(NoteOutput(_described(note.investigation, note)[0]).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        note = note_get(user=request.user, note_id=pk, role=Role.EDITOR)
        services.note_delete(note=note, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TagListApi(APIView):
    Input = TagInput

    @extend_schema(responses=TagOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(TagOutput(_described(investigation, *tag_list(investigation=investigation)), many=True).data)

    @extend_schema(request=Input, responses={201: TagOutput})
    def post(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: data.validated_data[k] for k in ("technique", "target_type", "seen_on", "procedure")}
        tag = services.tag_add(investigation=investigation, user=request.user, target=data.target_ref(), **fields)
        return Response(TagOutput(_described(investigation, tag)[0]).data, status=status.HTTP_201_CREATED)


class TagDetailApi(APIView):
    @extend_schema(responses=TagOutput)
    def get(self, request, pk: int):
        tag = tag_get(user=request.user, tag_id=pk)
        return Response(TagOutput(_described(tag.investigation, tag)[0]).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        tag = tag_get(user=request.user, tag_id=pk, role=Role.EDITOR)
        services.tag_remove(tag=tag, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EvidenceTechniqueOutput(serializers.Serializer):
    technique = serializers.CharField(source="technique.external_id")
    name = serializers.CharField(source="technique.name")
    tag_count = serializers.SerializerMethodField()
    tags = TagOutput(many=True)
    notes = serializers.SerializerMethodField()

    def get_tag_count(self, obj) -> int:
        return len(obj["tags"])

    def get_notes(self, obj) -> list[int]:
        return [n.pk for n in obj["notes"]]


class EvidenceGroupOutput(serializers.Serializer):
    tactic = serializers.CharField(source="tactic.external_id", allow_null=True, default=None)
    tactic_name = serializers.CharField(source="tactic.name", allow_null=True, default=None)
    techniques = EvidenceTechniqueOutput(many=True)


class DisarmEvidenceApi(APIView):
    @extend_schema(responses=EvidenceGroupOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(EvidenceGroupOutput(disarm_evidence(investigation=investigation), many=True).data)
