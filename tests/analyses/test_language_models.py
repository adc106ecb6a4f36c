"""Language models per collection through Django: the train_lm job and its TextModel,
the cross-perplexity matrix whose diagonal wins on three real collections (IRA tweets, airline
customers' tweets, LIAR statements), attribution of a new IRA slice, the untuned base row of a
fine-tuned LM, the commands, bad parameters, the GPT-2 classifier end to end, and who may do what."""
from __future__ import annotations

import csv
import functools
import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.models import Analysis, TextModel
from apps.analyses.services import analysis_start
from apps.collections.models import Account, Collection, Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.django_db]

TRAIN = {"epochs": 3, "learning_rate": 2e-3, "vocab_size": 500}


def real_texts(name: str, n: int, skip: int = 0) -> list[str]:
    """``n`` posts of one real source, every 5th/7th row from offset ``skip`` (so two slices never overlap)."""
    step = 7 if name == "ira" else 5
    return list(_source(name)[skip::step][:n])


@functools.cache
def _source(name: str) -> tuple[str, ...]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: these tests read small slices of ../shared/data")
    if name == "ira":
        with (SHARED_DATA / "ira/ira_dev_sample_en.csv").open(newline="", encoding="utf-8") as f:
            return tuple(r["content"] for r in csv.DictReader(f) if r["is_retweet"] == "0" and r["content"].strip())
    if name == "airline":
        with (SHARED_DATA / "control/airline_tweets.csv").open(newline="", encoding="utf-8") as f:
            return tuple(r["text"] for r in csv.DictReader(f))
    with (SHARED_DATA / "liar/train.tsv").open(encoding="utf-8") as f:  # tab-separated, no header, no quoting
        return tuple(line.split("\t")[2] for line in f)


def store_texts(investigation, name: str, texts: list[str], accounts: int = 6) -> Collection:
    collection = Collection.objects.create(investigation=investigation, name=name)
    owners = [
        Account.objects.create(collection=collection, platform_id=f"{name}-{i}", handle=f"{name}_{i}")
        for i in range(accounts)
    ]
    Post.objects.bulk_create(
        Post(
            collection=collection,
            platform_id=f"{name}-p{i}",
            account=owners[i % accounts],
            text=text,
            time="2016-10-01T00:00:00Z",
        )
        for i, text in enumerate(texts)
    )
    return collection


def run(investigation, user, kind, collection, params) -> Job:
    job = analysis_start(
        investigation=investigation, user=user, kind=kind, collection=collection, params=params, enqueue=False
    )
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    return job


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models only here: one torch thread (see docs/benchmarks.md, "Language models")."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def three(investigation):
    return {name: store_texts(investigation, name, real_texts(name, 60)) for name in ("ira", "airline", "liar")}


@pytest.fixture
def small(investigation):
    return store_texts(investigation, "small", real_texts("airline", 18, skip=2))


@pytest.fixture
def small_lm(investigation, users, small) -> TextModel:
    return TextModel.objects.get(
        job=run(investigation, users["bob"], "train_lm", small, {"epochs": 1, "vocab_size": 300})
    )


