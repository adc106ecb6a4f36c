"""Who may see the spread analyses: Mallory (no member) gets 404 on every page, export, timeline and
start route; Carol (viewer) reads them but may not start one (403); Bob (editor) starts each."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.analyses.models import Analysis
from apps.collections.models import Collection
from apps.jobs.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.services]
KINDS = ("propagation", "retweet_network", "hashtag_network")
STARTS = {
    "propagation": "propagation-start",
    "retweet_network": "retweet-network-start",
    "hashtag_network": "hashtag-network-start",
}
NETWORK = {
    "nodes": [
        {
            "id": "a",
            "handle": "a",
            "community": 0,
            "x": 0.0,
            "y": 0.0,
            "strength": 1.0,
            "giant": True,
            "count": 1,
            "labels": {},
        },
        {
            "id": "b",
            "handle": "b",
            "community": 0,
            "x": 1.0,
            "y": 0.0,
            "strength": 1.0,
            "giant": True,
            "count": 1,
            "labels": {},
        },
    ],
    "edges": [{"source": "a", "target": "b", "weight": 1.0}],
    "edges_stored": 1,
    "edges_total": 1,
    "communities": [],
    "communities_total": 0,
    "modularity": 0.0,
    "method": "louvain",
    "layout": "spring",
    "giant_size": 2,
    "directed": False,
    "label_keys": [],
    "label_key": None,
    "counts": {},
    "inputs": {},
    "timings": {},
    "top_hashtags": ["a"],
    "top_domains": [],
}
PROPAGATION = {
    "cascades": [],
    "cascades_total": 0,
    "labels": [],
    "by_label": [],
    "distributions": {},
    "drawings": [],
    "counts": {"orphans": 0},
    "label_key": None,
    "inputs": {},
}


@pytest.fixture
def collection(investigation):
    return Collection.objects.create(investigation=investigation, name="c")


@pytest.fixture
def analyses(investigation, collection, users) -> list[Analysis]:
    out = []
    for kind in KINDS:
        job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded")
        out.append(
            Analysis.objects.create(
                investigation=investigation,
                job=job,
                kind=kind,
                collection=collection,
                params={},
                result=PROPAGATION if kind == "propagation" else NETWORK,
                created_by=users["alice"],
            )
        )
    return out


def routes(analysis) -> list[str]:
    urls = [
        reverse("analysis-detail", args=[analysis.pk]),
        *(reverse("analysis-export", args=[analysis.pk, f]) for f in ("gexf", "graphml", "csv")),
    ]
    if analysis.kind == "hashtag_network":
        urls.append(reverse("analysis-timeline", args=[analysis.pk]) + "?hashtag=a")
    return urls


def test_it_hides_every_spread_route_from_mallory(client_for, api_for, analyses, collection):
    client, api = client_for("mallory"), api_for("mallory")
    for analysis in analyses:
        for url in routes(analysis):
            assert client.get(url).status_code == 404, url
    for kind in KINDS:
        url = reverse(STARTS[kind], args=[collection.pk])
        assert client.get(url).status_code == 404 and client.post(url, {}).status_code == 404, url
        start = api.post(
            f"/api/investigations/{collection.investigation_id}/analyses/start/",
            {"kind": kind, "collection": collection.pk},
            format="json",
        )
        assert start.status_code == 404
    assert Job.objects.count() == 3


def test_carol_reads_the_spread_analyses_but_may_not_start_one(client_for, api_for, analyses, collection):
    client, api = client_for("carol"), api_for("carol")
    for analysis in analyses:
        for url in routes(analysis):
            assert client.get(url).status_code == 200, url
    for kind in KINDS:
        url = reverse(STARTS[kind], args=[collection.pk])
        assert client.get(url).status_code == 403 and client.post(url, {}).status_code == 403, url
        start = api.post(
            f"/api/investigations/{collection.investigation_id}/analyses/start/",
            {"kind": kind, "collection": collection.pk},
            format="json",
        )
        assert start.status_code == 403
    assert Job.objects.count() == 3


def test_bob_starts_each_kind_from_its_page(client_for, collection):
    client = client_for("bob")
    forms = {
        "propagation": {"kinds": ["repost"], "min_size": 3},
        "retweet_network": {"actions": ["repost"], "min_weight": 2, "method": "louvain"},
        "hashtag_network": {
            "min_count": 2,
            "min_weight": 1,
            "top_k": 100,
            "method": "louvain",
            "giant_only": "on",
            "exclude": "#Covid19",
        },
    }
    for kind, form in forms.items():
        response = client.post(reverse(STARTS[kind], args=[collection.pk]), form)
        job = Job.objects.get(kind=f"analysis:{kind}")
        assert response.status_code == 302 and response["Location"] == reverse("job-detail", args=[job.pk])
    assert Job.objects.get(kind="analysis:hashtag_network").params["params"]["exclude"] == ["covid19"]
    assert Job.objects.get(kind="analysis:hashtag_network").params["params"]["giant_only"] is True
    assert client.get(reverse("analysis-evidence", args=[1])).status_code == 404
