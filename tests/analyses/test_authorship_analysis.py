"""The authorship analysis end to end in-process: posts from the database, the job, the stored
analysis, its page, the API and the command. Green_thumb writes about their garden; three news
flashes were slipped into their stream, as the AP's account was hijacked (docs/methods.md §authorship)."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.models import Analysis
from apps.analyses.selectors import authorship_posts
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.support.authorship import INJECTED, TARGET, authorship_rows, store_authorship_collection

pytestmark = [pytest.mark.django_db, pytest.mark.services]
FAST = {"cv_folds": 3}


@pytest.fixture
def collection(investigation):
    collection = Collection.objects.create(investigation=investigation, name="garden-and-news")
    store_authorship_collection(collection, authorship_rows())
    return collection


def run(investigation, user, collection, **params) -> Job:
    job = analysis_start(investigation=investigation, user=user, kind="authorship", collection=collection,
                         params={**FAST, **params}, enqueue=False)
    return job_execute(job_id=job.pk)


@pytest.fixture
def finished(investigation, users, collection) -> Job:
    return run(investigation, users["bob"], collection, account=TARGET)


def test_the_injected_posts_rank_least_like_the_account(finished):
    assert finished.status == "succeeded", finished.error
    analysis = Analysis.objects.get(job=finished)
    least_like = [p["text"] for p in analysis.result["posts"][: len(INJECTED)]]
    assert sorted(least_like) == sorted(INJECTED)
    assert analysis.result["own_posts"] == 83  # 80 + 3 injected; the retweet is left out
    assert analysis.result["dropped_retweets_and_repeats"] == 1


def test_it_stores_one_complete_analysis_with_a_summary(finished, investigation, collection):
    analysis = Analysis.objects.get(job=finished)
    assert (analysis.investigation, analysis.collection, analysis.kind) == (investigation, collection, "authorship")
    assert set(analysis.result["methods"]) == {"words", "chars"}
    assert all(m["learning_curve"]["sizes"] for m in analysis.result["methods"].values())
    assert analysis.summary["chosen"] == analysis.result["chosen"]
    assert analysis.summary["account"] == TARGET
    assert finished.result["analysis_id"] == analysis.pk
    assert finished.provenance["inputs"][0]["account_posts"] == 84
    assert finished.provenance["inputs"][0]["collection"] == collection.pk


def test_an_account_with_too_few_posts_fails_with_a_clear_message(investigation, users, collection):
    few = Account.objects.create(collection=collection, platform_id="77", handle="newbie")
    Post.objects.bulk_create([Post(collection=collection, platform_id=f"n{i}", account=few, text=f"hello number {i}",
                                   time="2016-05-01T00:00:00Z") for i in range(12)])
    job = run(investigation, users["bob"], collection, account="@newbie")
    assert job.status == "failed"
    assert job.error == ("Account @newbie has 12 posts of its own (after dropping retweets and repeats); "
                         "authorship needs at least 50 to train and test")
    assert not Analysis.objects.exists()


def test_an_unknown_account_is_refused_before_any_job_is_queued(investigation, users, collection):
    with pytest.raises(ValidationError) as caught:
        analysis_start(investigation=investigation, user=users["bob"], kind="authorship", collection=collection,
                       params={"account": "nobody_here"})
    assert "No account 'nobody_here'" in caught.value.message_dict["account"][0]
    assert not Job.objects.exists()


def test_parameters_out_of_range_are_refused_by_name(investigation, users, collection):
    with pytest.raises(ValidationError) as caught:
        analysis_start(investigation=investigation, user=users["bob"], kind="authorship", collection=collection,
                       params={"account": TARGET, "limit": 5000, "colour": "red"})
    assert set(caught.value.message_dict) == {"limit", "params"}


def test_it_reads_a_bounded_deterministic_sample_of_other_accounts(collection):
    target = Account.objects.get(collection=collection, handle=TARGET)
    first = authorship_posts(collection=collection, account=target, negatives=50)
    again = authorship_posts(collection=collection, account=target, negatives=50)
    others = [a for a in first["account"] if a != TARGET]
    assert first == again
    assert 40 <= len(others) <= 50 and first["account"].count(TARGET) == 84  # every k-th id: about, never over, 50
    assert len(set(others)) == 4  # spread over every other account, not the first imported


def test_the_command_prints_one_json_line(investigation, users, collection):
    out = StringIO()
    call_command("run_analysis", "authorship", "--investigation", investigation.name, "--collection", collection.name,
                 "--account", TARGET, "--param", "cv_folds=3", "--param", "curves=0", "--user", "alice", stdout=out)
    lines = out.getvalue().strip().splitlines()
    summary = json.loads(lines[-1])
    assert len(lines) == 1
    assert (summary["command"], summary["kind"], summary["status"], summary["account"]) == (
        "run_analysis",
        "authorship",
        "succeeded",
        TARGET,
    )
    assert summary["analysis"] == Analysis.objects.get().pk and summary["seconds"] > 0


def test_the_command_exits_1_when_the_analysis_fails(investigation, users, collection):
    Account.objects.create(collection=collection, platform_id="78", handle="silent")
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command(
            "run_analysis",
            "authorship",
            "--investigation",
            investigation.name,
            "--collection",
            collection.name,
            "--account",
            "silent",
            "--user",
            "alice",
            stdout=out,
        )
    assert exited.value.code == 1
    assert json.loads(out.getvalue())["status"] == "failed"


def test_the_page_shows_curves_methods_and_ranked_posts(finished, client_for):
    analysis = Analysis.objects.get(job=finished)
    page = client_for("carol").get(reverse("analysis-detail", args=[analysis.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="chart-learning-curve"' in html and 'data-testid="chosen-method"' in html
    assert html.index("Two explosions in the White House") < html.index("happy with the garden")  # least-like first
    assert len(page.context["figures"]["learning-curve"]["data"]) == 4  # training and CV for each method


def test_a_pasted_post_is_scored_in_the_request_for_a_small_account(finished, client_for):
    analysis = Analysis.objects.get(job=finished)
    scored = {}
    for text in (
        "UPDATE: officials confirm a fire in Boston, several people injured #breaking",
        "the basil and the lavender look lovely, so happy with the greenhouse",
    ):
        page = client_for("carol").post(reverse("analysis-score", args=[analysis.pk]), {"text": text})
        assert page.status_code == 200
        [scored[text]] = page.context["scores"]
    news, garden = scored.values()
    assert news["probability"] < 0.5 < garden["probability"]
    assert news["stems_against"] and garden["stems_for"]
    assert Job.objects.count() == 1  # nothing new started


def test_the_job_page_links_to_the_analysis(finished, client_for):
    page = client_for("carol").get(reverse("job-detail", args=[finished.pk]))
    assert reverse("analysis-detail", args=[finished.result["analysis_id"]]) in page.content.decode()


def test_the_investigation_page_lists_its_analyses(finished, client_for, investigation):
    html = client_for("carol").get(reverse("investigation-detail", args=[investigation.pk])).content.decode()
    assert f"Authorship of @{TARGET}" in html


def test_the_api_lists_and_details_analyses(finished, api_for, investigation):
    api = api_for("carol")
    listed = api.get(f"/api/investigations/{investigation.pk}/analyses/").json()
    assert [a["summary"]["account"] for a in listed["results"]] == [TARGET]
    detail = api.get(f"/api/analyses/{listed['results'][0]['id']}/").json()
    assert detail["result"]["chosen"] in ("words", "chars") and len(detail["result"]["posts"]) == 83
