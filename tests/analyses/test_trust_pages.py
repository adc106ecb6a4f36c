"""Scores an analyst can trust (issue 16, items 1 and 2): a trained classifier keeps its training posts' range and
the baselines, the topic probe and the confound check beside its metrics; its page shows them side by side and
warns when a label is a collection whose vocabulary differs; scoring stores each post's distance to the training
posts, its shift probability (the collection's shift check: a classifier telling the collection from the training
posts) and the mark they make, the share marked, and shows the unreliable posts on the score page, the post page, the
CSV and the API; a collection that is mostly outside says so at the top; a model trained before any of it keeps working.

Personas: Bob trains "trolls" (border and election) against "gardens" (gardens and weather), then scores the
gardens again (like the training) and "pandemic" (vaccines and hospitals: a topic the model never met). Carol
(viewer) reads every page."""
from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.urls import reverse

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.services import analysis_start
from apps.collections.models import Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.analyses.text_data import CONTROL, PANDEMIC, TROLL, collection_of

# Embedded default only: these train models (CPU), and what they store is plain rows the PostgreSQL pass already
# covers (tests/analyses/test_post_scores.py, test_text_models.py): running them twice cost the suite about a minute.
pytestmark = pytest.mark.django_db



@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from ml.text import save_tiny_bert

    vocabulary = (TROLL + CONTROL + PANDEMIC) * 5
    return str(save_tiny_bert(vocabulary, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2))


