"""The audit trail: every change leaves one entry (who, when, what, on which object); members read it on a
page, as CSV and over the API; nothing edits or deletes an entry but the investigation's own deletion.

Alice owns "Operation Ghostwriter", Bob edits it, Carol views it; Mallory is no member."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.analyses.models import Analysis, TextModel
from apps.analyses.services import analysis_start
from apps.audit.models import AppendOnlyError, AuditEntry
from apps.audit.services import audit_record
from apps.collections.models import Collection
from apps.collections.services import collection_delete, upload_import_start
from apps.investigations.services import investigation_delete
from apps.jobs.models import Job
from apps.jobs.services import job_create
from tests.analyses.coordination_data import BIN_SECONDS, EVENT_DATE, store_coordination_collection

pytestmark = pytest.mark.django_db
# Every default given, so no check imports the influence model (scipy: about 5 s) just to read one.
PARAMS = {"bin_seconds": BIN_SECONDS, "event_date": EVENT_DATE, "alpha": 0.05}


def entries(investigation, **filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(investigation=investigation, **filters))


def only_new(investigation, before: int) -> AuditEntry:
    """The one entry written since ``before`` entries existed (fails when there are none or several)."""
    rows = list(AuditEntry.objects.filter(investigation=investigation).order_by("id"))[before:]
    assert len(rows) == 1, [(e.action, e.summary) for e in rows]
    return rows[0]


def count(investigation) -> int:
    return AuditEntry.objects.filter(investigation=investigation).count()


@pytest.fixture
def collection(investigation):
    return Collection.objects.create(investigation=investigation, name="riverton")


@pytest.fixture
def failed_job(investigation, users):
    # A kind every analysis registers; the row is only marked failed, never run.
    job = job_create(investigation=investigation, kind="analysis:coordination", params={}, user=users["bob"],
                     enqueue=False)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, finished_at=timezone.now())
    return job


@pytest.fixture
def analysis(investigation, users, collection):
    store_coordination_collection(collection)
    job = analysis_start(investigation=investigation, user=users["bob"], kind="coordination", collection=collection,
                         params=PARAMS, enqueue=False)
    result = {"nodes": [{"id": 1, "handle": "=HYPERLINK(\"http://x\")"}], "edges": [{"source": 1, "target": 1}]}
    return Analysis.objects.create(investigation=investigation, job=job, kind="coordination", collection=collection,
                                   params={}, result=result, summary={})


# --- every wired action writes exactly one entry ---------------------------------------------------------


def test_it_records_an_upload_as_an_import_start(investigation, users):
    before = count(investigation)
    upload = SimpleUploadedFile("posts.csv", b"user,message\nann,hi\n", content_type="text/csv")
    job = upload_import_start(investigation=investigation, user=users["bob"], files=[upload], enqueue=False)
    entry = only_new(investigation, before)
    assert (entry.action, entry.actor, entry.actor_name) == ("import.start", users["bob"], "bob")
    assert (entry.object_type, entry.object_id) == ("job", job.pk)
    assert entry.detail["files"] == ["posts.csv"]  # the name, never the server path


def test_it_records_a_collection_deletion_through_the_api(api_for, investigation, users, collection):
    before = count(investigation)
    response = api_for("alice").delete(reverse("api-collection-detail", args=[collection.pk]))
    assert response.status_code == 204
    entry = only_new(investigation, before)
    assert (entry.action, entry.actor, entry.object_type, entry.object_id) == (
        "collection.delete", users["alice"], "collection", collection.pk)
    assert "riverton" in entry.summary


def test_it_records_a_job_cancel_and_a_retry_through_the_pages(client_for, investigation, users, failed_job):
    queued = job_create(investigation=investigation, kind="analysis:coordination", params={}, enqueue=False)
    client = client_for("bob")
    before = count(investigation)
    assert client.post(reverse("job-cancel", args=[queued.pk])).status_code == 302
    entry = only_new(investigation, before)
    assert (entry.action, entry.actor, entry.object_id) == ("job.cancel", users["bob"], queued.pk)
    before = count(investigation)
    assert client.post(reverse("job-retry", args=[failed_job.pk])).status_code == 302
    entry = only_new(investigation, before)
    retry = Job.objects.get(retried_from=failed_job)
    assert (entry.action, entry.object_type, entry.object_id) == ("job.retry", "job", retry.pk)
    assert entry.detail["retried_from"] == failed_job.pk


def test_a_cancel_with_nothing_to_cancel_records_nothing(client_for, investigation, failed_job):
    before = count(investigation)
    client_for("bob").post(reverse("job-cancel", args=[failed_job.pk]))
    assert count(investigation) == before


def test_it_records_an_analysis_start(investigation, users, collection):
    store_coordination_collection(collection)
    before = count(investigation)
    job = analysis_start(investigation=investigation, user=users["bob"], kind="coordination", collection=collection,
                         params=PARAMS, enqueue=False)
    entry = only_new(investigation, before)
    assert (entry.action, entry.actor, entry.object_id) == ("analysis.start", users["bob"], job.pk)
    assert entry.detail["kind"] == "coordination"


def test_it_records_a_text_model_deletion(client_for, investigation, users):
    model = TextModel.objects.create(investigation=investigation, name="troll detector", kind="encoder",
                                     base_model="bundled MiniLM")
    before = count(investigation)
    assert client_for("bob").post(reverse("text-model-delete", args=[model.pk])).status_code == 302
    entry = only_new(investigation, before)
    assert (entry.action, entry.actor, entry.object_type, entry.object_id) == (
        "model.delete", users["bob"], "textmodel", model.pk)


def test_it_records_membership_changes_by_who_made_them(api_for, investigation, users):
    api = api_for("alice")
    url = reverse("api-member-list", args=[investigation.pk])
    before = count(investigation)
    assert api.post(url, {"username": "mallory", "role": "viewer"}, format="json").status_code == 201
    added = only_new(investigation, before)
    assert (added.action, added.actor, added.detail["username"], added.detail["previous_role"]) == (
        "member.set", users["alice"], "mallory", None)
    before = count(investigation)
    api.post(url, {"username": "mallory", "role": "viewer"}, format="json")  # no change: no entry
    assert count(investigation) == before
    response = api.delete(reverse("api-member-detail", args=[investigation.pk, "mallory"]))
    assert response.status_code == 204
    removed = only_new(investigation, before)
    assert (removed.action, removed.actor, removed.detail) == (
        "member.remove", users["alice"], {"username": "mallory", "role": "viewer"})


def test_it_records_exports_with_their_format(client_for, investigation, users, analysis):
    client = client_for("carol")  # a viewer may export, and is recorded doing so
    before = count(investigation)
    assert client.get(reverse("analysis-export", args=[analysis.pk, "csv"])).status_code == 200
    entry = only_new(investigation, before)
    assert (entry.action, entry.actor, entry.object_type, entry.object_id, entry.detail) == (
        "export", users["carol"], "analysis", analysis.pk, {"format": "csv"})


def test_it_records_a_post_scores_export(client_for, investigation, users, analysis):
    Analysis.objects.filter(pk=analysis.pk).update(kind="score")
    before = count(investigation)
    response = client_for("carol").get(reverse("analysis-post-scores-csv", args=[analysis.pk]))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    entry = only_new(investigation, before)
    assert (entry.action, entry.actor, entry.detail) == ("export", users["carol"], {"format": "csv"})


def test_a_refused_change_records_nothing(api_for, investigation):
    before = count(investigation)
    response = api_for("alice").delete(reverse("api-member-detail", args=[investigation.pk, "alice"]))
    assert response.status_code == 400  # the last owner stays
    assert count(investigation) == before


# --- who may read it -------------------------------------------------------------------------------------


def urls(investigation) -> dict[str, str]:
    return {
        "page": reverse("audit-list", args=[investigation.pk]),
        "csv": reverse("audit-csv", args=[investigation.pk]),
        "api": reverse("api-audit-list", args=[investigation.pk]),
    }


def test_a_viewer_reads_the_page_the_csv_and_the_api(client_for, api_for, investigation):
    client = client_for("carol")
    page = client.get(urls(investigation)["page"])
    assert page.status_code == 200 and "Added carol as viewer." in page.content.decode()
    assert client.get(reverse("investigation-detail", args=[investigation.pk])).content.decode().count(
        urls(investigation)["page"]) == 1
    csv_response = client.get(urls(investigation)["csv"])
    assert csv_response.status_code == 200 and csv_response["Content-Type"].startswith("text/csv")
    body = api_for("carol").get(urls(investigation)["api"]).json()
    assert body["count"] == 4  # created; bob and carol added; the CSV export just made
    assert body["results"][0]["action"] == "export"
    assert {"id", "at", "actor", "action", "object_type", "object_id", "summary", "detail"} == set(body["results"][0])


def test_it_hides_the_trail_from_non_members(client_for, api_for, investigation):
    client = client_for("mallory")
    for name, url in urls(investigation).items():
        response = (api_for("mallory") if name == "api" else client).get(url)
        assert response.status_code == 404, name
    assert client.get(reverse("audit-list", args=[9_999_999])).status_code == 404


def test_it_sends_anonymous_visitors_to_log_in(client, investigation):
    assert client.get(urls(investigation)["page"]).status_code == 302
    assert client.get(urls(investigation)["csv"]).status_code == 302
    assert client.get(urls(investigation)["api"]).status_code in (401, 403)


# --- append-only -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch", "delete", "post"])
def test_no_route_changes_or_deletes_an_entry(client_for, api_for, investigation, method):
    entry = entries(investigation)[0]
    snapshot = list(AuditEntry.objects.values_list("id", "summary", "action"))
    api = api_for("alice")
    response = getattr(api, method)(urls(investigation)["api"], {"summary": "edited"}, format="json")
    assert response.status_code == 405
    response = getattr(api, method)(f"{urls(investigation)['api']}{entry.pk}/", {"summary": "x"}, format="json")
    assert response.status_code == 404
    client = client_for("alice")
    for name in ("page", "csv"):
        assert getattr(client, method)(urls(investigation)[name]).status_code == 405, name
    assert list(AuditEntry.objects.values_list("id", "summary", "action")) == snapshot


def test_the_orm_refuses_to_edit_or_delete_an_entry(investigation):
    entry = entries(investigation, action="investigation.create")[0]
    entry.summary = "nothing happened"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(summary="nothing happened")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(investigation=investigation).delete()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["summary"])
    entry.refresh_from_db()
    assert entry.summary == "Created the investigation “Operation Ghostwriter”."


def test_deleting_the_investigation_takes_its_trail_and_no_other(investigation, users):
    other = AuditEntry.objects.exclude(investigation=investigation).count()
    assert count(investigation) and other
    investigation_delete(investigation=investigation)
    assert not AuditEntry.objects.filter(investigation_id=investigation.pk).exists()
    assert AuditEntry.objects.count() == other


def test_a_deleted_user_still_reads_by_name(investigation, users):
    audit_record(investigation=investigation, user=users["bob"], action="note.add", summary="Bob wrote a note.")
    users["bob"].delete()
    entry = AuditEntry.objects.get(action="note.add")
    assert (entry.actor, entry.actor_name) == (None, "bob")


# --- the CSV and the filters -----------------------------------------------------------------------------


def test_the_csv_neutralises_formula_like_text(client_for, investigation, users):
    collection = Collection.objects.create(investigation=investigation, name='=HYPERLINK("http://evil/","x")')
    collection_delete(collection=collection, user=users["alice"])
    response = client_for("carol").get(urls(investigation)["csv"])
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "at", "actor", "action", "object_type", "object_id", "summary", "detail"]
    deleted = next(row for row in rows if row[3] == "collection.delete")
    assert deleted[6].startswith("Deleted the collection")  # the name sits inside the sentence...
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    audit_record(investigation=investigation, user=None, action="note.add", summary="=1+1")
    response = client_for("carol").get(urls(investigation)["csv"] + "?action=note")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[1][6] == "'=1+1"  # ...and a summary that starts like a formula is quoted


def test_filters_narrow_by_action_family_actor_and_day(client_for, api_for, investigation, users):
    audit_record(investigation=investigation, user=users["bob"], action="note.add", summary="A note.")
    audit_record(investigation=investigation, user=users["bob"], action="note.delete", summary="No note.")
    old = audit_record(investigation=investigation, user=users["alice"], action="note.add", summary="Old note.")
    # The base manager is a plain one (a deleted user's SET_NULL goes through it): the test backdates with it.
    AuditEntry._base_manager.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=10))
    api = api_for("carol")
    url = urls(investigation)["api"]

    def summaries(**query):
        response = api.get(url, query)
        assert response.status_code == 200, response.content
        return [row["summary"] for row in response.json()["results"]]

    assert summaries(action="note") == ["No note.", "A note.", "Old note."]
    assert summaries(action="note.add") == ["A note.", "Old note."]
    assert summaries(action="note", actor="bob") == ["No note.", "A note."]
    today = timezone.localdate()
    assert summaries(action="note", since=today.isoformat()) == ["No note.", "A note."]
    assert summaries(action="note", until=(today - timedelta(days=5)).isoformat()) == ["Old note."]
    assert api.get(url, {"since": "yesterday"}).status_code == 400
    page = client_for("carol").get(urls(investigation)["page"], {"action": "note", "actor": "bob"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "A note." in text and "No note." in text and "Old note." not in text and "Added carol" not in text
    bad = client_for("carol").get(urls(investigation)["page"], {"since": "2026-02-02", "until": "2026-01-01"})
    assert bad.status_code == 400
    assert client_for("carol").get(urls(investigation)["csv"], {"action": "nonsense"}).status_code == 400


def test_the_page_paginates(client_for, investigation):
    for i in range(60):
        audit_record(investigation=investigation, user=None, action="note.add", summary=f"Note {i}.")
    first = client_for("carol").get(urls(investigation)["page"], {"action": "note"}).content.decode()
    assert "Note 59." in first and "Note 9." not in first and "Page 1 of 2" in first
    second = client_for("carol").get(urls(investigation)["page"], {"action": "note", "page": 2}).content.decode()
    assert "Note 9." in second


def test_it_stores_a_nul_as_text_so_postgresql_takes_it(investigation):
    entry = audit_record(investigation=investigation, user=None, action="import.start", summary="a\x00b",
                         detail={"files": ["x\x00.csv"]})
    entry.refresh_from_db()
    assert (entry.summary, entry.detail, entry.actor_name) == ("a\\x00b", {"files": ["x\\x00.csv"]}, "")
