"""Tokens per post (issue 16, item 4): the text classifier's max_length left blank is picked from the posts read for
training with the model's own tokenizer (64, or 128 where more than a tenth are longer), a number is read as given;
the choice and why are stored with the model, shown on its page, and the model scores at the length it trained at.

Bob trains on a collection whose posts are short, then on one where half the accounts write threads."""
from __future__ import annotations

import dataclasses
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.kinds.train_classifier import TrainClassifier
from apps.analyses.models import Analysis, PostScore, TextModel
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Post
from apps.jobs.services import job_execute
from tests.analyses.text_data import store_labelled_collection, texts

# Embedded default only: these train models (CPU), and what they store is plain rows the PostgreSQL pass already
# covers (tests/analyses/test_post_scores.py, test_text_models.py): running them twice cost the suite about a minute.
pytestmark = pytest.mark.django_db
# About 80 tokens of the tiny BERT's words: two posts that share it differ only past token 64.
PREFIX = " ".join(["build the wall patriots vote fraud election"] * 11)


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from ml.text import save_tiny_bert

    return str(save_tiny_bert(texts() * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2))


@pytest.fixture
def threads(investigation):
    """Half the accounts (every other one, trolls and control alike) write each post ten times over: about 90
    tokens of the tiny BERT's."""
    collection = store_labelled_collection(investigation, "threads")
    posts = [p for p in Post.objects.filter(collection=collection) if int(p.platform_id.split("-")[1]) % 2 == 0]
    for post in posts:
        post.text = " ".join([post.text] * 10)
    Post.objects.bulk_update(posts, ["text"])
    return collection


PARAMS = {"label_source": "account_label", "label_key": "account_category", "positive_values": "RightTroll,LeftTroll",
          "epochs": 1, "learning_rate": 1e-3}


def train(investigation, users, collection, tiny_bert, **extra) -> TextModel:
    job = analysis_start(investigation=investigation, user=users["bob"], kind="train_classifier",
                         collection=collection, params={**PARAMS, "base_dir": tiny_bert, **extra}, enqueue=False)
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return TextModel.objects.get(job=job)