def run(investigation, users, collection, kind, params) -> Analysis:
    job = analysis_start(investigation=investigation, user=users["bob"], kind=kind, collection=collection,
                         params=params, enqueue=False)
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return Analysis.objects.get(job=job)


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_model_trained_on_two_collections_warns_and_marks_posts_unlike_its_training(investigation, users,
                                                                                      tiny_bert, client_for, api_for):
    trolls = collection_of(investigation, "trolls", TROLL)
    gardens = collection_of(investigation, "gardens", CONTROL)
    pandemic = collection_of(investigation, "pandemic", PANDEMIC, accounts=5)  # 40 posts: enough for the shift check
    training = run(investigation, users, trolls, "train_classifier", {
        "label_source": "collections", "positive_collection": trolls.pk, "negative_collection": gardens.pk,
        "base_dir": tiny_bert, "epochs": 3, "learning_rate": 1e-3})
    model = TextModel.objects.get(job=training.job)

    # Beside the metrics: the training range, the three baselines on the same held-out posts, the confound check.
    m = model.metrics
    assert (model.weights_dir / "ood_knn.npz").is_file() and m["ood"]["posts"] == model.split["train"]["posts"]
    assert m["ood"]["method"] == "knn-minilm" and m["ood"]["reference"] == m["ood"]["posts"]
    assert m["ood"]["p95"] <= m["ood"]["p99"] and m["ood"]["range_from"].startswith("out of fold")
    base = m["baselines"]
    assert base["test_posts"] == m["n"] == base["topic_probe"]["n"] == base["tfidf_lr"]["n"]
    assert base["majority"]["auc"] == 0.5 and base["topic_probe"]["auc"] > 0.95  # the vocabularies differ
    assert set(base["topic_probe"]["words"]["1"]) <= set(" ".join(TROLL).split())
    fired = m["confounds"]["fired"]
    assert "collection" in fired and ("probe" in fired) == (m["auc"] - base["topic_probe"]["auc"] <= 0.02)
    assert training.summary["confound_warnings"] == fired
    assert training.summary["probe_auc"] == base["topic_probe"]["auc"]

    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk])).content.decode()
    assert 'data-testid="confound-warning"' in page and 'data-testid="confound-collection"' in page
    assert "Each class is one collection (“trolls” positive, “gardens” negative)" in page
    for key, figures in (("model", m), *base.items()):
        if key in ("majority", "tfidf_lr", "topic_probe", "model"):
            assert f'data-testid="baseline-{key}"><td>' in page
            assert f'<td class="num">{figures["auc"]:.3f}</td><td class="num">{figures["f1"]:.3f}</td>' in page
    assert f'<strong data-testid="ood-p99">{m["ood"]["p99"]:.2f}</strong>' in page

    # Scoring posts like the training: distances and shift probabilities stored, few marked, no banner.
    alike = run(investigation, users, gardens, "score", {"model": model.pk})
    stored = list(PostScore.objects.filter(analysis=alike).values_list("ood", "shift", "unreliable"))
    p99, check = alike.result["ood"]["p99"], alike.result["ood"]["shift_check"]
    assert p99 == m["ood"]["p99"] and check["available"] and check["auc"] < 0.8  # the training's own posts
    assert all(d is not None and p is not None for d, p, _ in stored)
    assert [u for _, _, u in stored] == [d > p99 or p > check["limit"] for d, p, _ in stored]
    assert alike.result["ood"]["share"] == pytest.approx(np.mean([u for _, _, u in stored]))
    assert alike.result["ood"]["share"] < 0.2 and alike.summary["unreliable_share"] == alike.result["ood"]["share"]
    page = client_for("carol").get(reverse("analysis-detail", args=[alike.pk])).content.decode()
    assert 'data-testid="ood-mostly-outside"' not in page and 'data-testid="ood-summary"' in page

    # Scoring a topic it never met: the shift check tells the collection apart, most posts marked, said at the top.
    off = run(investigation, users, pandemic, "score", {"model": model.pk})
    ood = off.result["ood"]
    rows = list(PostScore.objects.filter(analysis=off).values_list("post_id", "ood", "shift", "unreliable"))
    check = ood["shift_check"]
    assert check["available"] and check["auc"] > 0.9 and check["sample_posts"] == len({p.text for p in
                                                                                     pandemic.posts.all()})
    assert [u for *_, u in rows] == [d > ood["p99"] or p > check["limit"] for _, d, p, _ in rows]
    outside = [pk for pk, *_, u in rows if u]
    assert ood["mostly_outside"] and ood["share"] > 0.5 and ood["unreliable"] == len(outside)
    assert off.summary["unreliable_share"] == ood["share"] == len(outside) / len(rows)
    assert check["share"] == pytest.approx(np.mean([p > check["limit"] for _, _, p, _ in rows]))
    response = client_for("carol").get(reverse("analysis-detail", args=[off.pk]))
    page = response.content.decode()
    assert 'data-testid="ood-mostly-outside"' in page and page.index("ood-mostly-outside") < page.index("<h1>")
    shown = response.context["posts_page"].object_list
    assert page.count('data-testid="unreliable"') == sum(row.unreliable for row in shown) > 0
    assert 'data-testid="shift-summary"' in page and f"AUC <strong>{check['auc']:.3f}</strong>" in page
    assert "ood-distances" in response.context["figures"]

    csv_posts = csv_rows(client_for("carol").get(reverse("analysis-post-scores-csv", args=[off.pk])))
    assert {r["post_id"] for r in csv_posts if r["unreliable"] == "true"} == {str(pk) for pk in outside}
    by_post = {pk: (d, p) for pk, d, p, _ in rows}
    assert all((float(r["ood_distance"]), float(r["shift_probability"])) == by_post[int(r["post_id"])]
               for r in csv_posts)
    api = api_for("carol").get(reverse("api-analysis-post-scores", args=[off.pk]), {"limit": 100}).json()
    assert {r["post"] for r in api["results"] if r["unreliable"]} == set(outside)
    assert all((r["ood"], r["shift"]) == by_post[r["post"]] for r in api["results"])

    # The post page: the live distance and the stored scoring's mark.
    post = outside[0]
    page = client_for("carol").get(reverse("text-model-post", args=[model.pk, post])).content.decode()
    assert 'data-testid="unreliable"' in page and 'data-testid="stored-unreliable"' in page
    assert "beyond the training range" in page


