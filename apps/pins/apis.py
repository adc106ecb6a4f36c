from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get
from apps.pins import services
from apps.pins.selectors import layout_get, pin_get, pin_list, storyline_get
from apps.pins.validation import CAPTION_MAX, STATE_MAX, png_from_data_url


def thumbnail_url(pin) -> str | None:
    return reverse("pin-thumbnail", args=[pin.pk]) if getattr(pin, "has_thumbnail", False) else None


class PinInput(serializers.Serializer):
    caption = serializers.CharField(max_length=CAPTION_MAX)
    state = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                  help_text=f"the workspace URL's query string without '?' (≤ {STATE_MAX:,} chars)")
    thumbnail = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None,
                                      trim_whitespace=False, help_text="data:image/png;base64,... (≤ 300 KB)")
    storyline = serializers.BooleanField(default=True, help_text="also append the pin to the case storyline")


class PinUpdateInput(serializers.Serializer):
    caption = serializers.CharField(max_length=CAPTION_MAX)


class PinOutput(serializers.Serializer):
    id = serializers.IntegerField()
    caption = serializers.CharField()
    state = serializers.CharField()
    url = serializers.CharField(help_text="the workspace URL that reopens the view")
    thumbnail_url = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()

    def get_thumbnail_url(self, pin) -> str | None:
        return thumbnail_url(pin)


class PinListApi(APIView):
    Input = PinInput

    @extend_schema(responses=PinOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(PinOutput(pin_list(investigation=investigation), many=True).data)

    @extend_schema(request=Input, responses={201: PinOutput})
    def post(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        pin = services.pin_create(
            investigation=investigation, user=request.user, caption=data.validated_data["caption"],
            state=data.validated_data["state"], thumbnail_png=png_from_data_url(data.validated_data["thumbnail"]),
            add_to_storyline=data.validated_data["storyline"],
        )
        return Response(PinOutput(pin).data, status=status.HTTP_201_CREATED)


class PinDetailApi(APIView):
    Input = PinUpdateInput

    @extend_schema(responses=PinOutput)
    def get(self, request, pk: int):
        return Response(PinOutput(pin_get(user=request.user, pin_id=pk)).data)

    @extend_schema(request=Input, responses=PinOutput)
    def patch(self, request, pk: int):
        pin = pin_get(user=request.user, pin_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(PinOutput(services.pin_update(pin=pin, user=request.user, **data.validated_data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.pin_delete(pin=pin_get(user=request.user, pin_id=pk, role=Role.EDITOR), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StoryItemOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["pin", "note"])
    id = serializers.IntegerField(help_text="the pin's or the note's id")
    text = serializers.CharField(help_text="the connecting sentence (may be empty)")
    caption = serializers.CharField(required=False, help_text="pins: the caption")
    thumbnail_url = serializers.CharField(required=False, allow_null=True, help_text="pins: the PNG, or null")
    html = serializers.CharField(required=False, help_text="notes: the body as sanitised HTML")
    url = serializers.CharField(help_text="pins: the workspace view; notes: the note on the notes page")

    def to_representation(self, item):
        base = {"type": item.kind, "id": item.pin_id or item.note_id, "text": item.text}
        if item.pin_id:
            return {**base, "caption": item.pin.caption, "thumbnail_url": thumbnail_url(item.pin), "url": item.pin.url}
        url = f"{reverse('note-list', args=[item.investigation_id])}#note-{item.note_id}"
        return {**base, "html": item.note.html, "url": url}


class StorylineOutput(serializers.Serializer):
    items = StoryItemOutput(many=True)


class StorylineInput(serializers.Serializer):
    items = serializers.ListField(child=serializers.DictField(), allow_empty=True,
                                  help_text='in order: {"pin": id} or {"note": id}, each with an optional "text"')


class StorylineApi(APIView):
    Input = StorylineInput

    @extend_schema(responses=StorylineOutput)
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(StorylineOutput({"items": storyline_get(investigation=investigation)}).data)

    @extend_schema(request=Input, responses=StorylineOutput)
    def put(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        services.storyline_set(investigation=investigation, user=request.user, items=data.validated_data["items"])
        return Response(StorylineOutput({"items": storyline_get(investigation=investigation)}).data)


class LayoutSerializer(serializers.Serializer):
    state = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                  help_text="the workspace URL's query string without '?'")


class WorkspaceLayoutApi(APIView):
    """Each member's own last workspace state (viewers too: it is their view, not case data)."""

    @extend_schema(responses=LayoutSerializer)
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response({"state": layout_get(user=request.user, investigation=investigation)})

    @extend_schema(request=LayoutSerializer, responses=LayoutSerializer)
    def put(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        data = LayoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        layout = services.layout_save(user=request.user, investigation=investigation,
                                      state=data.validated_data["state"])
        return Response({"state": layout.state})