@pytest.fixture(scope="module")
def tiny_gpt2_dir(tmp_path_factory):
    """A local GPT-2 directory (config.json, weights, tokenizer) standing in for a downloaded checkpoint."""
    from ml.text import TinyGPT2, train_bpe_tokenizer
    from ml.text.models import tiny_gpt2

    path = tmp_path_factory.mktemp("gpt2") / "tiny-gpt2"
    tokenizer = train_bpe_tokenizer(
        real_texts("ira", 100, skip=4) + real_texts("airline", 100, skip=4) + real_texts("liar", 100, skip=4), 400
    )
    tiny_gpt2(tokenizer, TinyGPT2(n_embd=32)).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def test_each_collection_s_own_model_wins_its_column_and_attribution_finds_the_operation(
    investigation, users, three, client_for
):
    lms = {
        name: TextModel.objects.get(job=run(investigation, users["bob"], "train_lm", c, TRAIN))
        for name, c in three.items()
    }
    ira = lms["ira"]
    assert (ira.kind, ira.base_model, ira.training[0]["id"], ira.training[0]["posts"]) == (
        "lm",
        "tiny GPT-2 (trained from scratch)",
        three["ira"].pk,
        60,
    )
    held = ira.split["held_out_post_ids"]
    assert len(held) == ira.split["held_out_posts"] == 20 and ira.split["train_posts"] == 40
    assert set(held) <= set(Post.objects.filter(collection=three["ira"]).values_list("id", flat=True))
    assert ira.history["train"] and 1 < ira.metrics["held_out_perplexity_per_byte"] < ira.metrics["held_out_perplexity"]
    assert (ira.weights_dir / "config.json").is_file()

    newer = store_texts(investigation, "ira-later", real_texts("ira", 40, skip=3))
    params = {
        "models": [lms[n].pk for n in ("ira", "airline", "liar")],
        "collections": [three["airline"].pk, three["liar"].pk],
        "target": newer.pk,
        "sample_posts": 200,
    }
    job = run(investigation, users["bob"], "perplexity_matrix", three["ira"], params)
    result = Analysis.objects.get(job=job).result
    matrix = result["matrix"]
    assert matrix["columns"] == ["ira", "airline", "liar"] and matrix["unit"] == "byte"  # three vocabularies
    assert matrix["lowest_row_per_column"] == [f"{lms[n].name} (#{lms[n].pk})" for n in ("ira", "airline", "liar")]
    assert all(o["own_is_lowest"] for o in result["own_lowest"]) and len(result["own_lowest"]) == 3
    # Columns are the held-out posts only: never a post its model trained on.
    assert [c["posts"] for c in result["columns"]] == [20, 20, 20]
    assert any("no untuned base row" in note for note in result["notes"]) and len(matrix["rows"]) == 3
    ranking = result["attribution"]["ranking"]
    assert [r["model_id"] for r in ranking][0] == ira.pk and result["attribution"]["target"]["posts"] == 40
    assert ranking[0]["perplexity"] < ranking[1]["perplexity"] < ranking[2]["perplexity"]
    assert job.result["attributed_to"] == ranking[0]["model"]

    page = client_for("carol").get(reverse("analysis-detail", args=[Analysis.objects.get(job=job).pk])).content.decode()
    for marker in (
        'data-testid="chart-perplexity-matrix"',
        '"perplexity-matrix"',
        '"heatmap"',
        'data-testid="attribution-ranking"',
        '"attribution"',
        f"{matrix['perplexity'][0][0]:.2f}",
    ):
        assert marker in page, marker


def test_a_fine_tuned_model_has_its_untuned_base_as_a_row(investigation, users, small, tiny_gpt2_dir):
    tuned = TextModel.objects.get(
        job=run(
            investigation,
            users["bob"],
            "train_lm",
            small,
            {"base_dir": tiny_gpt2_dir, "epochs": 2, "learning_rate": 3e-3},
        )
    )
    assert (
        tuned.base_model == tuned.params["base_dir"]
        and tuned.metrics["base_perplexity"] > tuned.metrics["held_out_perplexity"]
    )
    other = store_texts(investigation, "other", real_texts("liar", 12))
    job = run(
        investigation, users["bob"], "perplexity_matrix", small, {"models": str(tuned.pk), "collections": str(other.pk)}
    )
    matrix = Analysis.objects.get(job=job).result["matrix"]
    assert matrix["rows"] == [f"{tuned.name} (#{tuned.pk})", "untuned base: tiny-gpt2"] and matrix["unit"] == "token"
    (tuned_own, _), (base_own, _) = matrix["perplexity"]
    assert tuned_own < base_own
    assert tuned_own == pytest.approx(tuned.metrics["held_out_perplexity"], rel=1e-4)  # the same 6 held-out posts


