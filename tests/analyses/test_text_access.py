"""Who sees text models: Mallory (no member) gets 404 on every page and API, Carol (viewer) reads but
gets 403 on starts and deletes, Bob (editor) starts; the pages draw what the model holds."""
from __future__ import annotations

import pytest
from django.urls import reverse

from apps.analyses.models import Analysis, TextModel
from apps.analyses.services import analysis_start
from apps.collections.models import Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.analyses.text_data import store_labelled_collection, texts

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from ml.text import save_tiny_bert

    return str(save_tiny_bert(texts() * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2))


@pytest.fixture
def collection(investigation):
    return store_labelled_collection(investigation, accounts=6, posts=8)


@pytest.fixture
def model(investigation, users, collection, tiny_bert) -> TextModel:
    params = {
        "label_key": "account_category",
        "positive_values": "RightTroll,LeftTroll",
        "base_dir": tiny_bert,
        "epochs": 1,
    }
    job = analysis_start(
        investigation=investigation,
        user=users["bob"],
        kind="train_classifier",
        collection=collection,
        params=params,
        enqueue=False,
    )
    assert job_execute(job_id=job.pk).status == "succeeded"
    return TextModel.objects.get(job=job)


def pages(model, collection, post) -> list[str]:
    return [
        reverse("text-model-detail", args=[model.pk]),
        reverse("text-model-score", args=[model.pk]),
        reverse("text-model-attention", args=[model.pk]) + f"?post={post.pk}",
        reverse("text-model-post", args=[model.pk, post.pk]),
        reverse("text-model-post-bertviz", args=[model.pk, post.pk, "head"]),
        reverse("train-classifier-start", args=[collection.pk]),
    ]


def test_it_hides_every_text_model_route_from_mallory(client_for, api_for, model, collection):
    client, api, post = client_for("mallory"), api_for("mallory"), Post.objects.first()
    for url in pages(model, collection, post):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}).status_code == 404, url
    assert client.post(reverse("text-model-delete", args=[model.pk])).status_code == 404
    for url in (f"/api/models/{model.pk}/", f"/api/investigations/{model.investigation_id}/models/"):
        assert api.get(url).status_code == 404, url
    assert api.delete(f"/api/models/{model.pk}/").status_code == 404
    assert TextModel.objects.filter(pk=model.pk).exists()


def test_carol_reads_but_cannot_start_or_delete(client_for, api_for, model, collection):
    client, post = client_for("carol"), Post.objects.first()
    detail = client.get(reverse("text-model-detail", args=[model.pk]))
    assert detail.status_code == 200 and b'data-testid="score-link"' not in detail.content
    assert client.get(reverse("text-model-attention", args=[model.pk]) + f"?post={post.pk}").status_code == 302
    assert client.get(reverse("text-model-post", args=[model.pk, post.pk])).status_code == 200
    assert client.get(reverse("text-model-score", args=[model.pk])).status_code == 403
    assert client.post(reverse("text-model-score", args=[model.pk]), {"collection": collection.pk}).status_code == 403
    assert client.get(reverse("train-classifier-start", args=[collection.pk])).status_code == 403
    assert client.post(reverse("text-model-delete", args=[model.pk])).status_code == 403
    assert api_for("carol").delete(f"/api/models/{model.pk}/").status_code == 403
    assert api_for("carol").get(f"/api/models/{model.pk}/").json()["id"] == model.pk
    assert Job.objects.count() == 1 and TextModel.objects.count() == 1


def test_a_post_of_another_investigation_has_no_attention_here(client_for, model, investigation):
    from apps.investigations.models import Investigation

    theirs = store_labelled_collection(
        Investigation.objects.get(name="Mallory's own"), name="theirs", accounts=1, posts=1
    )
    post = Post.objects.filter(collection=theirs).first()
    client = client_for("alice")
    assert client.get(reverse("text-model-attention", args=[model.pk]) + f"?post={post.pk}").status_code == 404
    assert client.get(reverse("text-model-post", args=[model.pk, post.pk])).status_code == 404
    assert client.get(reverse("text-model-post-bertviz", args=[model.pk, post.pk, "head"])).status_code == 404


def test_the_pages_draw_the_model_its_attention_and_its_scores(client_for, model, collection, investigation):
    client = client_for("bob")
    detail = client.get(reverse("text-model-detail", args=[model.pk])).content.decode()
    for marker in ('data-testid="metrics-table"', "account-disjoint", '"roc"', '"pr"', '"confusion"', '"loss"'):
        assert marker in detail, marker
    assert (
        f'href="{reverse("text-model-detail", args=[model.pk])}"'
        in client.get(reverse("investigation-detail", args=[investigation.pk])).content.decode()
    )
    post = Post.objects.filter(collection=collection).first()
    picked = client.get(reverse("text-model-attention", args=[model.pk]) + f"?post={post.pk}")
    assert picked["Location"] == reverse("text-model-post", args=[model.pk, post.pk])
    attention = client.get(picked["Location"]).content.decode()
    assert (
        "Token-level attention is not an explanation" in attention
        and '"attention"' in attention
        and "head 1" in attention
    )
    response = client.post(reverse("text-model-score", args=[model.pk]), {"collection": collection.pk})
    job = Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job_execute(job_id=job.pk).status == "succeeded"
    page = client.get(reverse("analysis-detail", args=[Analysis.objects.get(job=job).pk])).content.decode()
    assert 'data-testid="account-ranking"' in page and '"account-scores"' in page and "@user" in page


def test_the_train_page_starts_a_job_and_shows_field_errors(client_for, collection, tiny_bert):
    client = client_for("bob")
    bad = client.post(
        reverse("train-classifier-start", args=[collection.pk]),
        {
            "label_source": "account_label",
            "label_key": "account_category",
            "positive_values": "Nope",
            "model": "encoder",
        },
    )
    assert bad.status_code == 400 and "never takes the value(s)" in bad.content.decode()
    good = client.post(
        reverse("train-classifier-start", args=[collection.pk]),
        {
            "label_source": "account_label",
            "label_key": "account_category",
            "positive_values": "RightTroll, LeftTroll",
            "model": "encoder",
            "base_dir": tiny_bert,
            "epochs": 1,
        },
    )
    assert good.status_code == 302 and Job.objects.get().params["params"]["positive_values"] == [
        "RightTroll",
        "LeftTroll",
    ]
