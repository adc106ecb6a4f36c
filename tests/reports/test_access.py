"""Who may build and read reports: Bob (editor) builds, Carol (viewer) reads and downloads reports and network exports
but cannot build, Mallory (no member) gets 404 from every report and export URL, as if nothing existed."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse

from apps.audit.models import AuditEntry
from apps.jobs.models import Job
from tests.reports.conftest import stored_report

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def report(investigation, users):
    return stored_report(investigation, users["bob"])


def urls(investigation, report) -> list[str]:
    return [reverse("report-list", args=[investigation.pk]), reverse("report-download", args=[report.pk]),
            reverse("api-report-list", args=[investigation.pk]), reverse("api-report-detail", args=[report.pk])]


def test_a_non_member_gets_404_from_every_report_url(investigation, report, client_for, api_for):
    client, api = client_for("mallory"), api_for("mallory")
    for url in urls(investigation, report):
        assert (api if url.startswith("/api/") else client).get(url).status_code == 404, url
    assert client.post(reverse("report-list", args=[investigation.pk]), {"format": "html"}).status_code == 404
    assert api.post(reverse("api-report-list", args=[investigation.pk]), {"format": "html"}).status_code == 404
    assert not Job.objects.filter(kind="report").exists()


def test_a_viewer_reads_and_downloads_but_cannot_build(investigation, report, client_for, api_for, users):
    client, api = client_for("carol"), api_for("carol")
    page = client.get(reverse("report-list", args=[investigation.pk]))
    assert page.status_code == 200 and b'data-testid="report-form"' not in page.content
    download = client.get(reverse("report-download", args=[report.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"<html></html>\n"
    assert download["Content-Disposition"].startswith("attachment;") and download["X-Content-Type-Options"] == "nosniff"
    listed = api.get(reverse("api-report-list", args=[investigation.pk])).json()
    assert [r["download_url"] for r in listed] == [reverse("report-download", args=[report.pk])]
    assert client.post(reverse("report-list", args=[investigation.pk]),
                       {"format": "html", "sections": ["summary"]}).status_code == 403
    assert api.post(reverse("api-report-list", args=[investigation.pk]), {"format": "html"},
                    format="json").status_code == 403
    assert not Job.objects.filter(kind="report").exists()
    export = AuditEntry.objects.get(action="export")
    assert (export.actor, export.object_id, export.detail["what"]) == (users["carol"], report.pk, "report")


def test_an_editor_starts_a_report_job_from_the_page_and_the_api(investigation, client_for, api_for):
    page = client_for("bob").post(reverse("report-list", args=[investigation.pk]),
                                  {"format": "pdf", "sections": ["storyline", "audit"]})
    assert page.status_code == 302
    job = Job.objects.get(kind="report")
    assert job.params == {"format": "pdf", "sections": ["storyline", "audit"], "base_url": "http://testserver/",
                          "min_weight": 0.0}
    started = api_for("bob").post(reverse("api-report-list", args=[investigation.pk]),
                                  {"format": "stix", "min_weight": 2}, format="json")
    assert started.status_code == 202 and started.json()["job"] == Job.objects.latest("id").pk
    assert Job.objects.latest("id").params["sections"] == ["storyline", "flagged", "communities", "disarm"]


def test_a_bad_choice_is_a_400_naming_the_field(investigation, client_for, api_for):
    page = client_for("bob").post(reverse("report-list", args=[investigation.pk]), {"format": "docx"})
    assert page.status_code == 400 and b'data-testid="error-format"' in page.content
    api = api_for("bob").post(reverse("api-report-list", args=[investigation.pk]),
                              {"format": "html", "sections": ["gossip"]}, format="json")
    assert api.status_code == 400 and "sections" in api.json()
    assert not Job.objects.filter(kind="report").exists()


def test_the_page_links_each_network_as_gexf_and_graphml_and_a_viewer_downloads_them(case, client_for):
    import networkx as nx

    client, network = client_for("carol"), case["network"].pk
    page = client.get(reverse("report-list", args=[case["inv"].pk]))
    rows = page.content.decode().count('data-testid="network-export-row"')
    assert page.status_code == 200 and rows == 1
    for fmt, read in (("gexf", nx.read_gexf), ("graphml", nx.read_graphml)):
        url = reverse("analysis-export", args=[network, fmt])
        assert f'href="{url}" data-testid="network-export-{fmt}"' in page.content.decode()
        graph = read(io.BytesIO(client.get(url).content))
        assert graph.number_of_nodes() == 3 and graph.number_of_edges() == 2


def test_a_non_member_gets_404_for_every_exchange_file_and_network_export(case, build, client_for, api_for):
    reports = [build(fmt) for fmt in ("stix", "misp", "csv", "csv_accounts", "parquet", "parquet_accounts")]
    client, api = client_for("mallory"), api_for("mallory")
    for report in reports:
        assert client.get(reverse("report-download", args=[report.pk])).status_code == 404, report.format
        assert api.get(reverse("api-report-detail", args=[report.pk])).status_code == 404, report.format
    for fmt in ("gexf", "graphml", "csv"):
        assert client.get(reverse("analysis-export", args=[case["network"].pk, fmt])).status_code == 404, fmt
    assert not AuditEntry.objects.filter(action="export").exists()


def test_a_viewer_downloads_a_parquet_report_but_cannot_build_one(case, build, client_for, api_for):
    import pyarrow.parquet as pq

    report = build("parquet_accounts")
    download = client_for("carol").get(reverse("report-download", args=[report.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(b"".join(download.streaming_content)))
    assert table.column("handle").to_pylist() == ["dam_truth", "dam_facts"]
    started = Job.objects.count()
    assert client_for("carol").post(reverse("report-list", args=[case["inv"].pk]),
                                    {"format": "parquet", "sections": ["flagged"]}).status_code == 403
    assert api_for("carol").post(reverse("api-report-list", args=[case["inv"].pk]), {"format": "parquet_accounts"},
                                 format="json").status_code == 403
    assert Job.objects.count() == started