def test_the_commands_train_and_compare_through_the_same_services(investigation, users, small):
    users["alice"].is_superuser = True
    users["alice"].save()
    other = store_texts(investigation, "other", real_texts("liar", 18))
    args = ["--investigation", investigation.name, "--user", "alice"]
    out = StringIO()
    call_command(
        "run_analysis",
        "train_lm",
        *args,
        "--collection",
        "small",
        "--param=epochs=1",
        "--param=vocab_size=300",
        stdout=out,
    )
    trained = json.loads(out.getvalue().strip().splitlines()[-1])
    assert trained["status"] == "succeeded" and trained["held_out_posts"] == 6 and trained["posts"] == 18
    out = StringIO()
    call_command(
        "run_analysis",
        "perplexity_matrix",
        *args,
        "--collection",
        "small",
        f"--param=models={trained['text_model_id']}",
        f"--param=collections={other.name}",
        stdout=out,
    )
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded" and (line["rows"], line["columns"], line["unit"]) == (1, 2, "token")
    assert list(line["lowest_row_per_column"]) == ["small", "other"]


BAD = [
    ("train_lm", {"epochs": 0}, "epochs", "between"),
    ("train_lm", {"layers": 3}, "params", "Unknown parameter(s) layers"),
    ("train_lm", {"max_posts": "many"}, "max_posts", "whole number"),
    ("perplexity_matrix", {"collections": "other"}, "models", "at least one language model"),
    ("perplexity_matrix", {"models": "999999", "collections": "other"}, "models", "No language model '999999'"),
    ("perplexity_matrix", {"models": "LM"}, "collections", "at least two collections"),
    ("perplexity_matrix", {"models": "LM", "collections": "nowhere"}, "collections", "No collection 'nowhere'"),
    ("perplexity_matrix", {"models": "LM", "collections": "other", "target": "other"}, "target", "at least two"),
    ("perplexity_matrix", {"models": "LM", "collections": "other", "sample_posts": 5}, "sample_posts", "between"),
]


def test_bad_parameters_are_refused_before_any_job(investigation, users, small, tmp_path):
    store_texts(investigation, "other", ["a post", "another post"], accounts=1)
    # An LM row without a job: the checks only read the table and the disk.
    model = TextModel.objects.create(investigation=investigation, name="LM", kind="lm", base_model="tiny")
    model.weights_dir.mkdir(parents=True)
    for kind, params, field, message in BAD:
        with pytest.raises(ValidationError) as caught:
            analysis_start(investigation=investigation, user=users["bob"], kind=kind, collection=small, params=params)
        assert message in caught.value.message_dict[field][0], (params, caught.value.message_dict)
    with pytest.raises(ValidationError) as caught:  # an LM gives perplexities, not P(IO)
        analysis_start(
            investigation=investigation, user=users["bob"], kind="score", collection=small, params={"model": model.pk}
        )
    assert "is a language model" in caught.value.message_dict["model"][0]
    _refuses_a_collection_too_small_and_a_base_that_is_not_a_gpt2(investigation, users, small, tmp_path)
    assert not investigation.jobs.exists()


def _refuses_a_collection_too_small_and_a_base_that_is_not_a_gpt2(investigation, users, small, tmp_path):
    from ml.text import save_tiny_bert

    tiny = store_texts(investigation, "tiny", ["one", "two", "three"], accounts=1)
    with pytest.raises(ValidationError) as caught:
        analysis_start(investigation=investigation, user=users["bob"], kind="train_lm", collection=tiny, params={})
    assert "has 3 post(s) with text" in caught.value.message_dict["collection"][0]
    bert = save_tiny_bert(["a b c", "d e f"] * 5, tmp_path / "bert", layers=1, hidden=16, heads=2)
    for base_dir, message in ((bert, "not a GPT-2"), (tmp_path, "is not a model directory")):
        with pytest.raises(ValidationError) as caught:
            analysis_start(
                investigation=investigation,
                user=users["bob"],
                kind="train_lm",
                collection=small,
                params={"base_dir": str(base_dir)},
            )
        assert message in caught.value.message_dict["base_dir"][0]


