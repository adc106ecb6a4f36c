"""Every post a scoring reads keeps its score: the PostScore rows, what the score page, the CSV
and the API show of them, a post's page with its attention and bertviz views, and who may see them
(Mallory, no member: 404; Carol, viewer: reads)."""
from __future__ import annotations

import csv
import io
import random
import re
import shutil
import statistics
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from apps.analyses.kinds import score as score_kind
from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Post
from apps.investigations.models import Investigation
from apps.jobs.services import job_execute
from tests.analyses.text_data import CONTROL, TROLL, store_labelled_collection, texts

pytestmark = [pytest.mark.django_db, pytest.mark.services]

POSTS = 6 * 2 * 8  # 6 troll and 6 control accounts, 8 posts each


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> Path:
    """A tiny BERT classifier trained once for the module (the training job has its own tests in
    test_text_models); each test copies it into its own model's weights directory."""
    from apps.analyses.kinds.train_classifier import _classifier
    from ml.text import save_tiny_bert

    base = save_tiny_bert(texts() * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2)
    rng = random.Random(0)
    rows = [
        (f"{rng.choice(TROLL if a < 6 else CONTROL)} {rng.choice(TROLL if a < 6 else CONTROL)} {j}", int(a < 6), str(a))
        for a in range(12)
        for j in range(8)
    ]
    params = {
        "model": "encoder",
        "base_dir": str(base),
        "epochs": 2,
        "batch_size": 16,
        "learning_rate": 1e-3,
        "max_length": 64,
        "seed": 0,
    }
    classifier = _classifier(params).fit(*zip(*rows))
    return classifier.save(tmp_path_factory.mktemp("weights") / "classifier")


@pytest.fixture
def collection(investigation):
    return store_labelled_collection(investigation, accounts=6, posts=8)


@pytest.fixture
def model(investigation, users, weights) -> TextModel:
    model = TextModel.objects.create(
        investigation=investigation,
        name="tiny troll detector",
        kind="encoder",
        base_model="tiny BERT",
        params={"max_length": 64},
        created_by=users["bob"],
    )
    shutil.copytree(weights, model.weights_dir)
    return model


def score(investigation, users, collection, model, **params) -> Analysis:
    job = analysis_start(
        investigation=investigation,
        user=users["bob"],
        kind="score",
        collection=collection,
        params={"model": model.pk, **params},
        enqueue=False,
    )
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return Analysis.objects.get(job=job)


@pytest.fixture
def scored(investigation, users, collection, model) -> Analysis:
    return score(investigation, users, collection, model)


def test_every_scored_post_is_stored_with_its_account(scored, collection):
    rows = list(PostScore.objects.filter(analysis=scored).values_list("post_id", "account_id", "score"))
    posts = dict(Post.objects.filter(collection=collection).values_list("id", "account_id"))
    assert len(rows) == len(posts) == scored.result["posts"] == scored.summary["posts"] == POSTS
    assert {post: account for post, account, _ in rows} == posts
    assert all(0.0 <= s <= 1.0 for _, _, s in rows)
    assert scored.result["per_post_stored"] == "all"


def test_the_stored_scores_are_the_models_probabilities(scored, model):
    from ml.text import load_text_model

    picked = list(PostScore.objects.filter(analysis=scored).select_related("post").order_by("post_id")[::17])
    again = load_text_model(model.weights_dir).probabilities([row.post.text for row in picked])
    assert [row.score for row in picked] == pytest.approx(again.tolist(), abs=1e-6)
    # the scores separate the classes: the model learnt something, the rows are not placeholders
    troll = PostScore.objects.filter(analysis=scored, account__labels__account_category__in=["RightTroll", "LeftTroll"])
    control = PostScore.objects.filter(analysis=scored, account__labels__account_category="Commercial")
    assert statistics.mean(troll.values_list("score", flat=True)) > statistics.mean(
        control.values_list("score", flat=True)
    )


def test_the_account_aggregates_are_those_of_the_stored_rows(scored):
    for row in scored.result["accounts"]:
        own = list(
            PostScore.objects.filter(analysis=scored, account_id=row["account_id"]).values_list("score", flat=True)
        )
        assert (len(own), max(own)) == (row["posts"], pytest.approx(row["max"]))
        assert statistics.mean(own) == pytest.approx(row["mean"])
        assert sum(s >= scored.result["threshold"] for s in own) / len(own) == pytest.approx(row["share_above"])


