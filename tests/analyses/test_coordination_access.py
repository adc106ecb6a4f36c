"""Who may see the coordination networks: Mallory (no member) gets 404 on every page, API, evidence
and export route; Carol (viewer) reads them but may not start one (403); Bob (editor) starts."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.analyses.models import Analysis
from apps.collections.models import Account, Collection
from apps.jobs.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.services]
NODE = {"community": 0, "influence": 1.0, "strength": 1.0, "x": 0.0, "y": 0.0, "influence_rank": 1, "labels": {}}


@pytest.fixture
def collection(investigation):
    collection = Collection.objects.create(investigation=investigation, name="c")
    Account.objects.create(collection=collection, platform_id="1", handle="leader")
    Account.objects.create(collection=collection, platform_id="2", handle="echo")
    return collection


@pytest.fixture
def analyses(investigation, collection, users) -> list[Analysis]:
    a, b = Account.objects.filter(collection=collection).order_by("pk").values_list("pk", flat=True)
    nodes = [{**NODE, "id": a, "handle": "leader"}, {**NODE, "id": b, "handle": "echo", "influence": 0.0}]
    result = {
        "nodes": nodes,
        "edges": [{"source": a, "target": b, "weight": 0.5, "q": 0.01, "significant": True}],
        "edges_stored": 1,
        "edges_total": 1,
        "communities": [],
        "communities_total": 0,
        "top_influencer": a,
        "top_influencer_handle": "leader",
        "label_keys": [],
        "counts": {"all": {"pairs": 2, "paper": 1, "significant": 1}, "significant": 1, "raw": 1},
        "rule": "significant",
        "grid_start": 0.0,
        "type_edges": {},
        "inputs": {},
        "sweep": [],
        "sweep_figure": {"data": [], "layout": {}},
        "window": 60,
    }
    out = []
    for kind, params in (
        (
            "coordination",
            {
                "entity_types": ["hashtag"],
                "bin_seconds": 60,
                "min_posts": 1,
                "rule": "significant",
                "alpha": 0.05,
                "exclude_entities": [],
                "event_date": None,
            },
        ),
        (
            "coaction",
            {
                "actions": ["hashtag"],
                "window": 60.0,
                "windows": [60.0],
                "rule": "significant",
                "alpha": 0.05,
                "min_weight": 1,
            },
        ),
    ):
        job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded")
        out.append(
            Analysis.objects.create(
                investigation=investigation,
                job=job,
                kind=kind,
                collection=collection,
                params=params,
                result=result,
                created_by=users["alice"],
            )
        )
    return out


def routes(analysis) -> list[str]:
    a, b = analysis.result["nodes"][0]["id"], analysis.result["nodes"][1]["id"]
    return [
        reverse("analysis-detail", args=[analysis.pk]),
        f"{reverse('analysis-evidence', args=[analysis.pk])}?source={a}&target={b}",
        *(reverse("analysis-export", args=[analysis.pk, fmt]) for fmt in ("gexf", "graphml", "csv")),
    ]


def starts(collection) -> list[str]:
    return [reverse("coordination-start", args=[collection.pk]), reverse("coaction-start", args=[collection.pk])]


def test_it_hides_every_network_route_from_mallory(client_for, api_for, analyses, collection):
    client, api = client_for("mallory"), api_for("mallory")
    for analysis in analyses:
        for url in routes(analysis):
            assert client.get(url).status_code == 404, url
        assert api.get(f"/api/analyses/{analysis.pk}/").status_code == 404
    for url in starts(collection):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"rule": "significant"}).status_code == 404, url
    for kind in ("coordination", "coaction"):
        start = api.post(
            f"/api/investigations/{collection.investigation_id}/analyses/start/",
            {"kind": kind, "collection": collection.pk, "params": {}},
            format="json",
        )
        assert start.status_code == 404
    assert Job.objects.count() == 2


def test_carol_reads_the_networks_but_may_not_start_one(client_for, api_for, analyses, collection):
    client, api = client_for("carol"), api_for("carol")
    for analysis in analyses:
        for url in routes(analysis):
            assert client.get(url).status_code == 200, url
    for url in starts(collection):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"rule": "significant"}).status_code == 403, url
    start = api.post(
        f"/api/investigations/{collection.investigation_id}/analyses/start/",
        {"kind": "coordination", "collection": collection.pk, "params": {}},
        format="json",
    )
    assert start.status_code == 403
    assert Job.objects.count() == 2


def test_bob_starts_both_kinds_from_the_pages_and_the_api(client_for, api_for, investigation, collection):
    client = client_for("bob")
    form = {
        "entity_types": ["hashtag", "url"],
        "bin_seconds": 60,
        "min_posts": 1,
        "rule": "significant",
        "alpha": 0.05,
        "event_date": "",
    }
    response = client.post(reverse("coordination-start", args=[collection.pk]), form)
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("job-detail", args=[job.pk])
    assert job.params["params"]["entity_types"] == ["hashtag", "url"] and job.params["params"]["bin_seconds"] == 60
    start = api_for("bob").post(
        f"/api/investigations/{investigation.pk}/analyses/start/",
        {"kind": "coaction", "collection": collection.pk, "params": {"window": 10}},
        format="json",
    )
    assert start.status_code == 201, start.json()


def test_out_of_range_parameters_come_back_as_field_errors(client_for, api_for, investigation, collection):
    page = client_for("bob").post(
        reverse("coordination-start", args=[collection.pk]),
        {"entity_types": ["hashtag"], "bin_seconds": 0, "min_posts": 1, "rule": "significant", "alpha": 2},
    )
    assert (
        page.status_code == 400
        and "bin_seconds must be between" in page.content.decode()
        and "alpha must be in" in page.content.decode()
    )
    start = api_for("bob").post(
        f"/api/investigations/{investigation.pk}/analyses/start/",
        {"kind": "coaction", "collection": collection.pk, "params": {"window": 0}},
        format="json",
    )
    assert start.status_code == 400 and "window" in start.json()
    assert not Job.objects.exists()