def test_a_classifier_or_another_investigation_s_model_is_no_language_model_here(investigation, users, small, small_lm):
    from apps.investigations.models import Investigation

    classifier = TextModel.objects.create(investigation=investigation, name="clf", kind="gpt2", base_model="tiny GPT-2")
    other = store_texts(investigation, "other", ["a post", "another post"], accounts=1)
    with pytest.raises(ValidationError) as caught:
        analysis_start(
            investigation=investigation,
            user=users["bob"],
            kind="perplexity_matrix",
            collection=small,
            params={"models": [classifier.pk], "collections": [other.pk]},
        )
    assert f"No language model '{classifier.pk}'" in caught.value.message_dict["models"][0]
    theirs = Investigation.objects.get(name="Mallory's own")
    mine = store_texts(theirs, "theirs", ["x y", "y z"], accounts=1)
    with pytest.raises(ValidationError) as caught:
        analysis_start(
            investigation=theirs,
            user=users["mallory"],
            kind="perplexity_matrix",
            collection=mine,
            params={"models": [small_lm.pk], "collections": [mine.pk]},
        )
    assert f"No language model '{small_lm.pk}'" in caught.value.message_dict["models"][0]


def api_start(api, investigation, small, small_lm):
    body = {
        "kind": "perplexity_matrix",
        "collection": small.pk,
        "params": {"models": [small_lm.pk], "collections": [small.pk]},
    }
    return api.post(f"/api/investigations/{investigation.pk}/analyses/start/", body, format="json")


def test_mallory_sees_no_language_model_page(client_for, api_for, investigation, small, small_lm):
    assert api_start(api_for("mallory"), investigation, small, small_lm).status_code == 404
    client = client_for("mallory")
    for url in (
        reverse("lm-detail", args=[small_lm.pk]),
        reverse("train-lm-start", args=[small.pk]),
        reverse("perplexity-matrix-start", args=[investigation.pk]),
        reverse("analysis-detail", args=[Analysis.objects.get(job=small_lm.job).pk]),
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"prompt": "x", "n": 1, "max_new_tokens": 2, "temperature": 1}).status_code == 404, url


