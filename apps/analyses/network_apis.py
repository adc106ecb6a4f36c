"""A stored network as one binary payload of typed arrays (``ml.graphs.binary``), for static/js/graph-gl.js: node
positions (float32), edges as node-index pairs (uint32), weights (float32), community numbers (uint16 or uint32),
and a small JSON header naming the nodes. 50,000 edges travel as about 600 KB, with nothing to parse.

Members only: ``analysis_get`` answers 404 to anyone else, and so does an analysis that stores no network. A
network stored without positions (a row older than stored layouts) is laid out on this first request and saved
(``network_layout_ensure``). ``?part=names`` answers the node names as JSON, for a network too large to carry them
in the header.

Beside ``network_arrays``' header (ids, names, counts) the payload says how to name and select its nodes, so the
workspace's network panel draws a large network from this one request: ``analysis``, ``kind``, ``scale``,
``collection``, ``prefix`` ("@" or "#"), ``noun``, ``node_type`` ("account", or "entity" where the node ids are
entity values) and, for an entity network, ``entities``: each node's Entity pk (null where the collection has none),
which the workspace's selection speaks.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analyses import selectors
from apps.analyses.kinds.base import kind_get
from apps.analyses.kinds.network import SCALE_MAX, NetworkKind, network_arrays, network_layout_ensure

CONTENT_TYPE = "application/vnd.murmuration.network"


def _scale(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= SCALE_MAX):
        raise ValidationError({"scale": [f"scale must be a whole number from 1 to {SCALE_MAX}; got {raw[:40]!r}."]})
    return int(raw)


class NetworkBinaryApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("scale", int, description="coordination: a bin size (seconds) the run covered"),
            OpenApiParameter("part", str, enum=["names"], description="names: the node ids and names as JSON"),
        ],
        responses={(200, CONTENT_TYPE): OpenApiTypes.BINARY},
        description="Layout of the payload: ml/graphs/binary.py; how to draw it: static/js/graph-gl.js.",
    )
    def get(self, request, pk: int):
        from ml.graphs.binary import pack

        analysis = selectors.analysis_get(user=request.user, analysis_id=pk)
        if not isinstance(kind_get(analysis.kind), NetworkKind):
            raise NotFound("Only a network analysis has a network to draw.")
        scale, part = _scale(request.query_params.get("scale")), request.query_params.get("part") or ""
        if part not in ("", "names"):
            raise ValidationError({"part": [f"part must be names or left out; got {part[:40]!r}."]})
        laid_out = network_layout_ensure(analysis)
        result = kind_get(analysis.kind).at_scale(analysis, scale).result
        directed = bool(result.get("directed", analysis.kind == "coordination"))
        header, arrays = network_arrays(result, directed=directed, names=True if part else None)
        if part:
            return Response({"ids": header["ids"], "names": header["names"]})
        header.update({"analysis": analysis.pk, "kind": analysis.kind, "scale": result.get("scale"),
                       "layout_filled": result.get("layout_filled") if laid_out else None,
                       **_naming(analysis, header["ids"])})
        response = HttpResponse(pack(header, arrays), content_type=CONTENT_TYPE)
        response["Cache-Control"] = "private, no-cache"
        return response


def _naming(analysis, ids: list) -> dict:
    """How the nodes are named and selected, as the workspace's JSON network (``network_drawing``) says it."""
    kind, entity = kind_get(analysis.kind), selectors.ENTITY_NETWORKS.get(analysis.kind)
    out = {"collection": analysis.collection_id, "node_type": "entity" if entity else "account",
           "prefix": getattr(kind, "prefix", "") or ("#" if entity else "@"),
           "noun": getattr(kind, "noun", "") or ("hashtags" if entity else "accounts")}
    if entity:
        values = [str(v) for v in ids]
        found = selectors.entity_ids_by_value(analysis, values)
        out["entities"] = [found.get(v) for v in values]
    return out
