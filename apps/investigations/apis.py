from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.investigations import services
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get, investigation_list, members_list, role_of


class InvestigationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    role = serializers.SerializerMethodField()

    def get_role(self, obj) -> str | None:
        return role_of(user=self.context["request"].user, investigation=obj)


class InvestigationCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class MemberSetInput(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.values)


class InvestigationListApi(APIView):
    Input = InvestigationCreateInput

    @extend_schema(responses=InvestigationOutput(many=True))
    def get(self, request):
        rows = investigation_list(user=request.user)
        return Response(InvestigationOutput(rows, many=True, context={"request": request}).data)

    @extend_schema(request=Input, responses={201: InvestigationOutput})
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        investigation = services.investigation_create(user=request.user, **data.validated_data)
        return Response(
            InvestigationOutput(investigation, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class InvestigationDetailApi(APIView):
    @extend_schema(responses=InvestigationOutput)
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(InvestigationOutput(investigation, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.OWNER)
        services.investigation_delete(investigation=investigation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberOutput(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()
    added_at = serializers.DateTimeField()


class MemberListApi(APIView):
    Input = MemberSetInput

    @extend_schema(responses=MemberOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(MemberOutput(members_list(investigation=investigation), many=True).data)

    @extend_schema(request=Input, responses={201: MemberOutput})
    def post(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.OWNER)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_set(investigation=investigation, by=request.user, **data.validated_data)
        return Response(MemberOutput(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk: int, username: str):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.OWNER)
        services.member_remove(investigation=investigation, username=username, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