def command(investigation, users, collection, tiny_bert, **extra) -> dict:
    """``manage.py run_analysis train_classifier --param ...``, as Alice types it; its last line."""
    users["alice"].is_superuser = True
    users["alice"].save()
    args = ["--investigation", investigation.name, "--collection", collection.name, "--user", "alice"]
    params = [f"--param={k}={v}" for k, v in {**PARAMS, "base_dir": tiny_bert, **extra}.items()]
    out = StringIO()
    call_command("run_analysis", "train_classifier", *args, *params, stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded", line
    return line


def page(client_for, model) -> str:
    return client_for("carol").get(reverse("text-model-detail", args=[model.pk])).content.decode()


def test_short_posts_train_at_64_and_the_page_says_why(investigation, users, tiny_bert, client_for):
    from ml.text import load_text_model

    model = train(investigation, users, store_labelled_collection(investigation), tiny_bert)
    analysis = Analysis.objects.get(job=model.job)
    reason = "auto: 0 % of the posts are longer than 64 tokens (128 from more than 10 %)"
    assert analysis.params["max_length"] is None  # what Bob asked for: auto
    assert analysis.result["max_length"] == {"max_length": 64, "auto": True, "posts": 192, "longer_share": 0.0,
                                             "beyond_long_share": 0.0, "share": 0.1, "reason": reason}
    assert analysis.summary["max_length"] == 64 and model.job.result["max_length"] == 64
    assert (model.params["max_length"], model.params["max_length_reason"]) == (64, reason)
    assert load_text_model(model.weights_dir).config.max_length == 64
    assert f"Tokens per post: 64 ({reason})." in page(client_for, model)


def test_threads_train_at_128_and_score_at_128(investigation, users, tiny_bert, threads, client_for):
    from ml.text import load_text_model

    line = command(investigation, users, threads, tiny_bert, max_length="")  # blank on the command line: auto
    model = TextModel.objects.get(pk=line["text_model_id"])
    reason = "auto: 50 % of the posts are longer than 64 tokens"
    assert line["max_length"] == 128
    choice = Analysis.objects.get(job=model.job).result["max_length"]
    assert (choice["max_length"], choice["longer_share"], choice["reason"]) == (128, 0.5, reason)
    assert model.params["max_length"] == 128 and f"Tokens per post: 128 ({reason})." in page(client_for, model)
    # Scoring reads the stored config: two posts that differ only past token 64 get different scores...
    probe = Collection.objects.create(investigation=investigation, name="probe")
    account = Account.objects.create(collection=probe, platform_id="p", handle="p")
    tails = [f"{PREFIX} maga border wall now", f"{PREFIX} my garden roses bloom"]
    Post.objects.bulk_create([Post(collection=probe, account=account, platform_id=f"p{i}", text=t,
                                   time="2016-10-01T00:00:00Z") for i, t in enumerate(tails)])
    job = job_execute(job_id=analysis_start(investigation=investigation, user=users["bob"], kind="score",
                                            collection=probe, params={"model": model.pk}, enqueue=False).pk)
    assert job.status == "succeeded", job.error
    scores = list(PostScore.objects.filter(analysis__job=job).order_by("post_id").values_list("score", flat=True))
    classifier = load_text_model(model.weights_dir)
    assert classifier.config.max_length == 128
    assert scores == pytest.approx(classifier.probabilities(tails).tolist(), abs=1e-6)
    assert abs(scores[0] - scores[1]) > 1e-6
    # ...which the same weights cut at 64 cannot tell apart.
    classifier.config = dataclasses.replace(classifier.config, max_length=64)
    at_64 = classifier.probabilities(tails)
    assert at_64[0] == pytest.approx(at_64[1], abs=1e-9)


def test_a_number_is_read_as_given(investigation, users, tiny_bert, threads):
    from ml.text import load_text_model

    line = command(investigation, users, threads, tiny_bert, max_length="32", max_posts=48)
    model = TextModel.objects.get(pk=line["text_model_id"])
    assert line["max_length"] == 32 and Analysis.objects.get(job=model.job).params["max_length"] == 32
    assert (model.params["max_length"], model.params["max_length_reason"]) == (32, "set by hand")
    assert load_text_model(model.weights_dir).config.max_length == 32


def test_a_number_past_the_models_positions_is_cut_to_them_and_says_so(investigation, users, tiny_bert, threads):
    """The tiny BERT has 128 positions: asked for 256, the model reads 128, and its stored choice says why."""
    from ml.text import load_text_model

    line = command(investigation, users, threads, tiny_bert, max_length="256", max_posts=48)
    model = TextModel.objects.get(pk=line["text_model_id"])
    assert line["max_length"] == 128 and Analysis.objects.get(job=model.job).params["max_length"] == 256
    assert model.params["max_length"] == 128
    assert model.params["max_length_reason"] == "set by hand; cut from 256 to the model's 128 positions"
    assert load_text_model(model.weights_dir).config.max_length == 128


def test_a_model_trained_before_the_choice_shows_its_64(investigation, client_for):
    model = TextModel.objects.create(investigation=investigation, name="old", kind="encoder", base_model="x",
                                     params={"max_length": 64, "label_source": "account_label"})
    assert "Tokens per post: 64." in page(client_for, model)


def test_the_form_help_states_the_rule_the_code_applies():
    from ml.text.lengths import LONG, LONG_SHARE, SHORT

    param = next(p for p in TrainClassifier.params if p.name == "max_length")
    assert param.default is None
    rule = f"{LONG} when more than {100 * LONG_SHARE:.0f} % of the posts read are longer than {SHORT} tokens"
    assert rule in param.help