def test_carol_reads_and_samples_but_cannot_start(client_for, api_for, investigation, small, small_lm):
    assert api_start(api_for("carol"), investigation, small, small_lm).status_code == 403
    client = client_for("carol")
    page = client.get(reverse("lm-detail", args=[small_lm.pk])).content.decode()
    assert 'data-testid="lm-metrics"' in page and '"loss"' in page and 'data-testid="compare-link"' not in page
    run_page = client.get(reverse("analysis-detail", args=[Analysis.objects.get(job=small_lm.job).pk])).content.decode()
    assert f'href="{reverse("lm-detail", args=[small_lm.pk])}"' in run_page
    # Sampling writes nothing, so a viewer may: the generations are marked synthetic.
    sampled = client.post(
        reverse("lm-detail", args=[small_lm.pk]), {"prompt": "@united", "n": 2, "max_new_tokens": 6, "temperature": 1}
    )
    text = sampled.content.decode()
    assert sampled.status_code == 200 and text.count('data-testid="lm-sample"') == 2 and text.count("SYNTHETIC") >= 2
    assert text.count('<span class="badge badge-cancelled">SYNTHETIC</span> @united') == 2
    bad = client.post(
        reverse("lm-detail", args=[small_lm.pk]), {"prompt": "x", "n": 50, "max_new_tokens": 6, "temperature": 1}
    )
    assert bad.status_code == 400 and 'data-testid="error-n"' in bad.content.decode()
    jobs = Job.objects.count()
    for url in (
        reverse("train-lm-start", args=[small.pk]),
        reverse("perplexity-matrix-start", args=[investigation.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"models": [small_lm.pk], "collections": [small.pk]}).status_code == 403, url
    assert Job.objects.count() == jobs


def test_bob_starts_both_from_the_pages_and_sees_field_errors(client_for, api_for, investigation, small, small_lm):
    client = client_for("bob")
    listed = client.get(reverse("investigation-detail", args=[investigation.pk])).content.decode()
    assert f'href="{reverse("lm-detail", args=[small_lm.pk])}"' in listed and 'data-testid="compare-lms-link"' in listed
    assert client.get(reverse("text-model-detail", args=[small_lm.pk]))["Location"] == reverse(
        "lm-detail", args=[small_lm.pk]
    )
    bad = client.post(reverse("train-lm-start", args=[small.pk]), {"epochs": 0})
    assert bad.status_code == 400 and "epochs must be between" in bad.content.decode()
    started = client.post(reverse("train-lm-start", args=[small.pk]), {"epochs": 1, "name": "from the page"})
    assert started.status_code == 302 and Job.objects.latest("id").params["params"]["name"] == "from the page"
    one = client.post(
        reverse("perplexity-matrix-start", args=[investigation.pk]),
        {"models": [small_lm.pk], "collections": [small.pk]},
    )
    assert one.status_code == 400 and "at least two collections" in one.content.decode()
    refused = api_start(api_for("bob"), investigation, small, small_lm)
    assert refused.status_code == 400 and "at least two collections" in json.dumps(refused.json())
    other = store_texts(investigation, "other", ["a post", "another post"], accounts=1)
    two = client.post(
        reverse("perplexity-matrix-start", args=[investigation.pk]),
        {"models": [small_lm.pk], "collections": [small.pk, other.pk], "sample_posts": 50, "include_base": "on"},
    )
    assert two.status_code == 302
    job = job_execute(job_id=Job.objects.latest("id").pk)
    assert job.status == "succeeded", job.error
    assert job.result["lowest_row_per_column"] == {
        "small": f"LM · small (#{small_lm.pk})",
        "other": f"LM · small (#{small_lm.pk})",
    }


@pytest.mark.parametrize("base", ["tiny", "local directory"])
def test_the_gpt2_classifier_trains_scores_and_shows_its_metrics(investigation, users, client_for, tiny_gpt2_dir, base):
    from tests.analyses.text_data import store_labelled_collection

    collection = store_labelled_collection(investigation, accounts=6, posts=6)
    params = {
        "label_key": "account_category",
        "positive_values": "RightTroll,LeftTroll",
        "model": "gpt2",
        "epochs": 1,
        **({"base_dir": tiny_gpt2_dir, "learning_rate": 3e-3} if base != "tiny" else {}),
    }
    if base == "tiny":  # from the command line
        out = StringIO()
        call_command(
            "run_analysis",
            "train_classifier",
            "--investigation",
            investigation.name,
            "--collection",
            collection.name,
            "--user",
            "bob",
            *[f"--param={k}={v}" for k, v in params.items()],
            stdout=out,
        )
        line = json.loads(out.getvalue().strip().splitlines()[-1])
        assert line["status"] == "succeeded" and line["model"] == "gpt2", line
        model = TextModel.objects.get(pk=line["text_model_id"])
    else:
        model = TextModel.objects.get(job=run(investigation, users["bob"], "train_classifier", collection, params))
    assert model.kind == "gpt2" and model.base_model == (tiny_gpt2_dir if base != "tiny" else "tiny GPT-2")
    assert (
        model.metrics["n"] == model.split["test"]["posts"] > 0
        and 0 <= model.metrics["auc"] <= 1
        and model.history["train"]
    )
    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk])).content.decode()
    assert '"roc"' in page and '"loss"' in page and 'data-testid="metrics-table"' in page
    scored = run(investigation, users["bob"], "score", collection, {"model": model.pk})
    result = Analysis.objects.get(job=scored).result
    assert result["posts"] == 72 and result["accounts_scored"] == 12 and sum(result["distribution"]["counts"]) == 72