def test_deleting_an_analysis_deletes_its_scores_only(investigation, users, collection, model, scored):
    other = score(investigation, users, collection, model, threshold=0.3)
    assert PostScore.objects.filter(analysis=other).count() == POSTS
    scored.delete()
    assert not PostScore.objects.filter(analysis_id=scored.pk).exists()
    assert PostScore.objects.filter(analysis=other).count() == POSTS


def test_a_failed_write_leaves_no_analysis_and_no_scores(investigation, users, collection, model, monkeypatch):
    monkeypatch.setattr(score_kind, "POST_SCORE_BATCH", 10)
    calls = []
    original = PostScore.objects.bulk_create

    def fail_third(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return original(objs, *args, **kwargs)

    monkeypatch.setattr(PostScore.objects, "bulk_create", fail_third)
    job = analysis_start(
        investigation=investigation,
        user=users["bob"],
        kind="score",
        collection=collection,
        params={"model": model.pk},
        enqueue=False,
    )
    assert job_execute(job_id=job.pk).status == "failed"
    assert calls == [10, 10, 10]
    assert not Analysis.objects.filter(kind="score").exists() and not PostScore.objects.exists()


def test_the_page_sorts_filters_and_pages_the_posts(client_for, scored):
    client, url = client_for("carol"), reverse("analysis-detail", args=[scored.pk])
    stored = PostScore.objects.filter(analysis=scored)
    high = client.get(url).context["posts_page"]
    assert (high.paginator.count, len(high.object_list)) == (POSTS, score_kind.POSTS_PER_PAGE)
    assert high.object_list[0].score == max(stored.values_list("score", flat=True))
    low = client.get(url, {"order": "low", "page": 2}).context["posts_page"]
    assert low.number == 2 and len(low.object_list) == POSTS - score_kind.POSTS_PER_PAGE
    assert low.object_list[len(low.object_list) - 1].score == max(stored.values_list("score", flat=True))
    account = Account.objects.get(handle="user0", collection=scored.collection)
    for query in (str(account.pk), "@user0"):
        page = client.get(url, {"account": query})
        rows = page.context["posts_page"].object_list
        assert len(rows) == 8 and {r.account_id for r in rows} == {account.pk}
        assert reverse("text-model-post", args=[scored.result["model"], rows[0].post_id]) in page.content.decode()
    missing = client.get(url, {"account": "@nobody"})
    assert "No account “@nobody”" in missing.content.decode() and not missing.context["posts_page"].object_list


def test_the_csv_has_every_post_highest_first(client_for, scored):
    response = client_for("carol").get(reverse("analysis-post-scores-csv", args=[scored.pk]))
    assert response.status_code == 200 and response["Content-Disposition"].endswith(f'post-scores-{scored.pk}.csv"')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    stored = dict(PostScore.objects.filter(analysis=scored).values_list("post_id", "score"))
    assert len(rows) == POSTS and {int(r["post_id"]): float(r["score"]) for r in rows} == stored
    assert [float(r["score"]) for r in rows] == sorted(stored.values(), reverse=True)
    assert rows[0]["account"].startswith("user") and rows[0]["text"]


def test_the_api_pages_through_the_scores(api_for, scored):
    api, url = api_for("carol"), f"/api/analyses/{scored.pk}/post-scores/"
    first = api.get(url, {"limit": 10}).json()
    assert first["count"] == POSTS and len(first["results"]) == 10 and first["next"]
    stored = sorted(PostScore.objects.filter(analysis=scored).values_list("score", flat=True))
    assert [r["score"] for r in first["results"]] == stored[::-1][:10]
    assert [r["score"] for r in api.get(url, {"order": "low", "limit": 5}).json()["results"]] == stored[:5]
    account = Account.objects.get(handle="user3", collection=scored.collection)
    own = api.get(url, {"account": account.pk}).json()
    assert own["count"] == 8 and {r["account_handle"] for r in own["results"]} == {"user3"}
    bad = api.get(url, {"order": "sideways", "account": "x"})
    assert (
        bad.status_code == 400
        and "order must be high or low" in str(bad.json())
        and "account='x' is not an id" in str(bad.json())
    )


def test_mallory_sees_no_scores_posts_or_views(client_for, api_for, scored, collection):
    client, post, model_id = (
        client_for("mallory"),
        Post.objects.filter(collection=collection).first(),
        scored.result["model"],
    )
    for url in (
        reverse("analysis-detail", args=[scored.pk]),
        reverse("analysis-post-scores-csv", args=[scored.pk]),
        reverse("text-model-post", args=[model_id, post.pk]),
        reverse("text-model-post-bertviz", args=[model_id, post.pk, "head"]),
        reverse("text-model-post-bertviz", args=[model_id, post.pk, "model"]),
    ):
        assert client.get(url).status_code == 404, url
    assert api_for("mallory").get(f"/api/analyses/{scored.pk}/post-scores/").status_code == 404


def test_a_post_of_another_investigation_is_not_shown_with_this_model(client_for, scored):
    theirs = store_labelled_collection(
        Investigation.objects.get(name="Mallory's own"), name="theirs", accounts=1, posts=1
    )
    post = Post.objects.filter(collection=theirs).first()
    client, model_id = client_for("alice"), scored.result["model"]
    assert client.get(reverse("text-model-post", args=[model_id, post.pk])).status_code == 404
    assert client.get(reverse("text-model-post-bertviz", args=[model_id, post.pk, "model"])).status_code == 404


def test_the_post_page_shows_its_score_attention_and_framed_views(client_for, scored, model):
    from ml.text import load_text_model

    stored = PostScore.objects.filter(analysis=scored).select_related("post").order_by("-score").first()
    response = client_for("carol").get(reverse("text-model-post", args=[model.pk, stored.post_id]))
    page = response.content.decode()
    assert response.context["score"] == pytest.approx(
        load_text_model(model.weights_dir).probabilities([stored.post.text])[0]
    )
    assert (
        f"{stored.score:.3f}" in page and reverse("analysis-detail", args=[scored.pk]) in page
    )  # the stored score, linked
    assert "Token-level attention is not an explanation" in page and 'data-testid="token-heatmap"' in page
    tokens = response.context["tokens"]
    assert tokens[0]["token"] == "[CLS]" and max(t["alpha"] for t in tokens) == 1.0
    for view in ("head", "model"):
        src = reverse("text-model-post-bertviz", args=[model.pk, stored.post_id, view])
        assert f'src="{src}" sandbox="allow-scripts"' in page
    detail = client_for("carol").get(reverse("text-model-detail", args=[model.pk])).content.decode()
    assert 'data-testid="model-scorings"' in detail and reverse("analysis-detail", args=[scored.pk]) in detail


def test_the_bertviz_views_load_only_local_scripts(client_for, scored, model):
    post = PostScore.objects.filter(analysis=scored).first().post_id
    for view in ("head", "model"):
        response = client_for("carol").get(reverse("text-model-post-bertviz", args=[model.pk, post, view]))
        html = response.content.decode()
        assert response.status_code == 200 and response["X-Frame-Options"] == "SAMEORIGIN"
        assert "default-src 'none'" in response["Content-Security-Policy"]
        assert '<script src="/static/vendor/requirejs/require.js">' in html
        assert "'/static/vendor/d3/d3.v5.min'" in html and "'/static/admin/js/vendor/jquery/jquery.min'" in html
        assert 'id="bertviz-' in html and "cdnjs" not in html
        # the only absolute address left is the credit in bertviz's source comment, never loaded
        assert {u.split("/")[2] for u in re.findall(r"https?://[^\s'\"]+", html)} <= {"github.com"}
    assert (
        client_for("carol").get(reverse("text-model-post-bertviz", args=[model.pk, post, "neuron"])).status_code == 404
    )
    # the three files are found where the settings point (installed packages), as the versions bertviz expects
    assert "RequireJS 2." in open(finders.find("vendor/requirejs/require.js")).read(400)
    assert "d3js.org v5" in open(finders.find("vendor/d3/d3.v5.min.js")).read(200)
    assert "jQuery v3" in open(finders.find("admin/js/vendor/jquery/jquery.min.js")).read(200)


def test_a_token_cannot_end_the_views_script():
    from ml.text import head_view_html

    tokens = ["[CLS]", "</script><script>alert(1)</script>", "<!--", "[SEP]"]
    uniform = [[[[0.25] * 4 for _ in tokens]]]  # one layer, one head
    html = head_view_html(
        {"tokens": tokens, "attention": uniform}, {"require": "/r.js", "d3": "/d3.js", "jquery": "/jq.js"}
    )
    assert html.count("</script>") == 2  # the require.js tag and bertviz's own script, nothing from the post
    assert "<\\/script><script>alert(1)<\\/script>" in html and "<\\!--" in html and "<!--" not in html
