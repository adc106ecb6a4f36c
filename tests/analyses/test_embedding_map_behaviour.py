"""The embedding map of behaviour: Bob trains TIES on a small town (ten operators who post at night, ten residents
by day), then maps its accounts by their TIES or graph embeddings, coloured by the communities of a stored
coordination network: one point per account with embeddings, each in its community (grey when in none), the
selection opening in the workspace. Another investigation's analyses, another collection's, and a behaviour
analysis that kept no embeddings are refused with a sentence; Mallory gets 404 from the points API."""
from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta, timezone
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from apps.analyses import map_selectors
from apps.analyses.kinds.embedding_map import WORKSPACE_IDS_MAX
from apps.analyses.models import Analysis
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Entity, Interaction, Post
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from apps.workspace.selectors import IDS_MAX

pytestmark = pytest.mark.django_db
START = datetime(2024, 3, 1, tzinfo=timezone.utc)
# Hand-stored coordination communities: operators 0-5 in community 0, 6-9 in community 1, residents 0-3 in
# community 2, every other account in none (not a node, or a node without a community).
COMMUNITY_OF = {**{f"op{i}": 0 for i in range(6)}, **{f"op{i}": 1 for i in range(6, 10)},
                **{f"res{i}": 2 for i in range(4)}}


@pytest.fixture
def town(investigation):
    """20 accounts with timed posts (operators at 02:00 on a shared hashtag, residents at 14:00), labelled
    role=operation|resident; two accounts without a timed post (no interactions, so no embedding)."""
    collection = Collection.objects.create(investigation=investigation, name="town", stats={"posts": 84})
    for side, hour, n in (("op", 2, 10), ("res", 14, 10)):
        for i in range(n):
            account = Account.objects.create(collection=collection, platform_id=f"{side}{i}", handle=f"{side}{i}",
                                             labels={"role": "operation" if side == "op" else "resident"})
            for day in range(4):
                Post.objects.create(collection=collection, platform_id=f"{side}{i}-{day}", account=account,
                                    text=f"{side} post {day}", time=START + timedelta(days=day, hours=hour, minutes=i))
    for i in range(2):
        quiet = Account.objects.create(collection=collection, platform_id=f"quiet{i}", handle=f"quiet{i}")
        Post.objects.create(collection=collection, platform_id=f"quiet{i}", account=quiet, text="no time")
    return collection


def start(investigation, collection, user, kind, **params) -> Job:
    job = analysis_start(investigation=investigation, user=user, kind=kind, collection=collection, params=params,
                         enqueue=False)
    return job_execute(job_id=job.pk)


def behaviour_of(investigation, collection, user) -> Analysis:
    job = start(investigation, collection, user, "behaviour", label_key="role", positive_values=["operation"],
                epochs=1, graph_epochs=1, embedding_dim=4)
    assert job.status == "succeeded", job.error
    return job.analysis


def stored(investigation, collection, kind, result=None, user=None) -> Analysis:
    """An analysis row as its job would have written it (the network's own computation is tested elsewhere)."""
    job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded")
    return Analysis.objects.create(investigation=investigation, job=job, kind=kind, collection=collection, params={},
                                   result=result or {}, created_by=user)


def coordination_of(investigation, collection) -> Analysis:
    accounts = dict(Account.objects.filter(collection=collection).values_list("handle", "id"))
    nodes = [{"id": accounts[h], "handle": h, "community": c} for h, c in COMMUNITY_OF.items()]
    nodes.append({"id": accounts["res9"], "handle": "res9", "community": -1})  # a node in no community
    return stored(investigation, collection, "coordination", {"nodes": nodes, "edges": []})


def test_a_behaviour_map_has_one_point_per_embedded_account_in_its_community(investigation, users, town, client_for,
                                                                            api_for):
    behaviour = behaviour_of(investigation, town, users["bob"])
    embedded = behaviour.result["embeddings"]
    assert embedded["ties"]["shape"] == [20, 64] and embedded["graph"]["shape"] == [20, 4]
    network = coordination_of(investigation, town)
    out = StringIO()
    call_command("run_analysis", "embedding_map", "--investigation", investigation.name, "--collection", "town",
                 "--user", "bob", "--param", "unit=account", "--param", "behaviour=latest", "--param", "vectors=graph",
                 "--param", f"communities={network.pk}", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded", line
    assert (line["points"], line["left_out"], line["behaviour"], line["vectors"], line["communities_from"]) == (
        20, 0, behaviour.pk, "graph", network.pk)
    analysis = Analysis.objects.get(pk=line["analysis"])
    result = analysis.result
    handles = {p["handle"]: p for p in result["points"]}
    assert sorted(handles) == sorted([f"op{i}" for i in range(10)] + [f"res{i}" for i in range(10)])  # no quiet ones
    expected = {h: f"community {COMMUNITY_OF[h]}" if h in COMMUNITY_OF else "" for h in handles}
    assert {h: p["label"] for h, p in handles.items()} == expected
    assert all(p["posts"] == 4 and p["id"] == p["account"] for p in result["points"])
    assert result["dimensions"] == 4 and result["posts_embedded"] == 0
    assert result["communities_from"] == {"id": network.pk, "kind": "coordination", "title": "Coordination"}

    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk]))
    text = html.unescape(page.content.decode())
    assert page.status_code == 200 and f"graph embeddings of behaviour analysis #{behaviour.pk}" in text
    data = json.loads(re.search(r'id="embedding-map-data"[^>]*>(.*?)</script>', text, re.S).group(1))
    assert data["none_label"] == "(no community)" and data["collection"] == town.pk
    assert data["workspace_url"] == reverse("workspace", args=[investigation.pk]) and data["ids_max"] == IDS_MAX
    assert 'data-testid="map-selection-workspace"' in text and "(no community)" in text

    points = reverse("api-analysis-points", args=[analysis.pk])
    answer = api_for("carol").get(points).json()
    assert (answer["behaviour"], answer["communities_from"], len(answer["points"])) == (behaviour.pk, network.pk, 20)
    assert api_for("mallory").get(points).status_code == 404


