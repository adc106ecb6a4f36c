"""The embedding map kind: Bob maps a collection of football and cooking accounts from the command line and the
two topics land apart; the cap says what it left out; an account's point averages its posts; bad parameters are
refused field by field; the points API and the pages are for members only (Mallory gets 404)."""
from __future__ import annotations

import html
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from apps.analyses.models import Analysis, TextModel
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from ml.embedding import knn_accuracy
from tests.ml.test_embedding import topic_posts

pytestmark = pytest.mark.django_db
SIDES = ("sport", "food")


@pytest.fixture
def collection(investigation):
    """12 accounts (6 write about football, 6 about cooking), 5 posts each; a repost and an empty post, which are
    not mapped; a stand-in author of a text-only row, which is no account."""
    collection = Collection.objects.create(investigation=investigation, name="topics", stats={"posts": 63})
    texts, topics = topic_posts(60, seed=4)
    accounts = [
        Account.objects.create(collection=collection, platform_id=str(i), handle=f"{SIDES[i % 2]}{i}",
                               labels={"side": SIDES[i % 2]})
        for i in range(12)
    ]
    for i, (text, topic) in enumerate(zip(texts, topics)):
        account = accounts[2 * ((i // 2) % 6) + topic]
        Post.objects.create(collection=collection, platform_id=f"p{i}", account=account, text=text)
    Post.objects.create(collection=collection, platform_id="rt", account=accounts[0], text="RT x", kind="repost")
    Post.objects.create(collection=collection, platform_id="empty", account=accounts[1], text="")
    stand_in = Account.objects.create(collection=collection, platform_id="row:s", handle="row:s", placeholder=True)
    Post.objects.create(collection=collection, platform_id="s", account=stand_in, text="Whisk the eggs (stand-in)",
                        labels={"side": "food"})
    return collection


@pytest.fixture
def tiny_model(investigation, users, collection):
    """A text model of the investigation whose encoder is a one-layer BERT (the map reads its encoder only)."""
    from ml.text import save_tiny_bert

    model = TextModel.objects.create(investigation=investigation, name="tiny", kind="encoder", base_model="tiny",
                                     created_by=users["alice"])
    save_tiny_bert(Post.objects.values_list("text", flat=True), model.weights_dir, hidden=32, layers=1)
    return model


def run(investigation, collection, user, **params) -> Job:
    job = analysis_start(investigation=investigation, user=user, kind="embedding_map", collection=collection,
                         params=params, enqueue=False)
    return job_execute(job_id=job.pk)


def test_the_command_maps_two_topics_apart_and_says_what_the_cap_left_out(investigation, collection, client_for):
    out = StringIO()
    call_command("run_analysis", "embedding_map", "--investigation", investigation.name, "--collection", "topics",
                 "--user", "bob", "--param", "max_points=40", "--param", "colour_by=side", "--param", "perplexity=10",
                 stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded" and line["kind"] == "embedding_map"
    assert (line["points"], line["left_out"], line["posts_embedded"], line["labels"]) == (40, 21, 40, 2)
    analysis = Analysis.objects.get(pk=line["analysis"])
    points = analysis.result["points"]
    assert {p["label"] for p in points} == set(SIDES) and len({p["id"] for p in points}) == 40
    # each post's account and label: the account's, or (the stand-in's post) the post's own
    assert all(p["handle"].startswith(p["label"]) or p["handle"] == "row:s" == f"row:{p['label'] and 's'}"
               for p in points)
    assert knn_accuracy([(p["x"], p["y"]) for p in points], [p["label"] for p in points], k=5) >= 0.9
    assert analysis.job.provenance["model"]["encoder"] == "bundled MiniLM-L6"
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk]))
    text = html.unescape(page.content.decode())
    assert page.status_code == 200 and "21 of 61 posts were left out by the cap of 40" in text
    assert "embedding-map.js" in text and '"text": ["' in text  # hover snippets go to the page


def test_an_account_map_averages_each_accounts_posts(investigation, users, collection, tiny_model, client_for):
    own = Post.objects.filter(account__handle="sport0").order_by("id")
    for i, post in enumerate(own):  # the label on sport0's posts only: 3 angry, 2 calm
        Post.objects.filter(pk=post.pk).update(labels={"tone": "angry" if i < 3 else "calm"})
    Account.objects.filter(handle="food1").update(labels={"side": "food", "tone": "neutral"})
    job = run(investigation, collection, users["bob"], unit="account", source=str(tiny_model.pk), colour_by="tone")
    assert job.status == "succeeded", job.error
    result = job.analysis.result
    tones = {p["handle"]: p["label"] for p in result["points"]}
    assert (tones.pop("sport0"), tones.pop("food1"), set(tones.values())) == ("angry", "neutral", {""})
    assert result["source_name"] == "tiny" and result["unit"] == "account" and result["dimensions"] == 32
    assert sorted(p["handle"] for p in result["points"]) == sorted(f"{SIDES[i % 2]}{i}" for i in range(12))
    assert all(p["posts"] == 5 and p["id"] == p["account"] for p in result["points"])
    assert (result["left_out"], result["posts_embedded"], result["stand_ins_left_out"]) == (0, 60, 1)
    page = html.unescape(client_for("bob").get(reverse("analysis-detail", args=[job.analysis.pk])).content.decode())
    assert "1 stand-in authors of text-only posts were left out (they are no accounts)" in page


def test_a_collection_too_small_to_map_fails_with_a_sentence(investigation, users):
    small = Collection.objects.create(investigation=investigation, name="small")
    for i in range(3):
        account = Account.objects.create(collection=small, platform_id=str(i), handle=f"a{i}")
        Post.objects.create(collection=small, platform_id=str(i), account=account, text=f"post {i}")
    job = run(investigation, small, users["bob"], unit="account")
    assert job.status == "failed"
    assert job.error == "A map needs at least 5 points; the collection “small” has 3 accounts with posts."
    empty = Collection.objects.create(investigation=investigation, name="empty")
    assert run(investigation, empty, users["bob"]).error == "The collection “empty” has no posts with text to map."


@pytest.mark.parametrize(
    ("params", "field", "sentence"),
    [
        ({"perplexity": 1}, "perplexity", "perplexity must be in [2, 100]; got 1."),
        ({"unit": "hashtag"}, "unit", "unit must be one of post, account; got 'hashtag'."),
        ({"max_points": 0}, "max_points", "max_points must be between 5 and 100,000; got 0."),
        ({"source": "999999"}, "source", "source must be “bundled” or the id of a text model of this investigation"),
        ({"colour_by": "nope"}, "colour_by", "No post or account of the collection “topics” has the label 'nope'."),
        ({"colour_by": "a__b"}, "colour_by", "'a__b' is not a label name"),
    ],
)
def test_bad_parameters_are_refused_field_by_field(api_for, investigation, collection, params, field, sentence):
    body = {"kind": "embedding_map", "collection": collection.pk, "params": params}
    answer = api_for("bob").post(reverse("api-analysis-start", args=[investigation.pk]), body, format="json")
    assert answer.status_code == 400 and answer.json()[field][0].startswith(sentence), answer.content
    assert not Job.objects.exists()


def test_a_model_of_another_investigation_is_no_source(users, investigation, collection, client_for):
    from apps.investigations.models import Investigation

    theirs = TextModel.objects.create(investigation=Investigation.objects.get(name="Mallory's own"), name="m",
                                      kind="encoder", base_model="x")
    theirs.weights_dir.mkdir(parents=True)
    page = client_for("bob").post(reverse("embedding-map-start", args=[collection.pk]), {"source": str(theirs.pk)})
    assert page.status_code == 400 and "the id of a text model of this investigation" in html.unescape(
        page.content.decode())
    with pytest.raises(CommandError, match="source: source must be"):
        call_command("run_analysis", "embedding_map", "--investigation", investigation.name, "--collection", "topics",
                     "--user", "bob", "--param", f"source={theirs.pk}")
    assert not Job.objects.exists()


def test_the_points_api_is_for_members_only(investigation, collection, users, client, client_for, api_for):
    points = [{"id": 7, "account": 3, "handle": "sport1", "x": 0.5, "y": -1.25, "label": "sport"}]
    maps = Analysis.objects.create(
        investigation=investigation, kind="embedding_map", collection=collection, params={},
        job=Job.objects.create(investigation=investigation, kind="analysis:embedding_map", status="succeeded"),
        result={"unit": "post", "points": points, "left_out": 3, "colour_by": "side"})
    other = Analysis.objects.create(
        investigation=investigation, kind="coaction", collection=collection, params={}, result={},
        job=Job.objects.create(investigation=investigation, kind="analysis:coaction", status="succeeded"))
    url = reverse("api-analysis-points", args=[maps.pk])
    assert url == f"/api/analyses/{maps.pk}/points/"
    for name in ("alice", "carol"):
        answer = api_for(name).get(url)
        assert answer.status_code == 200
        assert answer.json() == {"unit": "post", "points": points, "left_out": 3, "colour_by": "side",
                                 "communities_from": None, "behaviour": None}
    assert api_for("mallory").get(url).status_code == 404
    assert api_for("carol").get(reverse("api-analysis-points", args=[other.pk])).status_code == 404
    assert client.get(url).status_code in (401, 403)
    assert client_for("mallory").get(reverse("analysis-detail", args=[maps.pk])).status_code == 404


def test_the_start_page_is_linked_from_the_collection_and_for_editors(collection, client_for, tiny_model):
    start = reverse("embedding-map-start", args=[collection.pk])
    bob = client_for("bob")
    assert start in bob.get(reverse("collection-detail", args=[collection.pk])).content.decode()
    page = bob.get(start).content.decode()
    assert 'name="perplexity"' in page and 'value="20000"' in page and f"{tiny_model.pk} (tiny," in page
    assert 'name="seed"' not in page
    assert client_for("carol").get(start).status_code == 403
    assert client_for("mallory").get(start).status_code == 404
