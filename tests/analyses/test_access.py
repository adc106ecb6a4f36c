"""Who may see and start analyses: Mallory (no member) gets 404 everywhere, as if nothing existed;
Carol (viewer) reads but cannot start; Bob (editor) starts."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.analyses.kinds import authorship
from apps.analyses.models import Analysis
from apps.collections.models import Account, Collection
from apps.jobs.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.services]
RESULT = {
    "account": "green_thumb",
    "account_id": 0,
    "own_posts": 9000,
    "negatives": 9000,
    "dropped_retweets_and_repeats": 0,
    "topic_words": [],
    "methods": {},
    "chosen": "words",
    "posts": [],
    "pasted": [],
}


@pytest.fixture
def collection(investigation):
    collection = Collection.objects.create(investigation=investigation, name="c")
    Account.objects.create(collection=collection, platform_id="1", handle="green_thumb")
    return collection


@pytest.fixture
def analysis(investigation, collection, users):
    job = Job.objects.create(investigation=investigation, kind="analysis:authorship", status="succeeded")
    account = Account.objects.get(collection=collection)
    return Analysis.objects.create(
        investigation=investigation,
        job=job,
        kind="authorship",
        collection=collection,
        created_by=users["alice"],
        params={
            "account": "green_thumb",
            "account_id": account.pk,
            "limit": 200,
            "max_posts": 5000,
            "cv_folds": 5,
            "curves": True,
            "pasted": [],
        },
        result={**RESULT, "account_id": account.pk},
        summary={"account": "green_thumb", "chosen": "words"},
    )


def pages(analysis, collection):
    return [reverse("analysis-detail", args=[analysis.pk]), reverse("authorship-start", args=[collection.pk])]


def apis(analysis):
    return [f"/api/investigations/{analysis.investigation_id}/analyses/", f"/api/analyses/{analysis.pk}/"]


def test_it_hides_every_analysis_route_from_mallory(client_for, api_for, analysis, collection):
    client, api = client_for("mallory"), api_for("mallory")
    for url in pages(analysis, collection):
        assert client.get(url).status_code == 404, url
    for url in apis(analysis):
        assert api.get(url).status_code == 404, url
    assert client.post(reverse("analysis-score", args=[analysis.pk]), {"text": "hi"}).status_code == 404
    assert client.post(reverse("authorship-start", args=[collection.pk]), {"account": "green_thumb"}).status_code == 404
    start = api.post(
        f"/api/investigations/{analysis.investigation_id}/analyses/start/",
        {"kind": "authorship", "collection": collection.pk, "params": {"account": "green_thumb"}},
        format="json",
    )
    assert start.status_code == 404
    assert Job.objects.count() == 1


def test_it_hides_a_collection_of_another_investigation_from_the_start_api(api_for, users, collection):
    from apps.investigations.models import Investigation

    own = Investigation.objects.get(name="Mallory's own")
    start = api_for("mallory").post(
        f"/api/investigations/{own.pk}/analyses/start/",
        {"kind": "authorship", "collection": collection.pk, "params": {"account": "green_thumb"}},
        format="json",
    )
    assert start.status_code == 404


def test_carol_reads_analyses_but_may_not_start_one(client_for, api_for, analysis, collection):
    client, api = client_for("carol"), api_for("carol")
    assert client.get(reverse("analysis-detail", args=[analysis.pk])).status_code == 200
    assert api.get(f"/api/analyses/{analysis.pk}/").status_code == 200
    assert client.get(reverse("authorship-start", args=[collection.pk])).status_code == 403
    assert client.post(reverse("authorship-start", args=[collection.pk]), {"account": "green_thumb"}).status_code == 403
    start = api.post(
        f"/api/investigations/{analysis.investigation_id}/analyses/start/",
        {"kind": "authorship", "collection": collection.pk, "params": {"account": "green_thumb"}},
        format="json",
    )
    assert start.status_code == 403
    assert Job.objects.count() == 1


def test_bob_starts_authorship_from_the_page_and_lands_on_the_job(client_for, collection):
    client = client_for("bob")
    assert client.get(reverse("authorship-start", args=[collection.pk]) + "?q=green").status_code == 200
    response = client.post(reverse("authorship-start", args=[collection.pk]), {"account": "@GREEN_THUMB"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("job-detail", args=[job.pk])
    assert (job.kind, job.params["params"]["account"], job.created_by.username) == (
        "analysis:authorship",
        "green_thumb",
        "bob",
    )


def test_bob_starts_authorship_through_the_api(api_for, investigation, collection):
    start = api_for("bob").post(
        f"/api/investigations/{investigation.pk}/analyses/start/",
        {"kind": "authorship", "collection": collection.pk, "params": {"account": "1"}},
        format="json",
    )
    assert start.status_code == 201, start.json()
    assert start.json()["kind"] == "analysis:authorship"


def test_the_start_page_and_api_name_an_unknown_account(client_for, api_for, investigation, collection):
    page = client_for("bob").post(reverse("authorship-start", args=[collection.pk]), {"account": "ghost"})
    assert page.status_code == 400 and "No account" in page.content.decode()
    start = api_for("bob").post(
        f"/api/investigations/{investigation.pk}/analyses/start/",
        {"kind": "authorship", "collection": collection.pk, "params": {"account": "ghost"}},
        format="json",
    )
    assert start.status_code == 400 and "account" in start.json()
    assert not Job.objects.filter(kind="analysis:authorship").exclude(status="succeeded").exists()


def test_scoring_a_post_for_a_large_account_starts_a_job_for_editors_only(client_for, analysis, monkeypatch):
    monkeypatch.setattr(authorship, "SYNC_SCORE_MAX_ROWS", 0)
    refused = client_for("carol").post(reverse("analysis-score", args=[analysis.pk]), {"text": "a pasted post"})
    assert refused.status_code == 400 and "editor role" in refused.content.decode()
    started = client_for("bob").post(reverse("analysis-score", args=[analysis.pk]), {"text": "a pasted post"})
    job = Job.objects.latest("id")
    assert started.status_code == 302 and started["Location"] == reverse("job-detail", args=[job.pk])
    assert (job.params["params"]["pasted"], job.params["params"]["curves"]) == (["a pasted post"], False)
