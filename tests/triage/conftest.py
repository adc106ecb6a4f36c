"""Alice's case: a collection of three accounts and six posts, a text model's scoring of them with known
scores, and a coordination network that links two of the accounts. Bob edits, Carol views, Mallory is no
member."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.collections.models import Account, Collection, Post
from apps.jobs.models import Job

# platform id → score. Distances from 0.5: p3 0, p6 0.125, p2 and p4 0.25 (a tie: the lower post id first),
# p1 0.4, p5 0.45.
SCORES = {"p1": 0.9, "p2": 0.75, "p3": 0.5, "p4": 0.25, "p5": 0.05, "p6": 0.625}
UNCERTAINTY_ORDER = ["p3", "p6", "p2", "p4", "p1", "p5"]
SCORE_ORDER = ["p1", "p2", "p6", "p3", "p4", "p5"]
AUTHORS = {"p1": "troll", "p2": "troll", "p3": "troll", "p4": "amplifier", "p5": "amplifier", "p6": "resident"}
START = datetime(2024, 3, 1, tzinfo=timezone.utc)


def _analysis(investigation, collection, kind, **fields):
    job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded", params={})
    return Analysis.objects.create(investigation=investigation, job=job, kind=kind, collection=collection, **fields)


@pytest.fixture
def case(investigation, users):
    collection = Collection.objects.create(investigation=investigation, name="takedown")
    accounts = {
        handle: Account.objects.create(collection=collection, platform_id=str(i), handle=handle)
        for i, handle in enumerate(("troll", "amplifier", "resident"), start=1)
    }
    posts = {}
    for i, (platform_id, handle) in enumerate(AUTHORS.items()):
        labels = {"analyst_label": "organic", "lang": "en"} if platform_id == "p3" else {"lang": "en"}
        posts[platform_id] = Post.objects.create(
            collection=collection, platform_id=platform_id, account=accounts[handle], text=f"text of {platform_id}",
            time=START + timedelta(hours=i), labels=labels,
        )
    model = TextModel.objects.create(investigation=investigation, name="clf", kind="encoder", base_model="tiny")
    scoring = _analysis(investigation, collection, "score", params={"model": model.pk},
                        summary={"model": "clf", "posts": len(SCORES)})
    PostScore.objects.bulk_create(
        PostScore(analysis=scoring, post=posts[p], account=posts[p].account, score=s) for p, s in SCORES.items()
    )
    troll, amplifier = accounts["troll"], accounts["amplifier"]
    network = _analysis(investigation, collection, "coordination", result={
        "nodes": [{"id": troll.pk, "handle": "troll"}, {"id": amplifier.pk, "handle": "amplifier"}],
        "edges": [{"source": troll.pk, "target": amplifier.pk, "weight": 3.0}],
    })
    other = Collection.objects.create(investigation=investigation, name="other")
    stranger = Account.objects.create(collection=other, platform_id="9", handle="stranger")
    return {
        "inv": investigation, "collection": collection, "accounts": accounts, "posts": posts, "model": model,
        "scoring": scoring, "network": network,
        "foreign_post": Post.objects.create(collection=other, platform_id="x1", account=stranger, text="elsewhere"),
    }


@pytest.fixture
def make_queue(case, users):
    from apps.triage.services import queue_create

    def make(order="uncertainty", seed=0, values="operation,organic,unsure"):
        return queue_create(investigation=case["inv"], user=users["alice"], analysis=case["scoring"], order=order,
                            label_key="analyst_label", label_values=values, seed=seed)

    return make


# Active learning: a real (tiny) model, its scoring of a labelled collection, and a queue over it ---------------

@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """A tiny BERT classifier trained once on troll vs control posts (seconds); each test copies it into its own
    model's weights directory, as a train_classifier job would have left it."""
    import random

    from apps.analyses.kinds.train_classifier import _classifier
    from ml.text import save_tiny_bert
    from tests.analyses.text_data import CONTROL, TROLL, texts

    base = save_tiny_bert(texts() * 5, tmp_path_factory.mktemp("bert") / "tiny", layers=1, hidden=16, heads=2)
    rng = random.Random(0)
    rows = [(f"{rng.choice(TROLL if a < 6 else CONTROL)} {rng.choice(TROLL if a < 6 else CONTROL)} {j}", int(a < 6),
             str(a)) for a in range(12) for j in range(8)]
    params = {"model": "encoder", "base_dir": str(base), "epochs": 1, "batch_size": 16, "learning_rate": 1e-3,
              "max_length": 32, "seed": 0}
    return _classifier(params).fit(*zip(*rows)).save(tmp_path_factory.mktemp("weights") / "classifier")


@pytest.fixture
def learning(investigation, users, tiny_weights):
    """Alice's ira-sample (6 troll and 6 control accounts, 8 posts each, account_category labels), a model trained on
    it (its TextModel says so, as a train_classifier job writes it), its scoring (a real score job) and a queue."""
    import shutil

    from apps.analyses.models import Analysis, TextModel
    from apps.analyses.services import analysis_start
    from apps.jobs.services import job_execute
    from apps.triage.services import queue_create
    from tests.analyses.text_data import store_labelled_collection

    collection = store_labelled_collection(investigation, accounts=6, posts=8)
    model = TextModel.objects.create(
        investigation=investigation, name="tiny troll detector", kind="encoder", base_model="tiny BERT",
        params={"label_source": "account_label", "label_key": "account_category",
                "positive_values": ["RightTroll", "LeftTroll"], "max_length": 32},
        training=[{"id": collection.pk, "name": collection.name}], metrics={"auc": 0.75, "f1": 0.5, "roc": {}},
        created_by=users["alice"],
    )
    shutil.copytree(tiny_weights, model.weights_dir)
    job = analysis_start(investigation=investigation, user=users["alice"], kind="score", collection=collection,
                         params={"model": model.pk}, enqueue=False)
    job = job_execute(job_id=job.pk)
    assert job.status == "succeeded", job.error
    scoring = Analysis.objects.get(job=job)
    queue = queue_create(investigation=investigation, user=users["alice"], analysis=scoring, order="uncertainty",
                         label_key="analyst_label", label_values="operation,organic,unsure")
    posts = {p.platform_id: p for p in Post.objects.filter(collection=collection).select_related("account")}
    truth = {pid: "operation" if p.account.labels["account_category"] != "Commercial" else "organic"
             for pid, p in posts.items()}
    return {"collection": collection, "model": model, "scoring": scoring, "queue": queue, "posts": posts,
            "truth": truth}
