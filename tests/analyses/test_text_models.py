"""Text classifiers end to end in-process: labelled posts from the database, the training job,
the TextModel row and its weights, scoring a collection, the command, and what is refused before a job."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.analyses.models import Analysis, TextModel
from apps.analyses.services import analysis_start, text_model_delete
from apps.collections.models import Collection, Post
from apps.investigations.models import Investigation
from apps.jobs.services import job_execute
from tests.analyses.text_data import store_labelled_collection, texts

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from ml.text import save_tiny_bert

    return str(save_tiny_bert(texts() * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2))


@pytest.fixture
def collection(investigation):
    return store_labelled_collection(investigation)


def train_params(tiny_bert, **extra) -> dict:
    return {"label_source": "account_label", "label_key": "account_category", "positive_values": "RightTroll,LeftTroll",
            "base_dir": tiny_bert, "epochs": 3, "learning_rate": 1e-3, "batch_size": 16, **extra}


def start(investigation, users, collection, kind, params):
    job = analysis_start(
        investigation=investigation, user=users["bob"], kind=kind, collection=collection, params=params, enqueue=False
    )
    return job_execute(job_id=job.pk)


@pytest.fixture
def trained(investigation, users, collection, tiny_bert) -> TextModel:
    job = start(investigation, users, collection, "train_classifier", train_params(tiny_bert))
    assert job.status == "succeeded", job.error
    return TextModel.objects.get(job=job)


def test_training_stores_a_model_whose_metrics_are_its_own_test_scores(trained, collection):
    from ml.text import classification_metrics, load_text_model

    analysis = Analysis.objects.get(job=trained.job)
    test = analysis.result["test"]
    metrics = dict(trained.metrics)
    int8 = metrics.pop("int8")
    metrics.pop("calibration")  # T and the threshold chosen on validation: tests/analyses/test_calibration_pages.py
    [metrics.pop(k) for k in ("ood", "baselines", "confounds")]  # tests/analyses/test_trust_pages.py
    assert metrics == classification_metrics(test["labels"], test["scores"], trained.metrics["threshold"])
    # The int8 mode's cost, measured on the same held-out posts: its fp32 AUC is the model's own.
    assert int8["posts"] == len(test["post_id"]) and int8["auc_fp32"] == pytest.approx(metrics["auc"], abs=1e-6)
    assert (
        int8["auc_change"] == pytest.approx(int8["auc_int8"] - int8["auc_fp32"])
        and 0 <= int8["changed_predictions"] <= 1
    )
    # The weights on disk give the same scores on the same held-out posts.
    texts_ = dict(Post.objects.filter(pk__in=test["post_id"]).values_list("id", "text"))
    again = load_text_model(trained.weights_dir).probabilities([texts_[pk] for pk in test["post_id"]])
    assert again.tolist() == pytest.approx(test["scores"], abs=1e-5)
    assert trained.metrics["auc"] > 0.9
    assert trained.split["account_disjoint"] is True
    assert trained.training == [
        {
            "id": collection.pk,
            "name": collection.name,
            "posts": 192,
            "max_post_id": Post.objects.filter(collection=collection).order_by("-id").first().pk,
        }
    ]
    assert (trained.kind, trained.base_model, trained.investigation_id) == (
        "encoder",
        trained.params["base_dir"],
        collection.investigation_id,
    )
    assert analysis.summary["text_model_id"] == trained.pk and trained.job.result["text_model_id"] == trained.pk
    assert trained.history["train"]


def test_the_split_keeps_every_account_on_one_side(trained):
    split = trained.split
    assert split["train"]["accounts"] + split["val"]["accounts"] + split["test"]["accounts"] == 16


def test_deleting_a_model_deletes_its_weights(trained, django_capture_on_commit_callbacks):
    path = trained.weights_dir
    assert (path / "config.json").is_file()
    with django_capture_on_commit_callbacks(execute=True):
        text_model_delete(trained)
    assert not path.exists() and not TextModel.objects.filter(pk=trained.pk).exists()


def test_deleting_an_investigation_deletes_its_models_weights_once_committed(users, django_capture_on_commit_callbacks):
    from apps.investigations.services import investigation_create, investigation_delete

    doomed = investigation_create(user=users["alice"], name="doomed")
    model = TextModel.objects.create(investigation=doomed, name="m", kind="encoder", base_model="x")
    model.weights_dir.mkdir(parents=True)
    (model.weights_dir / "config.json").write_text("{}")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        investigation_delete(investigation=doomed)
    assert model.weights_dir.is_dir()  # not before the delete commits
    for callback in callbacks:
        callback()
    assert not model.weights_dir.exists() and not TextModel.objects.filter(pk=model.pk).exists()


def test_scoring_ranks_the_troll_accounts_first(trained, investigation, users, collection):
    job = start(investigation, users, collection, "score", {"model": trained.pk})
    assert job.status == "succeeded", job.error
    result = Analysis.objects.get(job=job).result
    assert result["posts"] == 192 and result["accounts_scored"] == 16
    top = result["accounts"][:8]
    assert {a["labels"]["account_category"] for a in top} <= {"RightTroll", "LeftTroll"}
    assert sum(result["distribution"]["counts"]) == 192
    assert (
        result["per_post_stored"] == "all" and "top_posts" not in result
    )  # the posts are in PostScore (test_post_scores)


def test_a_post_label_and_two_collections_are_label_sources_too(investigation, users, collection, tiny_bert):
    job = start(
        investigation,
        users,
        collection,
        "train_classifier",
        train_params(tiny_bert, label_source="post_label", label_key="veracity", positive_values="false", epochs=1),
    )
    assert job.status == "succeeded", job.error
    control = Collection.objects.create(investigation=investigation, name="control")
    Post.objects.filter(collection=collection, labels__veracity="true").update(collection=control)
    from apps.collections.models import Account

    Account.objects.filter(collection=collection, labels__account_category="Commercial").update(collection=control)
    job = start(
        investigation,
        users,
        collection,
        "train_classifier",
        {"label_source": "collections", "negative_collection": control.pk, "base_dir": tiny_bert, "epochs": 1},
    )
    assert job.status == "succeeded", job.error
    model = TextModel.objects.get(job=job)
    assert [c["name"] for c in model.training] == [collection.name, "control"]


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"label_key": "nope"}, "label_key", "has the label 'nope'"),
        ({"positive_values": "RightTroll,Hashtagger"}, "positive_values", "never takes the value(s) 'Hashtagger'"),
        ({"positive_values": "RightTroll,LeftTroll,Commercial"}, "positive_values", "one class only"),
        ({"model": "lstm"}, "model", "model must be one of"),
        ({"epochs": 0}, "epochs", "between"),
    ],
)
def test_bad_parameters_are_refused_before_any_job(investigation, users, collection, tiny_bert, params, field, message):
    with pytest.raises(ValidationError) as caught:
        analysis_start(
            investigation=investigation,
            user=users["bob"],
            kind="train_classifier",
            collection=collection,
            params=train_params(tiny_bert, **params),
        )
    assert message in caught.value.message_dict[field][0]
    assert not investigation.jobs.exists()


def test_a_directory_that_is_not_a_model_is_refused(investigation, users, collection, tmp_path, tiny_bert):
    for base_dir, message in ((tmp_path, "is not a model directory"), (tmp_path / "missing", "does not exist")):
        with pytest.raises(ValidationError) as caught:
            analysis_start(
                investigation=investigation,
                user=users["bob"],
                kind="train_classifier",
                collection=collection,
                params=train_params(tiny_bert, base_dir=str(base_dir)),
            )
        assert message in caught.value.message_dict["base_dir"][0]
    with pytest.raises(ValidationError) as caught:
        analysis_start(
            investigation=investigation,
            user=users["bob"],
            kind="train_classifier",
            collection=collection,
            params=train_params(tiny_bert, model="gpt2"),
        )
    assert "not a GPT-2" in caught.value.message_dict["base_dir"][0]


def test_a_model_of_another_investigation_cannot_score(trained, users):
    theirs = Investigation.objects.get(name="Mallory's own")
    their_collection = store_labelled_collection(theirs, name="theirs", accounts=2, posts=2)
    for model_id in (trained.pk, 999_999):
        with pytest.raises(ValidationError) as caught:
            analysis_start(
                investigation=theirs,
                user=users["mallory"],
                kind="score",
                collection=their_collection,
                params={"model": model_id},
            )
        assert caught.value.message_dict["model"] == ["No such model in this investigation."]


def test_the_command_trains_and_scores_through_the_same_service(investigation, users, collection, tiny_bert):
    users["alice"].is_superuser = True
    users["alice"].save()
    out = StringIO()
    args = ["--investigation", investigation.name, "--collection", collection.name, "--user", "alice"]
    params = [f"--param={k}={v}" for k, v in train_params(tiny_bert, epochs=1).items()]
    call_command("run_analysis", "train_classifier", *args, *params, stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded" and line["account_disjoint"] is True
    out = StringIO()
    call_command("run_analysis", "score", *args, f"--param=model={line['text_model_id']}", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["posts"] == 192


def test_a_base_model_outside_the_allowed_directories_is_refused(settings, collection, users, tiny_bert):
    settings.MURMURATION = {**settings.MURMURATION, "BASE_MODEL_DIRS": ["/nonexistent-models-root"]}
    with pytest.raises(ValidationError) as caught:
        analysis_start(
            investigation=collection.investigation,
            user=users["alice"],
            kind="train_classifier",
            collection=collection,
            params=train_params(tiny_bert),
        )
    assert "outside the directories this server allows" in caught.value.message_dict["base_dir"][0]


def test_scoring_in_int8_says_so_and_carries_the_measured_auc_change(trained, investigation, users, collection):
    fp32 = start(investigation, users, collection, "score", {"model": trained.pk})
    int8 = start(investigation, users, collection, "score", {"model": trained.pk, "mode": "int8"})
    assert fp32.status == int8.status == "succeeded", (fp32.error, int8.error)
    a, b = Analysis.objects.get(job=fp32), Analysis.objects.get(job=int8)
    assert (a.result["mode"], a.result["mode_report"]) == ("onnx", None)  # the default, "exact": ONNX Runtime
    assert b.result["mode"] == "int8" and b.result["mode_report"] == trained.metrics["int8"]
    exact = dict(a.post_scores.values_list("post_id", "score"))
    fast = dict(b.post_scores.values_list("post_id", "score"))
    assert exact.keys() == fast.keys()
    assert max(abs(exact[k] - fast[k]) for k in exact) < 0.2  # int8 moves scores a little, not arbitrarily
    with pytest.raises(ValidationError) as refused:
        analysis_start(
            investigation=investigation,
            user=users["bob"],
            kind="score",
            collection=collection,
            params={"model": trained.pk, "mode": "fp16"},
            enqueue=False,
        )
    assert refused.value.message_dict["mode"] == ["mode must be one of exact, fp32, int8; got 'fp16'."]
