"""Alice's case, small and complete: a collection of three accounts (two of them an operation), a text model's
scores, a coordination network with two communities, a note that quotes a script, a DISARM tag (T0049) on that note
and on an account, and a storyline told out of creation order: the second pin, the note, then the first pin.

Analyses are written as rows (no model is trained, no detector runs); ``build`` runs a report's job here;
``case_make`` makes the same case anywhere (the browser test's portal)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.base import ContentFile

from apps.analyses.models import Analysis, PostScore, TextModel
from apps.collections.models import Account, Collection, Entity, Interaction, Post
from apps.jobs.models import Job
from apps.jobs.services import job_execute
from apps.notes.models import DisarmTactic, DisarmTechnique
from apps.notes.services import note_create, tag_add
from apps.pins.services import pin_create, storyline_set
from apps.reports.models import Report
from apps.reports.services import report_start
from tests.pins.conftest import png

SCRIPT = '<script>alert("report-xss")</script>'
NOTE_BODY = f"The **planted** community amplifies the dam story.\n\n{SCRIPT}\n\nSee [the post](https://evil.example/p/1)."
CAPTIONS = ("Burst of identical posts on 3 March", "Coordination network: the planted community")
T0 = datetime(2024, 3, 3, 12, 0, tzinfo=UTC)


def _analysis(inv, col, user, kind: str, result: dict, params: dict, summary: dict) -> Analysis:
    job = Job.objects.create(investigation=inv, kind=f"analysis:{kind}", status="succeeded", params={},
                             provenance={"code_version": "test", "inputs": [{"id": col.pk, "posts": 6}]},
                             started_at=T0, finished_at=T0 + timedelta(seconds=3))
    return Analysis.objects.create(investigation=inv, job=job, kind=kind, collection=col, created_by=user,
                                   params=params, result=result, summary=summary)


@pytest.fixture
def case(investigation, users):
    return case_make(investigation, users)


def case_make(inv, users) -> dict:
    """The case in ``inv`` (``users``: alice and bob by name); a plain function, so a browser test's portal can make
    it in its own database (``manage.py shell``)."""
    bob = users["bob"]
    col = Collection.objects.create(investigation=inv, name="takedown", stats={
        "posts": 6, "accounts": 3, "first_post": T0.isoformat(), "last_post": (T0 + timedelta(hours=2)).isoformat()})
    op1, op2, organic = (Account.objects.create(collection=col, platform_id=pid, handle=h, display_name=h.title())
                         for pid, h in (("101", "dam_truth"), ("102", "dam_facts"), ("103", "gardener")))
    posts = [Post.objects.create(collection=col, account=a, platform_id=f"p{i}", text=t, time=T0 + timedelta(minutes=i))
             for i, (a, t) in enumerate([(op1, "The dam deal is a scam #damdeal"), (op2, "The dam deal is a scam!"),
                                         (op1, "Share before they delete it"), (op2, "Wake up, dam deal"),
                                         (organic, "My tomatoes are early this year"), (organic, "Rain at last")])]
    url = Entity.objects.create(collection=col, kind="url", value="https://dam-leaks.example/story")
    Interaction.objects.create(collection=col, post=posts[0], source_account=op1, action="url", target_entity=url,
                               time=posts[0].time)
    model = TextModel.objects.create(investigation=inv, name="io-minilm", kind="encoder", base_model="bundled MiniLM",
                                     metrics={"auc": 0.912, "f1": 0.804, "n": 1200, "threshold": 0.5})
    scores = [0.97, 0.91, 0.88, 0.62, 0.08, 0.03]
    accounts = [{"account": "dam_truth", "account_id": op1.pk, "posts": 2, "mean": 0.925, "max": 0.97,
                 "share_above": 1.0, "labels": {}},
                {"account": "dam_facts", "account_id": op2.pk, "posts": 2, "mean": 0.765, "max": 0.91,
                 "share_above": 1.0, "labels": {}},
                {"account": "gardener", "account_id": organic.pk, "posts": 2, "mean": 0.055, "max": 0.08,
                 "share_above": 0.0, "labels": {}}]
    score = _analysis(inv, col, users["alice"], "score",
                      {"model": model.pk, "model_name": model.name, "threshold": 0.5, "posts": 6, "accounts_scored": 3,
                       "above_threshold": 4, "accounts": accounts, "per_post_stored": "all"},
                      {"model": model.pk, "threshold": 0.5, "max_posts": 20000}, {"model": model.name, "posts": 6})
    PostScore.objects.bulk_create([PostScore(analysis=score, post=p, account_id=p.account_id, score=s)
                                   for p, s in zip(posts, scores, strict=True)])
    network = _analysis(inv, col, users["alice"], "coordination", {
        "nodes": [{"id": a.pk, "handle": a.handle, "influence": w, "community": c}
                  for a, w, c in ((op1, 5.0, 0), (op2, 3.0, 0), (organic, 0.0, 1))],
        "edges": [{"source": op1.pk, "target": op2.pk, "weight": 4.0, "significant": True},
                  {"source": op2.pk, "target": organic.pk, "weight": 0.5, "significant": True}],
        "communities": [{"community": 0, "size": 2, "accounts": [{"id": op1.pk, "handle": "dam_truth"},
                                                                 {"id": op2.pk, "handle": "dam_facts"}],
                         "top_entities": [{"entity": "#damdeal", "count": 2}]},
                        {"community": 1, "size": 1, "accounts": [{"id": organic.pk, "handle": "gardener"}]}],
        "communities_total": 2, "edges_total": 2}, {"bin_seconds": 60}, {"communities": 2})
    tactic = DisarmTactic.objects.create(external_id="TA17", name="Maximise Exposure", shortname="maximise-exposure")
    DisarmTechnique.objects.create(external_id="T0049", name="Flood Information Space", tactic=tactic)
    note = note_create(investigation=inv, user=bob, body=NOTE_BODY)
    tag_add(investigation=inv, user=bob, technique="T0049", target_type="note", target={"note": note.pk},
            procedure="Identical posts within a minute")
    tag_add(investigation=inv, user=bob, technique="T0049", target_type="account", target={"account": op1.pk},
            procedure="Seeds the burst")
    first = pin_create(investigation=inv, user=bob, caption=CAPTIONS[0], state="collection=1&q=dam",
                       thumbnail_png=png())
    second = pin_create(investigation=inv, user=bob, caption=CAPTIONS[1], state=f"net={network.pk}",
                        thumbnail_png=png(600))
    storyline_set(investigation=inv, user=bob, items=[{"pin": second.pk}, {"note": note.pk, "text": "Then we read it."},
                                                      {"pin": first.pk}])
    return {"inv": inv, "col": col, "score": score, "network": network, "note": note, "pins": (second, first),
            "accounts": (op1, op2, organic), "url": url}


@pytest.fixture
def build(case, users):
    """Run a report job here, as bob, and return the Report (its job must succeed)."""

    def run(fmt: str, sections=(), **options) -> Report:
        job = report_start(investigation=case["inv"], user=users["bob"], format=fmt, sections=list(sections),
                           base_url="http://testserver/", enqueue=False, **options)
        job = job_execute(job_id=job.pk)
        assert job.status == "succeeded", job.error
        return Report.objects.get(job=job)

    return run


def read(report: Report) -> bytes:
    with report.file.open("rb") as handle:
        return handle.read()


def stored_report(investigation, user) -> Report:
    """A report row with a small file, without running a job (for the authorization matrix)."""
    report = Report(investigation=investigation, format="html", sections=["summary"], size=15, created_by=user)
    report.file.save("matrix.html", ContentFile(b"<html></html>\n"), save=True)
    return report
