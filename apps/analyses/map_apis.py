"""The points of an embedding map, for the workspace's map panel (a lasso there selects accounts or posts).

Members only: ``analysis_get`` answers 404 to anyone else, and so does an analysis of another kind. The stored
points go out as they are (a 100,000-point map would take seconds through a serializer); the serializers
below document the shape in the schema.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analyses import selectors

MAP_KIND = "embedding_map"


class PointOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="the post's id (unit post) or the account's (unit account)")
    account = serializers.IntegerField(help_text="the account's id")
    handle = serializers.CharField()
    x = serializers.FloatField()
    y = serializers.FloatField()
    label = serializers.CharField(help_text="the colour_by label's value, or “community <n>” when coloured by "
                                  "communities; empty when none")
    posts = serializers.IntegerField(required=False, help_text="unit account: the posts averaged")


class PointsOutput(serializers.Serializer):
    unit = serializers.ChoiceField(choices=("post", "account"))
    points = PointOutput(many=True)
    left_out = serializers.IntegerField(help_text="posts or accounts the cap left off the map")
    colour_by = serializers.CharField()
    communities_from = serializers.IntegerField(allow_null=True, help_text="the network analysis whose communities "
                                                "colour the points; null when none")
    behaviour = serializers.IntegerField(allow_null=True, help_text="the behaviour analysis whose account embeddings "
                                         "were mapped; null for a map of texts")


class AnalysisPointsApi(APIView):
    @extend_schema(responses=PointsOutput)
    def get(self, request, pk: int):
        analysis = selectors.analysis_get(user=request.user, analysis_id=pk)
        if analysis.kind != MAP_KIND:
            raise NotFound("Only an embedding map has points.")
        result = analysis.result
        return Response({"unit": result["unit"], "points": result["points"], "left_out": result["left_out"],
                         "colour_by": result.get("colour_by", ""),
                         "communities_from": (result.get("communities_from") or {}).get("id"),
                         "behaviour": (result.get("behaviour") or {}).get("id")})
