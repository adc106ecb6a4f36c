"""The report as a document: HTML that asks nothing of any server and tells the storyline in order, a PDF with
page numbers and contents that carries the captions but never a note's script, Markdown with its figures."""
from __future__ import annotations

import io
import json
import re
import zipfile
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from apps.audit.models import AuditEntry
from apps.reports.rendering import note_report_html
from tests.pins.conftest import png
from tests.reports.conftest import CAPTIONS, SCRIPT, read

pytestmark = pytest.mark.django_db


class Links(HTMLParser):
    """Every URL the document names (src, href, srcset, url(...) in styles) and every tag it opens."""

    def __init__(self):
        super().__init__()
        self.urls, self.tags, self.steps = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        self.urls += [attrs[k] for k in ("src", "href", "srcset", "action", "data") if attrs.get(k)]
        if tag == "li" and "data-step" in attrs:
            self.steps.append(attrs["data-kind"])


def test_the_html_report_asks_no_other_host_and_tells_the_storyline_in_order(build, case):
    report = build("html")
    text = read(report).decode()
    links = Links()
    links.feed(text)
    other_hosts = [u for u in links.urls if urlsplit(u).scheme in ("http", "https")
                   and urlsplit(u).netloc != "testserver"]
    assert other_hosts == []
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)  # nor in the inline CSS
    images = [u for u in links.urls if u.startswith("data:image/png;base64,")]
    assert len(images) == 2 and "script" not in links.tags and "<script" not in text.lower()
    assert links.steps == ["pin", "note", "pin"]
    second, first = (text.index(caption) for caption in reversed(CAPTIONS))
    assert second < text.index("amplifies the dam story") < first  # the storyline's order, not the pins' creation order
    assert "<strong>planted</strong>" in text and "report-xss" not in text and "[script removed]" in text
    assert "https://evil.example/p/1" in text  # the link's address stays, as text
    assert f'href="http://testserver/investigations/{case["inv"].pk}/workspace/?net=' in text  # reopens the view
    assert "T0049" in text and "dam_truth" in text and "auc 0.912" in text
    assert report.size == len(text.encode()) and report.sections[0] == "summary"


def test_the_pdf_has_numbered_pages_contents_and_captions_but_no_script(build):
    import pypdf

    report = build("pdf", sections=["summary", "storyline", "disarm"])
    data = read(report)
    assert data.startswith(b"%PDF")
    pdf = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert report.pages == len(pdf.pages) >= 3
    assert f"Page 2 of {len(pdf.pages)}" in text and "Contents" in text
    assert all(caption in text for caption in CAPTIONS) and "Flood Information Space" in text
    assert "report-xss" not in text and "<script" not in text.lower() and "alert(" not in text


def test_the_markdown_zip_holds_the_report_and_each_pin_figure(build, case):
    report = build("md", sections=["storyline", "flagged"])
    archive = zipfile.ZipFile(io.BytesIO(read(report)))
    second, first = case["pins"]
    assert sorted(archive.namelist()) == sorted(["report.md", f"figures/pin-{second.pk}.png",
                                                 f"figures/pin-{first.pk}.png"])
    assert archive.read(f"figures/pin-{first.pk}.png") == png()
    markdown = archive.read("report.md").decode()
    assert markdown.index(f"figures/pin-{second.pk}.png") < markdown.index("amplifies the dam story") < markdown.index(
        f"figures/pin-{first.pk}.png")
    assert "report-xss" not in markdown and "\\<script" not in markdown
    assert "## Flagged accounts and posts" in markdown and "0.970 ⚑" in markdown


def test_building_a_report_is_in_the_audit_trail(build, users):
    report = build("md", sections=["summary"])
    entry = AuditEntry.objects.get(action="report.create")
    assert (entry.actor, entry.object_id, entry.detail["format"]) == (users["bob"], report.pk, "md")


def test_the_command_builds_the_same_report_and_ends_with_one_json_line(case, users, tmp_path):
    out = io.StringIO()
    call_command("build_report", "--investigation", case["inv"].name, "--format", "html", "--sections",
                 "storyline,audit", "--user", "bob", "--out", str(tmp_path / "r.html"), stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["status"] == "succeeded" and summary["sections"] == ["storyline", "audit"]
    assert (tmp_path / "r.html").read_text().count('data-kind="pin"') == 2


def test_a_note_in_a_report_keeps_no_script_image_or_link_to_another_host():
    out = note_report_html(f"{SCRIPT}\n\n![map](https://evil.example/x.png) [here](/analyses/4/) "
                           "[ops](https://evil.example/a) <img src=x onerror=alert(1)>", base_url="https://portal.test/")
    assert "report-xss" not in out and "<img" not in out
    assert '<a href="https://portal.test/analyses/4/"' in out and 'href="https://evil.example' not in out
    assert "https://evil.example/x.png" in out and "ops <span>(https://evil.example/a)</span>" in out


def test_a_failed_run_and_a_deleted_report_leave_no_file(build, django_capture_on_commit_callbacks):
    from pathlib import Path

    from apps.reports.models import Report
    from apps.reports.services import report_cleanup

    report = build("md", sections=["summary"])
    path = Path(report.file.path)
    assert path.is_file()
    with django_capture_on_commit_callbacks(execute=True):
        report_cleanup(report.job)  # as if the worker died after writing the row
    assert not path.exists() and not Report.objects.filter(pk=report.pk).exists()


def test_the_report_says_how_far_each_scoring_can_be_trusted(build, case):
    """A scoring whose collection lies mostly outside the model's training posts says so in the report, with its
    shift AUC, and each unreliable post carries the mark; a scoring with no check says that instead."""
    from apps.analyses.models import PostScore

    score = case["score"]
    markdown = zipfile.ZipFile(io.BytesIO(read(build("md", sections=["flagged"])))).read("report.md").decode()
    assert "No out-of-distribution check" in markdown and "(unreliable)" not in markdown
    score.result = {**score.result, "ood": {"available": True, "share": 0.5, "mostly_outside": False,
                                            "shift_check": {"available": True, "auc": 0.97}}}
    score.save(update_fields=["result"])
    top = PostScore.objects.filter(analysis=score).order_by("-score")
    PostScore.objects.filter(analysis=score).update(unreliable=False)
    PostScore.objects.filter(pk__in=[row.pk for row in top[:3]]).update(unreliable=True)
    html = read(build("html", sections=["flagged"])).decode()
    assert "50.0% of the scored posts are marked unreliable" in html and "AUC 0.97" in html
    assert html.count("(unreliable)") == 3 and "do not read its ranking" not in html
    score.result = {**score.result, "ood": {**score.result["ood"], "share": 0.9, "mostly_outside": True}}
    score.save(update_fields=["result"])
    markdown = zipfile.ZipFile(io.BytesIO(read(build("md", sections=["flagged"])))).read("report.md").decode()
    assert "**Most of this collection lies outside the model's training range" in markdown
    assert "0.970 ⚑ (unreliable)" in markdown and markdown.count("(unreliable)") == 3
