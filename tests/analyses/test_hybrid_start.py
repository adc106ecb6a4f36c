"""The hybrid's start page: Bob picks the collection's behaviour, score, network and authorship analyses from selects
(another collection's and another investigation's are not offered), the job starts with exactly those ids; with no
behaviour analysis the page says to run one first; Carol (viewer) cannot start, Mallory gets 404."""
from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from apps.analyses.models import Analysis
from apps.collections.models import Account, Collection
from apps.investigations.models import Investigation
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db


def stored(investigation, collection, kind, params=None, result=None) -> Analysis:
    job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded", params={})
    return Analysis.objects.create(investigation=investigation, job=job, kind=kind, collection=collection,
                                   params=params or {}, result=result or {}, summary={})


@pytest.fixture
def town(investigation):
    collection = Collection.objects.create(investigation=investigation, name="town", stats={"posts": 10})  # links shown
    accounts = [Account.objects.create(collection=collection, platform_id=str(i), handle=f"acct{i}",
                                       labels={"role": "operation" if i < 4 else "resident"}) for i in range(10)]
    ids = [a.pk for a in accounts]
    behaviour = {"table": {"account": ids, "score": [0.5] * 10, "split": ["train"] * 6 + ["val"] * 2 + ["test"] * 2}}
    return {
        "collection": collection,
        "old_behaviour": stored(investigation, collection, "behaviour", {"label_key": "role",
                                                                         "positive_values": ["operation"]}, behaviour),
        "behaviour": stored(investigation, collection, "behaviour", {"label_key": "role",
                                                                     "positive_values": ["operation"]}, behaviour),
        "score": stored(investigation, collection, "score"),
        "coaction": stored(investigation, collection, "coaction"),
        "authorship": stored(investigation, collection, "authorship", {"account_id": ids[0]}),
        "coordination_elsewhere": stored(investigation, Collection.objects.create(investigation=investigation,
                                                                                  name="elsewhere"), "coordination"),
        "theirs": stored(Investigation.objects.get(name="Mallory's own"), None, "behaviour"),
    }


def options(text: str, testid: str) -> list[str]:
    select = re.search(rf'<select[^>]*data-testid="{testid}"[^>]*>(.*?)</select>', text, re.S)
    assert select, f"no select {testid}"
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_it_offers_the_collections_own_analyses_newest_first(client_for, town):
    start = reverse("hybrid-start", args=[town["collection"].pk])
    page = client_for("bob").get(start)
    text = html.unescape(page.content.decode())
    assert page.status_code == 200 and 'data-testid="hybrid-form"' in text
    assert options(text, "hybrid-behaviour") == [str(town["behaviour"].pk), str(town["old_behaviour"].pk)]
    assert re.search(rf'<option value="{town["behaviour"].pk}" selected>#{town["behaviour"].pk} · .* · role ∈ '
                     r'operation</option>', text)
    assert options(text, "hybrid-score") == ["", str(town["score"].pk)]
    assert options(text, "hybrid-network") == ["", str(town["coaction"].pk)]  # not the other collection's network
    assert options(text, "hybrid-authorship") == ["all", str(town["authorship"].pk)]
    assert str(town["theirs"].pk) not in options(text, "hybrid-behaviour")
    assert 'data-testid="hybrid-needs-behaviour"' not in text
    detail = client_for("bob").get(reverse("collection-detail", args=[town["collection"].pk])).content.decode()
    assert f'href="{start}" data-testid="hybrid-link"' in detail


def test_it_starts_the_hybrid_with_the_picked_analyses(client_for, town):
    form = {"behaviour": town["old_behaviour"].pk, "score": town["score"].pk, "network": town["coaction"].pk,
            "authorship": ["all"], "label_key": "", "positive_values": "", "repeats": "2",
            "eval_encoders": ["deepset"], "evaluate": "on"}
    answer = client_for("bob").post(reverse("hybrid-start", args=[town["collection"].pk]), form)
    job = Job.objects.get(kind="analysis:hybrid")
    assert answer.status_code == 302 and answer.url == reverse("job-detail", args=[job.pk])
    params = job.params["params"]
    assert params["behaviour_id"] == town["old_behaviour"].pk and params["score_id"] == town["score"].pk
    assert params["network_id"] == town["coaction"].pk and params["authorship_ids"] == [town["authorship"].pk]
    assert params["evaluate"] is True and params["repeats"] == 2 and params["eval_encoders"] == ["deepset"]
    assert params["label_key"] == "role" and params["positive_values"] == ["operation"]  # the behaviour's


def test_another_investigations_analysis_posted_by_hand_is_refused(client_for, town):
    form = {"behaviour": town["theirs"].pk, "repeats": "5"}
    answer = client_for("bob").post(reverse("hybrid-start", args=[town["collection"].pk]), form)
    text = html.unescape(answer.content.decode())
    assert answer.status_code == 400
    assert f"No behaviour (TIES) analysis #{town['theirs'].pk} in this investigation" in text
    assert not Job.objects.filter(kind="analysis:hybrid").exists()


def test_without_a_behaviour_analysis_it_says_to_run_one(client_for, investigation):
    bare = Collection.objects.create(investigation=investigation, name="bare")
    start = reverse("hybrid-start", args=[bare.pk])
    text = html.unescape(client_for("bob").get(start).content.decode())
    assert 'data-testid="hybrid-needs-behaviour"' in text and reverse("behaviour-start", args=[bare.pk]) in text
    assert 'data-testid="hybrid-authorship"' not in text  # no authorship analysis: nothing to pick
    answer = client_for("bob").post(start, {"repeats": "5"})
    assert answer.status_code == 400
    assert "The collection “bare” has no behaviour (TIES) analysis yet. Run Behaviour (TIES) on it first." in (
        html.unescape(answer.content.decode()))


def test_a_viewer_cannot_start_and_a_stranger_finds_nothing(client_for, town):
    start = reverse("hybrid-start", args=[town["collection"].pk])
    assert client_for("carol").get(start).status_code == 403
    assert client_for("carol").post(start, {"behaviour": town["behaviour"].pk}).status_code == 403
    assert client_for("mallory").get(start).status_code == 404
    assert client_for("mallory").post(start, {"behaviour": town["behaviour"].pk}).status_code == 404
    assert not Job.objects.filter(kind="analysis:hybrid").exists()
