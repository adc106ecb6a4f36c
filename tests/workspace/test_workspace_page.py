"""The workspace page: a shell the script fills, with what it needs before its first request."""
from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def config_of(response) -> dict:
    found = re.search(
        r'<script id="workspace-config" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(found.group(1))


def test_the_page_lists_what_each_panel_can_show_and_the_role(world, client_for):
    url = reverse("workspace", args=[world["inv"].pk])
    editor = config_of(client_for("bob").get(url))
    assert editor["can_edit"] is True
    assert [c["name"] for c in editor["collections"]] == ["takedown"]
    assert [n["kind"] for n in editor["networks"]] == ["hashtag_network", "coordination"]  # newest first
    assert [s["id"] for s in editor["scores"]] == [world["score"].pk]
    viewer = client_for("carol").get(url)
    assert config_of(viewer)["can_edit"] is False
    assert 'data-testid="ws-pin" hidden' in viewer.content.decode()
    assert client_for("mallory").get(url).status_code == 404
