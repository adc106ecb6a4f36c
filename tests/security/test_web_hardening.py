"""The web findings: malformed requests are 400/404 with a message (never a 500), CSV downloads cannot
run formulas, job params hide the server's paths, the schema is for members, every page sends a CSP,
and production settings serve /login/ before collectstatic."""
from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from apps.collections.models import Account, Collection, ImportFile, Post, RejectedRow
from apps.common.csvfile import csv_text, safe_cell
from apps.common.ids import id_param
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db
HUGE = "100000000000000000000"  # 10**20: past a signed 64-bit id


@pytest.fixture
def collection(investigation):
    collection = Collection.objects.create(investigation=investigation, name="takedown")
    account = Account.objects.create(collection=collection, platform_id="1", handle="=HYPERLINK(\"http://x\")")
    Post.objects.create(collection=collection, account=account, platform_id="p1", text="hi", time=timezone.now())
    return collection


@pytest.fixture
def quiet_client():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", [
    f"/api/investigations/{HUGE}/", f"/api/jobs/{HUGE}/", f"/api/collections/{HUGE}/posts/",
    f"/api/analyses/{HUGE}/", f"/investigations/{HUGE}/", f"/collections/{HUGE}/posts/", f"/jobs/{HUGE}/",
    f"/models/{HUGE}/", f"/analyses/{HUGE}/",
])
def test_it_answers_404_for_ids_past_the_database_range(users, quiet_client, url):
    quiet_client.force_login(users["alice"])
    assert quiet_client.get(url).status_code == 404


def test_the_id_converter_keeps_the_largest_id():
    assert reverse("api-job-detail", args=[2**63 - 1]) == f"/api/jobs/{2**63 - 1}/"


@pytest.mark.parametrize("value", ["²", HUGE, "10^20", "-1", "0", "abc"])
def test_it_answers_400_with_a_message_for_a_malformed_account_filter(users, collection, quiet_client, value):
    quiet_client.force_login(users["alice"])
    page = quiet_client.get(f"/collections/{collection.pk}/posts/", {"account": value})
    assert page.status_code == 400 and "is not an id" in page.content.decode()
    api = quiet_client.get(f"/api/collections/{collection.pk}/posts/", {"account": value})
    assert api.status_code == 400 and "is not an id" in json.dumps(api.json())


def test_it_still_filters_posts_by_a_good_account_id(users, collection, client_for):
    account = Account.objects.get(collection=collection)
    url = f"/api/collections/{collection.pk}/posts/"
    assert client_for("alice").get(url, {"account": account.pk}).json()["count"] == 1
    assert client_for("alice").get(url, {"account": ""}).json()["count"] == 1


def test_the_id_parser_reads_ids_and_nothing_else():
    assert id_param(None, name="account") is None and id_param(" 7 ", name="account") == 7
    assert id_param(str(2**63 - 1), name="a") == 2**63 - 1
    with pytest.raises(Exception, match="account"):
        id_param(str(2**63), name="account")


def test_it_answers_400_to_an_import_with_no_body(users, investigation, quiet_client):
    quiet_client.force_login(users["alice"])
    url = f"/api/investigations/{investigation.pk}/imports/"
    response = quiet_client.generic("POST", url)  # no body, no Content-Type (curl -X POST)
    assert response.status_code == 400 and "files" in response.json()
    assert quiet_client.post(url).status_code == 400  # an empty form


def test_it_answers_400_to_json_nested_past_the_recursion_limit(users, investigation, quiet_client):
    quiet_client.force_login(users["alice"])
    response = quiet_client.post(f"/api/investigations/{investigation.pk}/members/", "[" * 100_000,
                                 content_type="application/json")
    assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]


def test_the_csv_writer_neutralises_formulas_and_keeps_numbers():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-x", "@SUM(A1)", "\tx", "\rx", "ok", -1.5, 3)] == [
        "'=1+1", "'+1", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "ok", -1.5, 3]
    assert csv_text([["=HYPERLINK(\"http://evil\")", 2]]).startswith("\"'=HYPERLINK(")


