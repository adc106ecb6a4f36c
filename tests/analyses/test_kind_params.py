"""One declaration per parameter: the start page, the API and ``run_analysis`` refuse a bad value with the
same sentence, every list parameter refuses a non-list, and the forms show the kinds' own defaults."""
from __future__ import annotations

import html
from datetime import datetime, timezone

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from apps.analyses.forms import ParamsForm
from apps.analyses.kinds.base import FLAG, FLOAT, INT, LIST, Param, kind_get, kind_names
from apps.collections.models import Account, Collection, Post
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db

START_PAGES = {"coordination": "coordination-start", "coaction": "coaction-start", "propagation": "propagation-start",
               "retweet_network": "retweet-network-start", "hashtag_network": "hashtag-network-start",
               "train_lm": "train-lm-start", "train_classifier": "train-classifier-start"}
# (kind, field, bad value as typed in a form or after --param, the sentence every surface must show)
BAD = [
    ("coordination", "bin_seconds", "an hour", "bin_seconds must be a whole number; got 'an hour'."),
    ("coordination", "alpha", "1.5", "alpha must be in (0, 1); got '1.5'."),
    ("coaction", "window", "0", "window must be in (0, 604800]; got '0'."),
    ("hashtag_network", "top_k", "9000", "top_k must be between 2 and 5,000; got '9000'."),
    ("retweet_network", "min_weight", "0", "min_weight must be between 1 and 100,000; got '0'."),
    ("train_lm", "max_length", "4", "max_length must be between 8 and 1,024; got '4'."),
    ("propagation", "label_key", "a b", "label_key must be a label name (letters, digits, _); got 'a b'."),
]


@pytest.fixture
def collection(investigation):
    collection = Collection.objects.create(investigation=investigation, name="c")
    when = datetime(2024, 3, 1, tzinfo=timezone.utc)
    for i in range(8):
        account = Account.objects.create(collection=collection, platform_id=str(i), handle=f"user{i}")
        Post.objects.create(
            collection=collection, platform_id=f"p{i}", account=account, time=when, text=f"post number {i}"
        )
    return collection


@pytest.mark.parametrize(("kind", "field", "value", "sentence"), BAD, ids=[f"{k}-{f}" for k, f, _, _ in BAD])
def test_the_page_the_api_and_the_command_refuse_a_bad_value_with_one_sentence(
    client_for, api_for, investigation, collection, kind, field, value, sentence
):
    page = client_for("bob").post(reverse(START_PAGES[kind], args=[collection.pk]), {field: value})
    assert page.status_code == 400 and sentence in html.unescape(page.content.decode())

    api = api_for("bob").post(
        reverse("api-analysis-start", args=[investigation.pk]),
        {"kind": kind, "collection": collection.pk, "params": {field: value}},
        format="json",
    )
    assert api.status_code == 400 and api.json()[field] == [sentence]

    with pytest.raises(CommandError) as caught:
        call_command(
            "run_analysis",
            kind,
            "--investigation",
            investigation.name,
            "--collection",
            collection.name,
            "--user",
            "bob",
            "--param",
            f"{field}={value}",
        )
    assert f"{field}: {sentence}" in str(caught.value)
    assert not Job.objects.exists()


def _list_params():
    from apps.analyses import registry

    return [(kind.name, param.name) for kind in registry.KINDS for param in kind.params if param.type == LIST]


def test_every_list_parameter_refuses_what_is_not_a_list(api_for, investigation, collection):
    api = api_for("bob")
    for kind, field in _list_params():
        for value in (5, {"a": 1}, True, [["nested"]]):
            answer = api.post(
                reverse("api-analysis-start", args=[investigation.pk]),
                {"kind": kind, "collection": collection.pk, "params": {field: value}},
                format="json",
            )
            assert answer.status_code == 400, (kind, field, value, answer.content)
            assert "must be a list" in answer.json()[field][0], (kind, field, value)


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("train_classifier", {"base_dir": "\u0000"}, "base_dir"),
        ("train_lm", {"base_dir": "/tmp/\u0000x"}, "base_dir"),
        ("perplexity_matrix", {"models": "²"}, "models"),
        ("perplexity_matrix", {"models": "1", "target": "²"}, "target"),
        ("score", {"model": "10" * 20}, "model"),
        ("authorship", {"account": "x" * 300}, "account"),
        ("coordination", {"event_date": "yesterday"}, "event_date"),
    ],
)
def test_odd_values_are_a_400_with_a_sentence(api_for, investigation, collection, kind, params, field):
    answer = api_for("bob").post(
        reverse("api-analysis-start", args=[investigation.pk]),
        {"kind": kind, "collection": collection.pk, "params": params},
        format="json",
    )
    assert answer.status_code == 400 and answer.json()[field], answer.content