def test_the_ties_vectors_map_too_and_a_label_colours_them(investigation, users, town):
    behaviour = behaviour_of(investigation, town, users["bob"])
    job = start(investigation, town, users["bob"], "embedding_map", unit="account", behaviour=str(behaviour.pk),
                colour_by="role", max_points=12, perplexity=3)
    assert job.status == "succeeded", job.error
    result = job.analysis.result
    assert (len(result["points"]), result["left_out"], result["candidates"], result["dimensions"]) == (12, 8, 20, 64)
    assert all(p["label"] == ("operation" if p["handle"].startswith("op") else "resident") for p in result["points"])
    assert result["behaviour"] == {"id": behaviour.pk, "vectors": "ties"} and result["communities_from"] is None


def test_a_hashtag_network_colours_each_account_by_the_community_of_most_of_its_hashtags(investigation, town):
    accounts = dict(Account.objects.filter(collection=town).values_list("handle", "id"))
    tags = {v: Entity.objects.create(collection=town, kind=Entity.Kind.HASHTAG, value=v) for v in ("a", "b", "c")}
    uses = {"op0": "aab", "op1": "bbc", "res0": "cc", "res1": "ab"}  # res1: a tie between communities 0 and 1
    for handle, used in uses.items():
        post = Post.objects.filter(account_id=accounts[handle]).first()
        for value in used:
            Interaction.objects.create(collection=town, post=post, source_account_id=accounts[handle],
                                       action="hashtag", target_entity=tags[value], time=START)
    nodes = [{"id": "a", "community": 0}, {"id": "b", "community": 1}, {"id": "c", "community": -1}]
    network = stored(investigation, town, "hashtag_network", {"nodes": nodes, "edges": []})
    found = map_selectors.account_communities(analysis=network, account_ids=set(accounts.values()))
    assert found == {accounts["op0"]: 0, accounts["op1"]: 1, accounts["res1"]: 0}


def test_analyses_of_another_investigation_or_collection_are_refused(investigation, users, town, api_for):
    theirs = Investigation.objects.get(name="Mallory's own")
    their_town = Collection.objects.create(investigation=theirs, name="town")
    their_behaviour = stored(theirs, their_town, "behaviour", {"embeddings": {"ties": {"shape": [1, 1]}}})
    their_network = stored(theirs, their_town, "coordination", {"nodes": []})
    elsewhere = Collection.objects.create(investigation=investigation, name="elsewhere")
    other_network = stored(investigation, elsewhere, "coaction", {"nodes": []})
    old = stored(investigation, town, "behaviour", {"table": {}})  # ran before embeddings were kept
    url = reverse("api-analysis-start", args=[investigation.pk])
    cases = [
        ({"unit": "account", "behaviour": str(their_behaviour.pk)}, "behaviour",
         f"No behaviour (TIES) analysis #{their_behaviour.pk} in this investigation"),
        ({"communities": str(their_network.pk)}, "communities",
         f"No coordination, co-action, retweet network or hashtag network analysis #{their_network.pk} in this "
         "investigation"),
        ({"communities": str(other_network.pk)}, "communities",
         f"Co-action analysis #{other_network.pk} is of “elsewhere”, not of “town”."),
        ({"unit": "account", "behaviour": str(old.pk)}, "behaviour",
         f"Behaviour analysis #{old.pk} stored no TIES embeddings (it ran before behaviour analyses kept them)"),
        ({"behaviour": str(old.pk)}, "unit", "A behaviour analysis embeds accounts: set unit to account."),
        ({"communities": "latest"}, "communities", "The collection “town” has no coordination, co-action"),
    ]
    for params, field, sentence in cases:
        body = {"kind": "embedding_map", "collection": town.pk, "params": params}
        answer = api_for("bob").post(url, body, format="json")
        assert answer.status_code == 400 and answer.json()[field][0].startswith(sentence), answer.content
    network = coordination_of(investigation, town)
    body = {"kind": "embedding_map", "collection": town.pk,
            "params": {"colour_by": "role", "communities": str(network.pk)}}
    answer = api_for("bob").post(url, body, format="json")
    assert answer.json()["communities"] == ["Colour by a label (colour_by) or by communities, not both."]
    with pytest.raises(CommandError, match=f"behaviour: No behaviour \\(TIES\\) analysis #{their_behaviour.pk}"):
        call_command("run_analysis", "embedding_map", "--investigation", investigation.name, "--collection", "town",
                     "--user", "bob", "--param", "unit=account", "--param", f"behaviour={their_behaviour.pk}")
    assert not Job.objects.filter(kind="analysis:embedding_map").exists()


def test_the_workspace_takes_as_many_accounts_as_the_map_links():
    assert WORKSPACE_IDS_MAX == IDS_MAX