def test_the_rejected_rows_download_neutralises_formulas(users, collection, client_for):
    import_file = ImportFile.objects.create(collection=collection, name="=1+1.csv", status="done")
    RejectedRow.objects.create(import_file=import_file, line=7, field="@handle", reason="-bad")
    body = b"".join(client_for("carol").get(f"/imports/{import_file.pk}/rejected.csv").streaming_content).decode()
    assert "'=1+1.csv,7,'@handle,'-bad" in body


def test_job_params_show_file_names_not_server_paths(users, investigation, client_for):
    params = {"collection_id": 1, "files": [{"path": "/srv/murmuration/var/media/uploads/ab12/takedown.csv",
                                             "name": "takedown.csv"}]}
    job = Job.objects.create(investigation=investigation, kind="import", status="succeeded", params=params)
    api = client_for("carol").get(f"/api/jobs/{job.pk}/").json()
    assert api["params"]["files"] == [{"path": "takedown.csv", "name": "takedown.csv"}]
    page = client_for("carol").get(f"/jobs/{job.pk}/").content.decode()
    assert "/srv/murmuration" not in page and "takedown.csv" in page
    job.refresh_from_db()
    assert job.params == params  # the worker still reads the full path


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_schema_and_docs_are_for_logged_in_users(users, client, url):
    assert client.get(url).status_code in (401, 403)
    client.force_login(users["carol"])
    assert client.get(url).status_code == 200


def test_every_page_sends_a_content_security_policy(users, investigation, collection, client_for):
    client = client_for("alice")
    for url in ["/", f"/investigations/{investigation.pk}/", f"/collections/{collection.pk}/",
                f"/collections/{collection.pk}/posts/", "/api/investigations/"]:
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy, url
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0], url
    assert "Content-Security-Policy" in Client().get("/login/")


def test_login_works_in_production_settings_before_collectstatic(tmp_path):
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "apps.common.storage.StaticFilesStorage"}}
    with override_settings(DEBUG=False, STORAGES=storages, STATIC_ROOT=tmp_path / "static"):
        response = Client(raise_request_exception=False).get("/login/")
    assert response.status_code == 200


def test_the_collectstatic_check_says_what_to_run(tmp_path):
    from apps.common.checks import collectstatic_ran

    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "apps.common.storage.StaticFilesStorage"}}
    with override_settings(DEBUG=False, STORAGES=storages, STATIC_ROOT=tmp_path / "static"):
        warnings = collectstatic_ran(None)
    assert [w.id for w in warnings] == ["common.W001"] and "collectstatic" in warnings[0].hint


@pytest.mark.parametrize("debug", [True, False])
def test_static_paths_cannot_climb_out(debug, quiet_client):
    with override_settings(DEBUG=debug):
        for url in ["/static/%2e%2e/%2e%2e/var/murmuration.sqlite3", "/static/..%2f..%2fvar/murmuration.sqlite3"]:
            assert quiet_client.get(url).status_code == 404


@pytest.mark.parametrize("kind", ["coordination", "coaction", "hashtag_network", "retweet_network"])
def test_every_network_export_neutralises_formulas(users, investigation, collection, client_for, kind):
    from apps.analyses.models import Analysis

    account = Account.objects.get(collection=collection)
    job = Job.objects.create(investigation=investigation, kind=f"analysis:{kind}", status="succeeded", params={})
    nodes = [{"id": account.pk, "handle": account.handle}, {"id": "=1+1", "handle": "@cmd|' /C calc'!A0"}]
    edges = [{"source": account.pk, "target": "=1+1", "weight": 3}]
    analysis = Analysis.objects.create(investigation=investigation, job=job, kind=kind, collection=collection,
                                       result={"nodes": nodes, "edges": edges}, summary={})
    answer = client_for("carol").get(reverse("analysis-export", args=[analysis.pk, "csv"]))
    rows = answer.content.decode().splitlines()
    assert answer.status_code == 200 and len(rows) == 2
    assert "'=1+1" in rows[1] and "'=HYPERLINK" in rows[1] and "'@cmd" in rows[1]
    assert not any(cell.startswith(("=", "@", "+", "-")) for cell in rows[1].replace('"', "").split(","))