def test_params_that_are_not_an_object_are_refused(api_for, investigation, collection):
    answer = api_for("bob").post(
        reverse("api-analysis-start", args=[investigation.pk]),
        {"kind": "coaction", "collection": collection.pk, "params": [1, 2]},
        format="json",
    )
    assert answer.status_code == 400 and "params must be an object" in str(answer.json())


def test_one_rule_per_type():
    errors: dict = {}
    flag = Param("f", FLAG, False)
    assert [flag.clean(v, errors) for v in ("yes", "off", True, 0, "", None)] == [
        True,
        False,
        True,
        False,
        False,
        False,
    ]
    assert flag.clean("maybe", errors) is False and errors == {"f": "f must be true or false; got 'maybe'."}
    whole = Param("n", INT, 3, low=1, high=10)
    for bad in (3.5, True, "3.5", "²", "1" * 5000, [3]):
        errors = {}
        whole.clean(bad, errors)
        assert errors["n"].startswith("n must be a whole number"), bad
    assert whole.clean("7", {}) == 7 and whole.clean(7.0, {}) == 7 and whole.clean(" ", {}) == 3
    number = Param("x", FLOAT, 0.5, low=0.0, high=1.0)
    for bad in ("nan", "inf", 2):
        errors = {}
        number.clean(bad, errors)
        assert errors["x"].startswith("x must be in [0, 1]"), bad
    words = Param("w", LIST, ("a",), choices=("a", "b"))
    assert words.clean("b, a,b", {}) == ["b", "a"] and words.clean(["a", "a"], {}) == ["a"]
    errors = {}
    words.clean([], errors)
    assert errors == {"w": "w: choose at least one of a, b."}
    numbers = Param("ws", LIST, (1.0,), item=FLOAT)
    assert numbers.clean("10,1,10", {}) == [10.0, 1.0]


def test_the_forms_show_each_kinds_own_defaults_and_help():
    from ml.coordination import InfluenceConfig

    form = ParamsForm(kind=kind_get("coordination"))
    assert form.fields["bin_seconds"].initial == InfluenceConfig.bin_seconds == 3600
    assert form.fields["alpha"].initial == InfluenceConfig.alpha
    assert form.fields["entity_types"].initial == ["hashtag", "url", "mention"]
    hashtags = ParamsForm(kind=kind_get("hashtag_network"))
    assert (
        "at most 5,000" in hashtags.fields["top_k"].help_text
        and kind_get("hashtag_network").param("top_k").high == 5_000
    )
    for name in kind_names():
        kind = kind_get(name)
        assert kind.label and kind.params and len({p.name for p in kind.params}) == len(kind.params), name
        for param in kind.params:
            assert param.help, f"{name}.{param.name} has no help"


def test_the_schema_documents_each_kinds_parameters(client_for):
    schema = client_for("carol").get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    assert set(components["CoordinationParams"]["properties"]) == {p.name for p in kind_get("coordination").params}
    assert components["CoordinationParams"]["properties"]["bin_seconds"]["maximum"] == 7 * 86400
    assert components["CoactionParams"]["properties"]["actions"]["type"] == "array"


def test_a_pasted_post_is_scored_only_by_an_authorship_analysis(client_for, investigation, collection, users):
    from apps.analyses.models import Analysis
    from apps.jobs.services import job_create

    job = job_create(
        investigation=investigation,
        kind="analysis:coaction",
        params={"kind": "coaction"},
        user=users["bob"],
        enqueue=False,
    )
    analysis = Analysis.objects.create(
        investigation=investigation, job=job, kind="coaction", collection=collection, result={}, summary={}
    )
    for name in ("carol", "bob"):
        answer = client_for(name).post(reverse("analysis-score", args=[analysis.pk]), {"text": "hello"})
        assert answer.status_code == 404
