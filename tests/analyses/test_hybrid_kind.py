"""The hybrid kind: Bob imports the demo generator's town, labels its operation, trains TIES, scores the posts (a
stored score analysis) and runs a co-action network; the hybrid stacks them from the command line, every stored
account's contributions add up to its logit, the page shows the metrics, coefficients, the evaluation's gap table
and sortable rows; another investigation's analyses are refused as absent; Mallory gets 404."""
from __future__ import annotations

import html
import json
import re
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.hybrid_selectors import hybrid_for_account
from apps.analyses.models import Analysis, PostScore
from apps.analyses.services import analysis_start
from apps.collections.models import Collection, Post
from apps.investigations.models import Investigation
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.analyses.town_data import TOWN, town_import

pytestmark = pytest.mark.django_db
SIMULATION = TOWN


@pytest.fixture
def town(investigation, users, tmp_path):
    return town_import(investigation, users["bob"], tmp_path, SIMULATION)


def run(investigation, collection, user, kind, **params) -> Job:
    job = analysis_start(investigation=investigation, user=user, kind=kind, collection=collection, params=params,
                         enqueue=False)
    return job_execute(job_id=job.pk)


def stored(investigation, collection, kind, result=None, params=None) -> Analysis:
    job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded", params={})
    return Analysis.objects.create(investigation=investigation, job=job, kind=kind, collection=collection,
                                   params=params or {}, result=result or {}, summary={})


def scored(investigation, collection) -> Analysis:
    """A stored score analysis, as a text model's scoring writes it: operation posts a little higher, with noise;
    every third account's posts unscored (its content signal is missing)."""
    analysis = stored(investigation, collection, "score", params={"model": 1})
    rng = np.random.default_rng(0)
    rows = []
    for post, account, labels in Post.objects.filter(collection=collection).values_list("id", "account_id",
                                                                                         "account__labels"):
        if account % 3 == 0 or not labels:
            continue
        mean = 0.6 if labels.get("role") == "operation" else 0.4
        rows.append(PostScore(analysis=analysis, post_id=post, account_id=account,
                              score=float(np.clip(rng.normal(mean, 0.2), 0, 1))))
    PostScore.objects.bulk_create(rows)
    return analysis


@pytest.fixture
def inputs(investigation, users, town):
    behaviour = run(investigation, town, users["bob"], "behaviour", label_key="role", positive_values=["operation"],
                    epochs=3, embedding_dim=8, graph_epochs=2)
    assert behaviour.status == "succeeded", behaviour.error
    coaction = run(investigation, town, users["bob"], "coaction")
    assert coaction.status == "succeeded", coaction.error
    return {"behaviour": behaviour.analysis, "coaction": coaction.analysis, "score": scored(investigation, town)}


def test_the_command_stacks_the_signals_and_the_page_says_why(investigation, town, inputs, client_for):
    out = StringIO()
    call_command("run_analysis", "hybrid", "--investigation", investigation.name, "--collection", "town",
                 "--user", "bob", "--param", f"score={inputs['score'].pk}", "--param", "network=latest",
                 "--param", "evaluate=true", "--param", "eval_encoders=deepset", stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded" and line["kind"] == "hybrid", line
    assert line["signals"] == ["ties", "content", "degree", "strength", "community_size"]
    analysis = Analysis.objects.get(pk=line["analysis"])
    result, table = analysis.result, analysis.result["table"]
    assert analysis.params["behaviour_id"] == inputs["behaviour"].pk and analysis.params["label_key"] == "role"
    assert result["accounts_scored"] == line["accounts"] == len(table["account"]) > 50
    for i in range(len(table["account"])):  # stored rounded to 4 places: 5 terms and the intercept
        total = result["intercept"] + sum(table["contributions"][s][i] for s in result["signals"])
        assert total == pytest.approx(table["logit"][i], abs=5e-4)
    assert result["missing"]["content"] > 0 and "content missing" in [c["feature"] for c in result["coefficients"]]
    splits = dict(zip(inputs["behaviour"].result["table"]["account"], inputs["behaviour"].result["table"]["split"]))
    renamed = {"train": "train1", "val": "train2", "test": "test", "": "unlabelled"}
    assert all(renamed[splits[a]] == s for a, s in zip(table["account"], table["split"]))
    evaluation = result["evaluation"]
    assert [r["model"] for r in evaluation["table"]] == ["content", "deepset", "hybrid_deepset"]
    assert len(evaluation["repeats"]) == 5 and set(line["evaluation"]) == {"content", "deepset", "hybrid_deepset"}

    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk]))
    text = html.unescape(page.content.decode())
    assert page.status_code == 200
    assert text.count('data-testid="coefficient-row"') == len(result["coefficients"]) == 6
    assert text.count('data-testid="gap-row"') == 3 and 'data-testid="chart-evaluation-pr"' in text
    assert f"{result['metrics']['test']['pr_auc']:.3f}" in text
    best = table["account"][0]
    shown = [int(a) for a in re.findall(r'\?account=(\d+)" data-testid="hybrid-account-link"', text)]
    assert shown == table["account"][:200]  # highest score first
    by_content = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk]), {"sort": "content"})
    shown = [int(a) for a in re.findall(r'\?account=(\d+)" data-testid="hybrid-account-link"',
                                        by_content.content.decode())]
    contributions = dict(zip(table["account"], table["contributions"]["content"]))
    assert [contributions[a] for a in shown] == sorted((contributions[a] for a in shown), reverse=True)
    assert client_for("mallory").get(reverse("analysis-detail", args=[analysis.pk])).status_code == 404

    row = hybrid_for_account(investigation, best)
    assert row["analysis"] == analysis.pk and row["probability"] == table["probability"][0]
    assert {s["signal"] for s in row["signals"]} == set(result["signals"])
    # Any row, read cell by cell, equals the stored table's (the last account's, values and contributions alike).
    last = len(table["account"]) - 1
    row = hybrid_for_account(investigation, table["account"][last])
    assert (row["probability"], row["logit"], row["split"], row["label"]) == tuple(
        table[c][last] for c in ("probability", "logit", "split", "label"))
    assert {s["signal"]: (s["value"], s["contribution"]) for s in row["signals"]} == {
        s: (table["values"][s][last], table["contributions"][s][last]) for s in result["signals"]}
    assert row["intercept"] == result["intercept"]
    assert hybrid_for_account(investigation, max(table["account"]) + 10_000) is None
    assert hybrid_for_account(Investigation.objects.get(name="Mallory's own"), best) is None