def old_model(investigation, tiny_bert) -> TextModel:
    """A model as trained before the check existed: no ood.npz, a manifest and metrics without ood or baselines."""
    from ml.text import EncoderClassifier
    from ml.text.storage import MANIFEST

    row = TextModel.objects.create(
        investigation=investigation, name="old", kind="encoder", base_model=tiny_bert,
        params={"label_source": "account_label"},
        metrics={"n": 10, "positives": 5, "auc": 0.9, "f1": 0.8, "threshold": 0.5},
        split={"account_disjoint": True, "train": {"posts": 40, "positives": 20, "accounts": 8},
               "test": {"posts": 10, "positives": 5, "accounts": 2}},
    )
    classifier = EncoderClassifier(tiny_bert)
    classifier._build([])
    classifier.save(row.weights_dir)
    manifest = json.loads((row.weights_dir / MANIFEST).read_text())
    del manifest["calibration"], manifest["ood"]
    (row.weights_dir / MANIFEST).write_text(json.dumps(manifest))
    assert not (row.weights_dir / "ood.npz").exists() and not (row.weights_dir / "ood_knn.npz").exists()
    return row


def test_a_model_trained_before_the_checks_keeps_working_and_says_so(investigation, users, tiny_bert, client_for,
                                                                     api_for):
    model = old_model(investigation, tiny_bert)
    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "No out-of-distribution check: trained before it existed." in text
    assert 'data-testid="no-baselines"' in text and 'data-testid="confound-warning"' not in text

    gardens = collection_of(investigation, "gardens", CONTROL, accounts=3, posts=4)
    scored = run(investigation, users, gardens, "score", {"model": model.pk})
    assert scored.result["ood"]["available"] is False and scored.summary["unreliable_share"] is None
    assert set(PostScore.objects.filter(analysis=scored).values_list("ood", flat=True)) == {None}
    text = client_for("carol").get(reverse("analysis-detail", args=[scored.pk])).content.decode()
    assert "No out-of-distribution check: the model was trained before it existed." in text
    assert 'data-testid="unreliable"' not in text
    rows = csv_rows(client_for("carol").get(reverse("analysis-post-scores-csv", args=[scored.pk])))
    assert len(rows) == 12 and {(r["ood_distance"], r["unreliable"]) for r in rows} == {("", "")}
    api = api_for("carol").get(reverse("api-analysis-post-scores", args=[scored.pk])).json()
    assert {(r["ood"], r["unreliable"]) for r in api["results"]} == {(None, None)}
    post = Post.objects.filter(collection=gardens).first()
    text = client_for("carol").get(reverse("text-model-post", args=[model.pk, post.pk])).content.decode()
    assert "No out-of-distribution check: trained before it existed." in text

    # A score analysis stored before the check existed renders too.
    scored.result = {k: v for k, v in scored.result.items() if k != "ood"}
    scored.save(update_fields=["result"])
    text = client_for("carol").get(reverse("analysis-detail", args=[scored.pk])).content.decode()
    assert "No out-of-distribution check: this collection was scored before it existed." in text


def test_scores_stored_before_the_mark_get_the_mark_their_range_gave(investigation, users):
    """The migration that adds ``PostScore.unreliable`` marks the scores already stored as their pages marked them:
    beyond the analysis's training range; nothing for an analysis whose model measured no range."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("apps.analyses.migrations.0005_post_score_shift_unreliable")
    gardens = collection_of(investigation, "gardens", CONTROL, accounts=2, posts=3)
    posts = list(Post.objects.filter(collection=gardens).order_by("pk"))
    def stored(ood: dict) -> Analysis:
        job = Job.objects.create(investigation=investigation, kind="analysis:score", status="succeeded", params={})
        return Analysis.objects.create(investigation=investigation, job=job, collection=gardens, kind="score",
                                       result={"ood": ood})

    measured, unmeasured = stored({"available": True, "p99": 0.5}), stored({"available": False})
    distances = [0.1, 0.5, 0.7, None, 0.9, 0.2]
    PostScore.objects.bulk_create(
        [PostScore(analysis=measured, post_id=p.pk, account_id=p.account_id, score=0.5, ood=d)
         for p, d in zip(posts, distances)]
        + [PostScore(analysis=unmeasured, post_id=p.pk, account_id=p.account_id, score=0.5, ood=0.9) for p in posts])
    migration.mark_stored_scores(apps, None)
    marks = dict(PostScore.objects.filter(analysis=measured).values_list("post_id", "unreliable"))
    assert [marks[p.pk] for p in posts] == [False, False, True, None, True, False]
    assert set(PostScore.objects.filter(analysis=unmeasured).values_list("unreliable", flat=True)) == {None}
