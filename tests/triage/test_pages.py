"""Who may do what with a queue, on the pages and the API, and what the pages show: Mallory (no member) gets
404 everywhere, Carol (viewer) reads but cannot decide, Bob (editor) makes queues and decides."""
from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.collections.models import Post
from apps.triage.models import TriageDecision, TriageQueue
from apps.triage.selectors import item_describe, queue_items

pytestmark = pytest.mark.django_db


def test_a_non_member_gets_404_everywhere(case, make_queue, client_for, api_for):
    queue, inv = make_queue(), case["inv"]
    client, api = client_for("mallory"), api_for("mallory")
    for url in (reverse("triage-list", args=[inv.pk]), reverse("triage-create", args=[inv.pk]),
                reverse("triage-queue", args=[queue.pk])):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("triage-create", args=[inv.pk]), {}).status_code == 404
    assert api.get(reverse("api-triage-next", args=[queue.pk])).status_code == 404
    post = {"post": case["posts"]["p3"].pk, "value": "operation"}
    assert api.post(reverse("api-triage-decisions", args=[queue.pk]), post, format="json").status_code == 404
    assert api.post(reverse("api-triage-undo", args=[queue.pk])).status_code == 404
    assert api.get(reverse("api-triage-next", args=[queue.pk + 1000])).status_code == 404
    assert not TriageDecision.objects.exists()


def test_a_viewer_reads_the_queue_but_cannot_decide(case, make_queue, client_for, api_for):
    queue = make_queue()
    api = api_for("carol")
    body = api.get(reverse("api-triage-next", args=[queue.pk])).json()
    assert body["item"]["post"]["id"] == case["posts"]["p3"].pk and body["progress"]["total"] == 6
    post = {"post": case["posts"]["p3"].pk, "value": "operation"}
    assert api.post(reverse("api-triage-decisions", args=[queue.pk]), post, format="json").status_code == 403
    assert api.post(reverse("api-triage-undo", args=[queue.pk])).status_code == 403
    assert client_for("carol").get(reverse("triage-create", args=[case["inv"].pk])).status_code == 403
    page = client_for("carol").get(reverse("triage-queue", args=[queue.pk])).content.decode()
    assert "labelling needs the editor role" in page and 'data-can-edit="0"' in page
    assert 'data-key="1"' not in page
    assert not TriageDecision.objects.exists()
    assert Post.objects.get(pk=case["posts"]["p3"].pk).labels["analyst_label"] == "organic"


def test_an_item_comes_with_its_context(case, make_queue, api_for):
    queue = make_queue("score")  # p1 first: the troll's, linked to the amplifier in the network
    item = api_for("carol").get(reverse("api-triage-next", args=[queue.pk])).json()["item"]
    posts, accounts, network = case["posts"], case["accounts"], case["network"]
    assert item["post"]["text"] == "text of p1" and item["score"] == 0.9 and item["uncertainty"] == pytest.approx(0.4)
    assert item["account"]["handle"] == "@troll"
    assert [p["id"] for p in item["account"]["recent"]] == [posts["p3"].pk, posts["p2"].pk]  # latest first
    assert item["attention_url"] == reverse("text-model-post", args=[case["model"].pk, posts["p1"].pk])
    assert item["networks"] == [{
        "analysis": network.pk, "title": "Coordination", "url": reverse("analysis-detail", args=[network.pk]),
        "neighbours": [{"id": accounts["amplifier"].pk, "handle": "amplifier", "weight": 3.0}],
    }]
    row = queue_items(queue).get(post_id=posts["p6"].pk)
    assert item_describe(queue=queue, row=row)["networks"] == []  # the resident is in no stored network


def test_an_editor_makes_a_queue_from_the_page(case, users, client_for):
    client, inv = client_for("bob"), case["inv"]
    url = reverse("triage-create", args=[inv.pk])
    assert f'value="{case["scoring"].pk}"' in client.get(url).content.decode()
    form = {"analysis": case["scoring"].pk, "order": "score", "label_key": "analyst_label", "seed": ""}
    response = client.post(url, {**form, "label_values": "operation"})
    assert response.status_code == 400 and 'data-testid="error-label_values"' in response.content.decode()
    response = client.post(url, {**form, "analysis": case["network"].pk, "label_values": "a,b"})
    assert response.status_code == 400 and 'data-testid="error-analysis"' in response.content.decode()
    response = client.post(url, {**form, "label_values": " operation, organic ,unsure"})
    queue = TriageQueue.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("triage-queue", args=[queue.pk])
    assert (queue.label_values, queue.order, queue.total, queue.created_by) == (
        ["operation", "organic", "unsure"], "score", 6, users["bob"])
    assert AuditEntry.objects.filter(action="triage.create", object_id=queue.pk).count() == 1

    listing = client.get(reverse("triage-list", args=[inv.pk])).content.decode()
    assert reverse("triage-queue", args=[queue.pk]) in listing and "0 / 6" in listing
    detail = client.get(reverse("investigation-detail", args=[inv.pk])).content.decode()
    assert reverse("triage-list", args=[inv.pk]) in detail
    page = client.get(reverse("triage-queue", args=[queue.pk])).content.decode()
    first = json.loads(page.split('<script id="triage-first" type="application/json">')[1].split("</script>")[0])
    assert first["item"]["post"]["id"] == case["posts"]["p1"].pk
    assert 'data-key="3"' in page and 'data-key="4"' not in page and "js/triage.js" in page
