"""External validation (issue 16, item 3): a classifier trained on one labelled pair is also scored on another pair
the training never read; the figures are stored beside the internal split's, shown on the model page (both rows)
and on the score page, and the form, the API and run_analysis take the same parameters.

Personas: Bob (editor) trains "trolls" against "gardens" and validates on "trolls 2018" against "gardens 2018";
Carol (viewer) reads; Mallory (another investigation) gets 404."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from apps.analyses.models import TextModel
from apps.analyses.services import analysis_start
from tests.analyses.test_trust_pages import collection_of, run
from tests.analyses.text_data import CONTROL, TROLL, store_labelled_collection

# Embedded default only: these train models (CPU), and what they store is plain rows the PostgreSQL pass already
# covers (tests/analyses/test_post_scores.py, test_text_models.py): running them twice cost the suite about a minute.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from ml.text import save_tiny_bert

    return str(save_tiny_bert((TROLL + CONTROL) * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16,
                              heads=2))


@pytest.fixture
def pairs(investigation):
    return {name: collection_of(investigation, name, TROLL if "troll" in name else CONTROL, accounts=6, posts=6)
            for name in ("trolls", "gardens", "trolls 2018", "gardens 2018")}


def pair_params(pairs, tiny_bert, **extra) -> dict:
    return {"label_source": "collections", "positive_collection": pairs["trolls"].pk,
            "negative_collection": pairs["gardens"].pk, "base_dir": tiny_bert, "epochs": 3, "learning_rate": 1e-3,
            "validate_positive_collection": pairs["trolls 2018"].pk,
            "validate_negative_collection": pairs["gardens 2018"].pk, **extra}


def test_it_stores_and_shows_the_external_pair_beside_the_internal_split(investigation, users, pairs, tiny_bert,
                                                                         client_for):
    training = run(investigation, users, pairs["trolls"], "train_classifier", pair_params(pairs, tiny_bert))
    model = TextModel.objects.get(job=training.job)
    external = model.metrics["external"]
    assert [c["name"] for c in external["collections"]] == ["trolls 2018", "gardens 2018"]
    assert external["posts"] == external["n"] == 72 and external["positives"] == 36  # every post of both, none trained
    assert 0.0 <= external["auc"] <= 1.0 and 0.0 <= external["ece_after"] <= 1.0
    assert 0.0 <= external["unreliable_share"] <= 1.0 and external["threshold"] == model.metrics["threshold"]
    assert training.summary["external_auc"] == external["auc"]

    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk])).content.decode()
    assert 'data-testid="external-internal"' in page and 'data-testid="external-external"' in page
    assert f'<td class="num">{model.metrics["auc"]:.3f}</td>' in page  # the internal row
    assert f'<td class="num">{external["auc"]:.3f}</td><td class="num">{external["f1"]:.3f}</td>' in page
    assert "external: trolls 2018 vs gardens 2018" in page

    scored = run(investigation, users, pairs["gardens 2018"], "score", {"model": model.pk})
    page = client_for("carol").get(reverse("analysis-detail", args=[scored.pk])).content.decode()
    assert 'data-testid="score-external"' in page and f"AUC <strong>{external['auc']:.3f}</strong>" in page

    client = client_for("mallory")
    assert client.get(reverse("text-model-detail", args=[model.pk])).status_code == 404
    assert client.get(reverse("analysis-detail", args=[scored.pk])).status_code == 404


def test_a_model_validated_on_its_own_split_only_says_so(investigation, users, pairs, tiny_bert, client_for):
    params = {k: v for k, v in pair_params(pairs, tiny_bert).items() if not k.startswith("validate_")}
    training = run(investigation, users, pairs["trolls"], "train_classifier", params)
    model = TextModel.objects.get(job=training.job)
    assert "external" not in model.metrics and training.summary["external_auc"] is None
    page = client_for("carol").get(reverse("text-model-detail", args=[model.pk])).content.decode()
    assert 'data-testid="no-external"' in page and 'data-testid="external-table"' not in page


@pytest.mark.parametrize("extra, field, message", [
    ({"validate_negative_collection": None}, "validate_negative_collection", "both its positive and its negative"),
    ({"validate_negative_collection": "gardens"}, "validate_negative_collection", "is read by the training"),
    ({"validate_negative_collection": "trolls 2018"}, "validate_negative_collection", "two different collections"),
])
def test_it_refuses_an_external_pair_it_cannot_use(investigation, users, pairs, tiny_bert, extra, field, message):
    params = pair_params(pairs, tiny_bert, **{k: v and pairs[v].pk for k, v in extra.items()})
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        analysis_start(investigation=investigation, user=users["bob"], kind="train_classifier",
                       collection=pairs["trolls"], params=params, enqueue=False)
    assert message in caught.value.message_dict[field][0]


def test_a_label_is_validated_on_another_collection_with_the_same_label(investigation, users, tiny_bert):
    sample, other = store_labelled_collection(investigation, "2016"), store_labelled_collection(investigation, "2017",
                                                                                                accounts=4, posts=6)
    plain = collection_of(investigation, "plain", CONTROL, accounts=2, posts=2)  # no account_category at all
    params = {"label_source": "account_label", "label_key": "account_category",
              "positive_values": "RightTroll,LeftTroll", "base_dir": tiny_bert, "epochs": 2, "learning_rate": 1e-3}
    with pytest.raises(ValidationError) as caught:
        analysis_start(investigation=investigation, user=users["bob"], kind="train_classifier", collection=sample,
                       params={**params, "validate_collection": plain.pk}, enqueue=False)
    assert "needs posts of both classes of 'account_category'" in caught.value.message_dict["validate_collection"][0]

    users["alice"].is_superuser = True
    users["alice"].save()
    out = StringIO()
    args = ["--investigation", investigation.name, "--collection", sample.name, "--user", "alice"]
    given = [f"--param={k}={v}" for k, v in {**params, "validate_collection": other.pk}.items()]
    call_command("run_analysis", "train_classifier", *args, *given, stdout=out)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["status"] == "succeeded" and line["external_auc"] is not None
    external = TextModel.objects.get(pk=line["text_model_id"]).metrics["external"]
    assert external["collections"] == [{"role": "labelled", "id": other.pk, "name": "2017"}]
    assert external["posts"] == 48 and external["positives"] == 24


def test_the_form_offers_the_external_pair_only_with_another_collection(investigation, users, client_for):
    only = store_labelled_collection(investigation, "alone", accounts=2, posts=2)
    url = reverse("train-classifier-start", args=[only.pk])
    assert 'name="validate_collection"' not in client_for("bob").get(url).content.decode()
    another = collection_of(investigation, "another", CONTROL, accounts=1, posts=1)
    page = client_for("bob").get(url).content.decode()
    assert 'name="validate_positive_collection"' in page and f'<option value="{another.pk}">another</option>' in page
