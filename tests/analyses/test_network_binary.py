"""The binary network payload (/api/analyses/<id>/network/binary/, ml/graphs/binary.py): its typed arrays decode to
the stored graph, node for node and edge for edge; members read it (404 for Mallory); a network stored without a
layout is laid out on the first request and saved; a large network's page leaves its edges out of the HTML."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from django.urls import reverse

from apps.analyses.kinds.network import GL_MIN_EDGES
from apps.analyses.models import Analysis
from apps.collections.models import Collection
from apps.jobs.models import Job
from ml.graphs.binary import PayloadError, pack, unpack
from ml.graphs.layout import layout_stored

pytestmark = pytest.mark.django_db



def tag(name: str, community: int, x: float, y: float) -> dict:
    return {"id": name, "handle": name, "community": community, "x": x, "y": y, "strength": 1.0, "count": 2,
            "labels": {}}


HASHTAGS = {
    # positions exact in float32, so the payload's must equal them
    "nodes": [tag("vote", 0, -0.5, 0.25), tag("maga", 0, 0.75, -0.125), tag("news", 1, 0.0625, 0.875),
              tag("lone", -1, 0.0, -1.0)],
    "edges": [
        {"source": "vote", "target": "maga", "weight": 2.0},
        {"source": "news", "target": "vote", "weight": 1.5},
        {"source": "maga", "target": "gone", "weight": 9.0},  # an end that is not a node: left out, counted
    ],
    "directed": False,
    "label_keys": [],
    "label_key": None,
    "communities": [],
    "inputs": {},
}


def stored(investigation, users, kind: str, result: dict) -> Analysis:
    collection = Collection.objects.get_or_create(investigation=investigation, name="c")[0]
    job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded")
    return Analysis.objects.create(investigation=investigation, job=job, kind=kind, collection=collection, params={},
                                   result=result, created_by=users["alice"])


def payload(api, analysis: Analysis, query: str = "") -> tuple[dict, dict]:
    response = api.get(reverse("api-analysis-network-binary", args=[analysis.pk]) + query)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/vnd.murmuration.network"
    return unpack(response.content)


def test_the_arrays_decode_to_the_stored_graph(api_for, investigation, users):
    analysis = stored(investigation, users, "hashtag_network", json.loads(json.dumps(HASHTAGS)))
    header, arrays = payload(api_for("carol"), analysis)  # a viewer reads it
    nodes = HASHTAGS["nodes"]
    assert header["ids"] == [n["id"] for n in nodes] and header["names"] == [n["handle"] for n in nodes]
    assert (header["nodes"], header["edges"], header["edges_left_out"]) == (4, 2, 1)
    assert arrays["positions"].dtype == np.float32
    assert arrays["positions"].reshape(-1, 2).tolist() == [[n["x"], n["y"]] for n in nodes]  # exact in float32
    assert arrays["edges"].dtype == np.uint32
    pairs = [(header["ids"][s], header["ids"][t]) for s, t in arrays["edges"].reshape(-1, 2)]
    assert pairs == [("vote", "maga"), ("news", "vote")]
    assert arrays["weights"].tolist() == [2.0, 1.5]
    assert arrays["communities"].dtype == np.uint16
    assert arrays["communities"].tolist() == [0, 0, 1, header["community_none"]] and header["community_none"] == 0xFFFF
    assert "q" not in arrays and "significant" not in arrays and header["directed"] is False


def test_a_coordination_network_keeps_its_direction_q_and_significance(api_for, investigation, users):
    result = {
        "nodes": [{"id": 11, "handle": "a", "community": 70_000, "x": 0.0, "y": 0.0},
                  {"id": 12, "handle": "b", "community": 3, "x": 1.0, "y": 1.0}],
        "edges": [{"source": 12, "target": 11, "weight": 0.25, "q": 0.01, "significant": True},
                  {"source": 11, "target": 12, "weight": 0.5, "q": None, "significant": False}],
        "counts": {}, "communities": [], "label_keys": [], "rule": "paper",
    }
    header, arrays = payload(api_for("alice"), stored(investigation, users, "coordination", result))
    assert header["directed"] is True and header["ids"] == [11, 12]
    assert arrays["edges"].tolist() == [1, 0, 0, 1]
    assert arrays["q"][0] == pytest.approx(0.01) and math.isnan(arrays["q"][1])
    assert arrays["significant"].tolist() == [1, 0]
    assert arrays["communities"].dtype == np.uint32 and arrays["communities"].tolist() == [70_000, 3]


def test_it_hides_the_payload_from_mallory_and_from_the_logged_out(api_for, investigation, users, client):
    analysis = stored(investigation, users, "hashtag_network", HASHTAGS)
    url = reverse("api-analysis-network-binary", args=[analysis.pk])
    assert api_for("mallory").get(url).status_code == 404
    assert client.get(url).status_code in (401, 403)


def test_an_analysis_without_a_network_has_no_payload(api_for, investigation, users):
    analysis = stored(investigation, users, "embedding_map", {"points": []})
    assert api_for("alice").get(reverse("api-analysis-network-binary", args=[analysis.pk])).status_code == 404


def test_a_bad_scale_or_part_is_a_400_naming_it(api_for, investigation, users):
    url = reverse("api-analysis-network-binary", args=[stored(investigation, users, "hashtag_network", HASHTAGS).pk])
    api = api_for("alice")
    assert "scale" in api.get(url + "?scale=soon").json()
    assert "part" in api.get(url + "?part=everything").json()
    assert "scale" in api.get(url + "?scale=60").json()  # a hashtag network stores one network, at no scale


def test_the_names_come_apart_on_request(api_for, investigation, users):
    url = reverse("api-analysis-network-binary", args=[stored(investigation, users, "hashtag_network", HASHTAGS).pk])
    assert api_for("alice").get(url + "?part=names").json() == {
        "ids": ["vote", "maga", "news", "lone"], "names": ["vote", "maga", "news", "lone"]}


def test_a_network_stored_without_a_layout_is_laid_out_once_and_saved(api_for, investigation, users):
    result = json.loads(json.dumps(HASHTAGS))
    for node in result["nodes"]:
        del node["x"], node["y"]
    analysis = stored(investigation, users, "hashtag_network", result)
    api = api_for("alice")
    first, arrays = payload(api, analysis)
    assert first["layout_filled"]  # the page says so
    saved = Analysis.objects.get(pk=analysis.pk).result
    xy = [[n["x"], n["y"]] for n in saved["nodes"]]
    assert all(math.isfinite(v) and abs(v) <= 1.01 for pair in xy for v in pair)
    assert len({tuple(p) for p in xy}) == 4  # four distinct places
    assert arrays["positions"].tolist() == pytest.approx([v for pair in xy for v in pair], abs=1e-6)
    second, again = payload(api, analysis)
    assert second["layout_filled"] is None and again["positions"].tolist() == arrays["positions"].tolist()


def big_network(edges: int) -> dict:
    """``edges`` distinct pairs among enough nodes, laid out on a line."""
    side = math.ceil(math.sqrt(2 * edges)) + 1
    pairs = [(a, b) for a in range(side) for b in range(a + 1, side)][:edges]
    return {**HASHTAGS,
            "nodes": [{"id": f"t{i}", "handle": f"t{i}", "community": i % 5, "x": i / side, "y": 0.0, "strength": 1.0,
                       "count": 1, "labels": {}} for i in range(side)],
            "edges": [{"source": f"t{a}", "target": f"t{b}", "weight": 1.0} for a, b in pairs],
            "edges_stored": edges, "edges_total": edges, "communities_total": 0, "modularity": 0.0,
            "method": "louvain", "layout": "spring", "giant_size": side, "counts": {}, "timings": {},
            "top_hashtags": [], "top_domains": []}


def embedded(client, analysis: Analysis, query: str = "") -> tuple[dict, str]:
    html = client.get(reverse("analysis-detail", args=[analysis.pk]) + query).content.decode()
    found = re.search(r'<script id="network-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1)), html


def test_a_large_networks_page_leaves_its_edges_to_the_binary_payload(client_for, investigation, users):
    client = client_for("carol")
    large = stored(investigation, users, "hashtag_network", big_network(GL_MIN_EDGES))
    data, html = embedded(client, large)
    binary = reverse("api-analysis-network-binary", args=[large.pk])
    assert data["edges"] is None and data["edges_in_binary"] == GL_MIN_EDGES and len(data["nodes"]) > 100
    assert f'data-binary="{binary}"' in html and f'<link rel="preload" href="{binary}"' in html
    data, html = embedded(client, large, "?renderer=plotly")  # the earlier drawing, on request
    assert len(data["edges"]) == GL_MIN_EDGES and "preload" not in html
    small = stored(investigation, users, "hashtag_network", big_network(GL_MIN_EDGES - 1))
    assert len(embedded(client, small)[0]["edges"]) == GL_MIN_EDGES - 1


def test_pack_refuses_what_it_cannot_type_and_unpack_what_it_did_not_make():
    with pytest.raises(PayloadError):
        pack({}, {"x": np.zeros(3, dtype=np.int64)})
    with pytest.raises(PayloadError):
        pack({}, {"x": np.zeros((2, 2), dtype=np.float32)})
    good = pack({"a": 1}, {"x": np.arange(3, dtype=np.uint8), "y": np.ones(2, dtype=np.float32)})
    header, arrays = unpack(good)
    assert header["a"] == 1 and arrays["x"].tolist() == [0, 1, 2] and arrays["y"].tolist() == [1.0, 1.0]
    assert (12 + int.from_bytes(good[8:12], "little")) % 8 == 0  # the arrays start aligned for typed-array views
    with pytest.raises(PayloadError):
        unpack(b"GIF89a" + good[6:])
    with pytest.raises(PayloadError):
        unpack(good[:-4])


def test_layout_stored_keeps_communities_together_in_a_large_network():
    ids = list(range(1_200))
    edges = [(i, j, 1.0) for i in ids for j in (i + 1, i + 2) if j < len(ids) and i // 600 == j // 600]
    positions, how = layout_stored(ids, edges, {i: i // 600 for i in ids})
    assert how == "community" and set(positions) == set(ids)
    centre = [np.mean([positions[i] for i in ids if i // 600 == c], axis=0) for c in (0, 1)]
    spread = max(np.hypot(*(np.array(positions[i]) - centre[i // 600])) for i in ids)
    assert np.hypot(*(centre[0] - centre[1])) > spread  # two discs apart, not one mixed cloud
