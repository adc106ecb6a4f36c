"""The behaviour kind (TIES): Bob imports the demo generator's town, labels its operation's accounts, and trains
TIES from the command line; the held-out accounts are told apart, the page shows the metrics, the PR curve and the
top accounts with links; bad parameters are refused field by field; a collection without interactions or with one
class fails with a sentence; Mallory gets 404."""
from __future__ import annotations

import html
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.models import Analysis
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Interaction, Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.analyses.town_data import TOWN, town_import

pytestmark = pytest.mark.django_db
SIMULATION = TOWN


@pytest.fixture
def town(investigation, users, tmp_path):
    return town_import(investigation, users["bob"], tmp_path, SIMULATION)


def run(investigation, collection, user, **params) -> Job:
    job = analysis_start(investigation=investigation, user=user, kind="behaviour", collection=collection,
                         params=params, enqueue=False)
    return job_execute(job_id=job.pk)


def test_the_command_trains_ties_and_tells_the_operation_apart(investigation, town, client_for):
    out = StringIO()
    call_command("run_analysis", "behaviour", "--investigation", investigation.name, "--collection", "town",
                 "--user", "bob", "--param", "label_key=role", "--param", "positive_values=operation",
                 "--param", "epochs=10", "--param", "embedding_dim=8", "--param", "graph_epochs=3", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded" and line["kind"] == "behaviour" and line["encoder"] == "cnn"
    assert line["test_auc"] > 0.8 and line["test_accounts"] >= 10
    analysis = Analysis.objects.get(pk=line["analysis"])
    result = analysis.result
    assert result["accounts_scored"] == line["accounts"] == len(result["table"]["account"])
    assert {"hashtag>hashtag", "repost>post", "post>post"} <= set(result["graph"]["relations"])
    top_ten = [a["label"] for a in result["top"][:10]]
    assert top_ten.count("operation") >= 8, top_ten
    assert result["top"][0]["score"] >= result["top"][-1]["score"]
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk]))
    text = html.unescape(page.content.decode())
    assert page.status_code == 200 and 'data-testid="chart-pr"' in text and '"collection-figures"' in text
    first = result["top"][0]
    assert f"?account={first['account']}" in text and f"@{first['handle']}" in text
    assert client_for("mallory").get(reverse("analysis-detail", args=[analysis.pk])).status_code == 404


@pytest.fixture
def small(investigation):
    """Six labelled accounts with posts but no times, so no interactions; one account with a label 'role'."""
    collection = Collection.objects.create(investigation=investigation, name="small", stats={"posts": 6})
    for i in range(6):
        account = Account.objects.create(collection=collection, platform_id=str(i), handle=f"a{i}",
                                         labels={"role": "operation" if i < 3 else "resident"})
        Post.objects.create(collection=collection, platform_id=f"p{i}", account=account, text=f"post {i}")
    return collection


@pytest.mark.parametrize(
    ("params", "field", "sentence"),
    [
        ({"label_key": "role", "positive_values": ["operation"], "encoder": "gru"}, "encoder",
         "encoder must be one of cnn, rnn, deepset; got 'gru'."),
        ({"label_key": "role", "positive_values": ["operation"], "epochs": 0}, "epochs",
         "epochs must be between 1 and 200; got 0."),
        ({"label_key": "role", "positive_values": ["operation"], "embedding_dim": 1}, "embedding_dim",
         "embedding_dim must be between 2 and 256; got 1."),
        ({"positive_values": ["operation"]}, "label_key", "Name the account label to learn"),
        ({"label_key": "colour", "positive_values": ["x"]}, "label_key",
         "No account of the collection “small” has the label 'colour'."),
        ({"label_key": "role", "positive_values": ["troll"]}, "positive_values", "'role' never takes the value(s)"),
        ({"label_key": "role", "positive_values": ["operation", "resident"]}, "positive_values",
         "Every account with 'role' would be positive, so there is one class only"),
        ({"label_key": "role", "positive_values": ["operation"], "seed": -1}, "seed", "seed must be between"),
    ],
)
def test_bad_parameters_are_refused_field_by_field(api_for, investigation, small, params, field, sentence):
    body = {"kind": "behaviour", "collection": small.pk, "params": params}
    answer = api_for("bob").post(reverse("api-analysis-start", args=[investigation.pk]), body, format="json")
    assert answer.status_code == 400 and answer.json()[field][0].startswith(sentence), answer.content
    assert not Job.objects.exists()


def test_no_interactions_or_one_class_fail_with_a_sentence(investigation, users, small):
    job = run(investigation, small, users["bob"], label_key="role", positive_values=["operation"])
    assert job.status == "failed" and job.error == "The collection “small” has no interactions with a time."
    accounts = list(Account.objects.filter(collection=small).order_by("id"))
    for i, account in enumerate(accounts):  # now they post (new rows: the store sees them), only 3 of each class
        Post.objects.create(collection=small, platform_id=f"t{i}", account=account, time="2024-03-01T10:00:00Z")
    job = run(investigation, small, users["bob"], label_key="role", positive_values=["operation"], epochs=1)
    assert job.status == "failed"
    assert job.error == ("No model: training needs at least 5 labelled accounts with interactions in each class; "
                         "got 3 positive and 3 negative.")
    assert not Interaction.objects.exists()  # the steps came from the posts themselves


def test_the_start_page_is_linked_from_the_collection_and_for_editors(small, client_for):
    start = reverse("behaviour-start", args=[small.pk])
    assert start in client_for("bob").get(reverse("collection-detail", args=[small.pk])).content.decode()
    page = client_for("bob").get(start)
    assert page.status_code == 200 and 'data-testid="behaviour-form"' in page.content.decode()
    assert client_for("carol").get(start).status_code == 403
    assert client_for("mallory").get(start).status_code == 404