def refused(api, investigation, collection, params) -> dict:
    body = {"kind": "hybrid", "collection": collection.pk, "params": params}
    answer = api.post(reverse("api-analysis-start", args=[investigation.pk]), body, format="json")
    assert answer.status_code == 400, answer.content
    return {k: v[0] for k, v in answer.json().items()}


def test_another_investigations_analyses_are_refused_as_absent(api_for, investigation, town, users):
    theirs = Investigation.objects.get(name="Mallory's own")
    their_collection = Collection.objects.create(investigation=theirs, name="theirs")
    behaviour = stored(theirs, their_collection, "behaviour", {"table": {"account": [], "score": [], "split": []}},
                       {"label_key": "role", "positive_values": ["operation"]})
    score = stored(theirs, their_collection, "score")
    errors = refused(api_for("bob"), investigation, town,
                     {"behaviour": str(behaviour.pk), "score": str(score.pk), "label_key": "role",
                      "positive_values": ["operation"]})
    assert errors["behaviour"] == (f"No behaviour (TIES) analysis #{behaviour.pk} in this investigation (an id, or "
                                   "“latest”).")
    assert errors["score"] == f"No text model scores analysis #{score.pk} in this investigation (an id, or “latest”)."
    assert not Job.objects.filter(kind="analysis:hybrid").exists()


def test_missing_inputs_and_a_label_with_one_class_are_refused_with_a_sentence(api_for, investigation, town):
    errors = refused(api_for("bob"), investigation, town, {"score": "latest", "evaluate": True})
    assert errors["behaviour"] == ("The collection “town” has no behaviour (TIES) analysis yet. Run Behaviour (TIES) "
                                   "on it first.")
    assert errors["score"] == ("The collection “town” has no text model scores analysis yet. The investigation has no "
                               "text model: train one (Train classifier), then score the collection.")
    stored(investigation, town, "behaviour", {"table": {"account": [], "score": [], "split": []}},
           {"label_key": "role", "positive_values": ["operation"]})
    errors = refused(api_for("bob"), investigation, town, {"positive_values": ["operation", "resident"],
                                                           "evaluate": True})
    assert errors["positive_values"].startswith("Every account with 'role' would be positive, so there is one class")
    assert errors["score"].startswith("The evaluation compares each model with content alone")


def test_a_behaviour_run_without_accounts_fails_the_job_with_a_sentence(investigation, town, users):
    stored(investigation, town, "behaviour", {"table": {"account": [], "score": [], "split": []}},
           {"label_key": "role", "positive_values": ["operation"]})
    job = run(investigation, town, users["bob"], "hybrid")
    assert job.status == "failed" and job.error == "No account of the collection “town” has interactions."


def test_the_hybrid_page_is_hidden_from_non_members(investigation, town, client_for):
    analysis = stored(investigation, town, "hybrid")
    assert client_for("mallory").get(reverse("analysis-detail", args=[analysis.pk])).status_code == 404
