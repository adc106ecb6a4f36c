from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.collections import selectors, services
from apps.common.ids import id_param
from apps.investigations.models import Role
from apps.investigations.selectors import investigation_get
from apps.jobs.apis import JobOutput


class CollectionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    investigation = serializers.IntegerField(source="investigation_id")
    name = serializers.CharField()
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    stats = serializers.JSONField()
    stats_updated_at = serializers.DateTimeField()


class CollectionListApi(APIView):
    @extend_schema(responses=CollectionOutput(many=True))
    def get(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk)
        return Response(CollectionOutput(selectors.collection_list(investigation=investigation), many=True).data)


class CollectionDetailApi(APIView):
    @extend_schema(responses=CollectionOutput)
    def get(self, request, pk: int):
        return Response(CollectionOutput(selectors.collection_get(user=request.user, collection_id=pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        collection = selectors.collection_get(user=request.user, collection_id=pk, role=Role.OWNER)
        services.collection_delete(collection=collection, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostOutput(serializers.Serializer):
    id = serializers.IntegerField()
    platform_id = serializers.CharField()
    account = serializers.IntegerField(source="account_id")
    handle = serializers.CharField(source="account.handle")
    text = serializers.CharField()
    time = serializers.DateTimeField(allow_null=True)  # null: the file gave no time
    language = serializers.CharField()
    kind = serializers.CharField()
    ref_post_id = serializers.CharField()
    labels = serializers.JSONField()


class PostListApi(APIView):
    @extend_schema(responses=PostOutput(many=True))
    def get(self, request, pk: int):
        collection = selectors.collection_get(user=request.user, collection_id=pk)
        account_id = id_param(request.query_params.get("account"), name="account")
        posts = selectors.post_list(collection=collection, account_id=account_id)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(posts, request, view=self)
        return paginator.get_paginated_response(PostOutput(page, many=True).data)


class AccountOutput(serializers.Serializer):
    id = serializers.IntegerField()
    platform_id = serializers.CharField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    followers = serializers.IntegerField(allow_null=True)
    following = serializers.IntegerField(allow_null=True)
    created = serializers.DateTimeField(allow_null=True)
    labels = serializers.JSONField()


class AccountListApi(APIView):
    @extend_schema(responses=AccountOutput(many=True))
    def get(self, request, pk: int):
        collection = selectors.collection_get(user=request.user, collection_id=pk)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.account_list(collection=collection), request, view=self)
        return paginator.get_paginated_response(AccountOutput(page, many=True).data)


class ImportFileOutput(serializers.Serializer):
    id = serializers.IntegerField()
    collection = serializers.IntegerField(source="collection_id")
    job = serializers.IntegerField(source="job_id", allow_null=True)
    name = serializers.CharField()
    format = serializers.CharField()
    status = serializers.CharField()
    rows_read = serializers.IntegerField()
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField()
    error = serializers.CharField()


class ImportFileListApi(APIView):
    @extend_schema(responses=ImportFileOutput(many=True))
    def get(self, request, pk: int):
        collection = selectors.collection_get(user=request.user, collection_id=pk)
        return Response(ImportFileOutput(selectors.import_file_list(collection=collection), many=True).data)


class RejectedRowOutput(serializers.Serializer):
    line = serializers.IntegerField()
    field = serializers.CharField()
    reason = serializers.CharField()


class RejectedRowListApi(APIView):
    @extend_schema(responses=RejectedRowOutput(many=True))
    def get(self, request, pk: int):
        import_file = selectors.import_file_get(user=request.user, import_file_id=pk)
        return Response(RejectedRowOutput(selectors.rejected_row_list(import_file=import_file), many=True).data)


class ImportStartInput(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)
    collection = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="default: the first file's name"
    )
    format = serializers.CharField(required=False, allow_blank=True, default="")
    mapping = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="JSON {field: column}; a column by header name or by position (col1 is the first)",
    )
    no_header = serializers.BooleanField(
        required=False,
        default=False,
        help_text="the files' first row is data: map columns by position (col1, col2, ...)",
    )
    labels = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="key=value, one per line (as on the upload page)"
    )

    def validate_mapping(self, value: str) -> dict:
        return services.mapping_parse(value)

    def validate_labels(self, value: str) -> dict:
        return services.labels_parse(value)


class ImportStartApi(APIView):
    """Upload files into a collection; the import runs as a job (poll it, or watch /ws/jobs/<id>/)."""

    parser_classes = [MultiPartParser, FormParser]
    Input = ImportStartInput

    @extend_schema(request=ImportStartInput, responses={201: JobOutput})
    def post(self, request, pk: int):
        investigation = investigation_get(user=request.user, investigation_id=pk, role=Role.EDITOR)
        # request.data is a plain {} (no .dict()) when the request has no body
        fields = {key: request.data.get(key) for key in request.data}
        data = self.Input(data={**fields, "files": request.FILES.getlist("files")})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        job = services.upload_import_start(
            investigation=investigation,
            user=request.user,
            files=values["files"],
            collection_name=values["collection"],
            format=values["format"] or None,
            mapping=values["mapping"],
            labels=values["labels"],
            no_header=values["no_header"],
        )
        return Response(JobOutput(job).data, status=status.HTTP_201_CREATED)
