"""Every API route of an investigation: 404 for non-members, 403 for too-low roles."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse

from apps.collections.models import Collection, ImportFile, RejectedRow
from apps.jobs.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def objects(investigation, users):
    collection = Collection.objects.create(investigation=investigation, name="takedown")
    import_file = ImportFile.objects.create(collection=collection, name="a.csv", status="done")
    RejectedRow.objects.create(import_file=import_file, line=7, field="publish_date", reason="not a date")
    failed = Job.objects.create(investigation=investigation, kind="import", status="failed", params={})
    running = Job.objects.create(investigation=investigation, kind="import", status="running", params={})
    return {
        "inv": investigation.pk,
        "col": collection.pk,
        "file": import_file.pk,
        "failed": failed.pk,
        "running": running.pk,
    }


def read_routes(o):
    return [
        reverse("api-investigation-detail", args=[o["inv"]]),
        reverse("api-member-list", args=[o["inv"]]),
        reverse("api-collection-list", args=[o["inv"]]),
        reverse("api-job-list", args=[o["inv"]]),
        reverse("api-collection-detail", args=[o["col"]]),
        reverse("api-post-list", args=[o["col"]]),
        reverse("api-account-list", args=[o["col"]]),
        reverse("api-import-file-list", args=[o["col"]]),
        reverse("api-rejected-row-list", args=[o["file"]]),
        reverse("api-job-detail", args=[o["failed"]]),
    ]


def write_routes(o):
    return [
        ("post", reverse("api-import-start", args=[o["inv"]]), "editor"),
        ("post", reverse("api-job-cancel", args=[o["running"]]), "editor"),
        ("post", reverse("api-job-retry", args=[o["failed"]]), "editor"),
        ("post", reverse("api-member-list", args=[o["inv"]]), "owner"),
        ("delete", reverse("api-member-detail", args=[o["inv"], "carol"]), "owner"),
        ("delete", reverse("api-collection-detail", args=[o["col"]]), "owner"),
        ("delete", reverse("api-investigation-detail", args=[o["inv"]]), "owner"),
    ]


def test_it_hides_every_route_of_an_investigation_from_non_members(api_for, objects):
    mallory = api_for("mallory")
    for url in read_routes(objects):
        assert mallory.get(url).status_code == 404, url
    for method, url, _ in write_routes(objects):
        assert getattr(mallory, method)(url).status_code == 404, url
    assert Job.objects.get(pk=objects["running"]).cancel_requested is False


def test_it_lists_only_the_users_own_investigations(api_for, objects):
    names = [row["name"] for row in api_for("mallory").get(reverse("api-investigation-list")).json()]
    assert names == ["Mallory's own"]


def test_a_viewer_reads_but_cannot_upload_run_or_share(api_for, objects):
    carol = api_for("carol")
    for url in read_routes(objects):
        assert carol.get(url).status_code == 200, url
    for method, url, _ in write_routes(objects):
        assert getattr(carol, method)(url).status_code == 403, url
    assert Job.objects.count() == 2 and Collection.objects.filter(pk=objects["col"]).exists()


def test_an_editor_cannot_share_or_delete(api_for, objects):
    bob = api_for("bob")
    for method, url, role in write_routes(objects):
        if role == "owner":
            assert getattr(bob, method)(url).status_code == 403, url


def test_anonymous_requests_are_refused(client, objects):
    for url in read_routes(objects):
        assert client.get(url).status_code in (401, 403), url


def test_the_rejected_rows_say_where_and_why(api_for, objects):
    rows = api_for("alice").get(reverse("api-rejected-row-list", args=[objects["file"]])).json()
    assert rows == [{"line": 7, "field": "publish_date", "reason": "not a date"}]


def test_an_owner_shares_and_the_new_member_sees_it(api_for, objects):
    alice = api_for("alice")
    resp = alice.post(reverse("api-member-list", args=[objects["inv"]]), {"username": "mallory", "role": "viewer"})
    assert resp.status_code == 201
    assert api_for("mallory").get(reverse("api-collection-detail", args=[objects["col"]])).status_code == 200


def test_the_last_owner_cannot_be_demoted(api_for, objects):
    resp = api_for("alice").post(
        reverse("api-member-list", args=[objects["inv"]]), {"username": "alice", "role": "viewer"}
    )
    assert resp.status_code == 400 and "at least one owner" in resp.json()["role"][0]


def test_an_editor_uploads_and_gets_a_queued_import_job(api_for, objects, django_capture_on_commit_callbacks):
    upload = io.BytesIO(b"external_author_id,author,content,publish_date\n1,a,hello,2016-01-01 10:00:00\n")
    upload.name = "tiny.csv"
    with django_capture_on_commit_callbacks() as callbacks:
        resp = api_for("bob").post(
            reverse("api-import-start", args=[objects["inv"]]),
            {"files": [upload], "collection": "tiny"},
            format="multipart",
        )
    assert resp.status_code == 201, resp.content
    job = Job.objects.get(pk=resp.json()["id"])
    assert (job.kind, job.status, job.params["files"][0]["name"]) == ("import", "queued", "tiny.csv")
    assert len(callbacks) == 1


def test_the_openapi_schema_lists_the_routes(api_for, objects):
    schema = api_for("alice").get(reverse("api-schema")).content.decode()
    assert "/api/investigations/{id}/imports/" in schema or "/api/investigations/{pk}/imports/" in schema


def test_the_api_docs_page_loads_its_assets_locally(client_for, objects):
    html = client_for("alice").get(reverse("api-docs")).content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower() and "https://" not in html
