"""What the workspace's network panel needs to draw a large network with graph-gl.js from one request: the page's
config says each network's edge count and the threshold (the renderer is chosen before any fetch), and the binary
payload names and selects its nodes as the JSON network does (prefix, noun, node type, collection, and an entity
network's Entity pks, which the workspace's selection speaks)."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.analyses.kinds.network import GL_MIN_EDGES
from ml.graphs.binary import unpack
from tests.workspace.test_workspace_page import config_of

pytestmark = pytest.mark.django_db


def header_of(api, analysis) -> dict:
    response = api.get(reverse("api-analysis-network-binary", args=[analysis.pk]))
    assert response.status_code == 200, response.content[:300]
    return unpack(response.content)[0]


def test_the_config_counts_each_networks_edges_against_the_pages_threshold(world, client_for):
    config = config_of(client_for("carol").get(reverse("workspace", args=[world["inv"].pk])))
    assert config["gl_min_edges"] == GL_MIN_EDGES
    assert {n["id"]: n["edges"] for n in config["networks"]} == {world["hashtags"].pk: 2, world["coordination"].pk: 10}


def test_the_payload_names_an_account_network_as_the_json_network_does(world, api_for):
    api = api_for("carol")
    header = header_of(api, world["coordination"])
    drawing = api.get(reverse("api-analysis-network", args=[world["coordination"].pk])).json()
    assert {k: header[k] for k in ("node_type", "prefix", "noun", "collection")} == {
        k: drawing[k] for k in ("node_type", "prefix", "noun", "collection")} == {
        "node_type": "account", "prefix": "@", "noun": "accounts", "collection": world["col"].pk}
    assert "entities" not in header


def test_the_payload_of_an_entity_network_carries_each_nodes_entity(world, api_for):
    world["entities"]["delta"].delete()  # a hashtag the collection no longer holds: null, not an error
    header = header_of(api_for("carol"), world["hashtags"])
    assert (header["node_type"], header["prefix"], header["noun"]) == ("entity", "#", "hashtags")
    assert header["ids"] == ["alpha", "beta", "gamma", "delta"]
    assert header["entities"] == [world["entities"][t].pk for t in ("alpha", "beta", "gamma")] + [None]
