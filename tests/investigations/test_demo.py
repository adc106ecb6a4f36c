"""`make run`'s first look: demo_setup loads the simulated operation once and queues the demo's analyses, which
find the operation when a worker runs them."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from apps.analyses.models import Analysis
from apps.collections.models import Account
from apps.jobs.models import Job
from apps.jobs.services import job_execute

pytestmark = pytest.mark.django_db


def demo(*args) -> dict:
    out = StringIO()
    call_command("demo_setup", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_the_demo_queues_its_analyses_once_and_they_find_the_operation(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first = demo()
    assert first["posts"] > 10_000
    assert set(first["analysis_jobs"]) == {
        "coordination", "coaction", "hashtag_network", "embedding_map", "train_classifier"
    }
    assert Job.objects.filter(kind__startswith="analysis:", status=Job.Status.QUEUED).count() == 5
    # The classifier scores the collection once trained (tests/analyses/test_follow_ups.py runs that chain).
    training = Job.objects.get(pk=first["analysis_jobs"]["train_classifier"]).params["params"]
    assert training["label_key"] == "takedown" and training["positive_values"] == ["operation"]
    assert training["score_after"] is True
    assert demo()["analysis_jobs"] == {}  # loaded already: nothing queued twice
    # The networks run here; the map and the classifier (a minute of MiniLM each on two cores) are tested on their own
    # data in tests/analyses.
    for kind in ("coordination", "coaction", "hashtag_network"):
        assert job_execute(job_id=first["analysis_jobs"][kind]).status == Job.Status.SUCCEEDED
    truth = json.loads(next((tmp_path / "demo").glob("*.truth.json")).read_text())
    labels = dict(Account.objects.values_list("platform_id", "labels__takedown"))
    assert {p for p, v in labels.items() if v == "operation"} == set(truth["operation_userids"])
    assert set(labels.values()) == {"operation", "not listed"}
    coordination = Analysis.objects.get(kind="coordination")
    assert coordination.params["bin_seconds"] == 60 and coordination.summary["edges"] > 0
    top = Account.objects.get(collection=coordination.collection, handle=coordination.summary["top_influencer"])
    assert top.platform_id in set(truth["operation_userids"])  # the most influential account is the operation's
