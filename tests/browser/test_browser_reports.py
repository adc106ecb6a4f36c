"""Case reports, end to end: a real server, a real worker, headless Chromium (Debian's). Alice builds an HTML and a
PDF report of a small case (pins, notes, one of them quoting a script, a DISARM tag, scores and a coordination
network) on the reports page, waits for each job to finish, and downloads both; the PDF's pages render to PNG
(poppler's ``pdftoppm``) and are not blank; the HTML report, opened on its own, runs no script and asks nothing of
any host; the STIX bundle validates with ``stix2`` and the MISP event loads in ``pymisp``."""
from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from devstack.stack import last_json_line, portal_stack
from tests.browser.test_browser import SETUP_USER, arrived, chromium, log_in, page  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]  # SQLite only: tests/reports covers the queries on PostgreSQL

PDFTOPPM = Path("/usr/bin/pdftoppm")
JOB_TIMEOUT_MS = 240_000  # a PDF on a loaded 2-core machine (load 16 seen), with the worker's first start-up
# A second note: a script, an inline handler and an image that would phone home; none of it may run or be fetched.
HOSTILE_NOTE = ("Second look at the burst.\n\n<script>document.title = 'pwned-by-note'</script>\n\n"
                "<img src=\"https://evil.example/pixel.png\" onerror=\"document.title='pwned-by-img'\">")

# The case of tests/reports (scores, a coordination network, a note quoting a script, DISARM T0049 tags, a
# storyline of two pins and the note), then a third pin with a chart-like thumbnail and the hostile note.
CASE = SETUP_USER + """
import io
import json
from PIL import Image, ImageDraw
from apps.investigations.services import investigation_create, member_set
from apps.notes.services import note_create
from apps.pins.services import pin_create, storyline_set
from tests.reports.conftest import case_make

User = get_user_model()
alice, bob = User.objects.get(username="alice"), User.objects.create_user("bob", password="bob-pass-123456")
inv = investigation_create(user=alice, name="Operation Dam Deal")
member_set(investigation=inv, username="bob", role="editor")
case = case_make(inv, {"alice": alice, "bob": bob})
image = Image.new("RGB", (640, 400), "white")
draw = ImageDraw.Draw(image)
draw.line([(40, 20), (40, 370), (620, 370)], fill="black", width=3)
draw.line([(40 + 12 * i, 360 - (i * 37) %% 300) for i in range(48)], fill=(200, 30, 30), width=3)
out = io.BytesIO()
image.save(out, format="PNG")
third = pin_create(investigation=inv, user=bob, caption="Posts per minute: the burst", state="collection=1",
                   thumbnail_png=out.getvalue())
hostile = note_create(investigation=inv, user=bob, body=%r)
second, first = case["pins"]
storyline_set(investigation=inv, user=bob, items=[{"pin": second.pk}, {"note": case["note"].pk}, {"pin": first.pk},
                                                  {"pin": third.pk}, {"note": hostile.pk}])
print(json.dumps({"investigation": inv.pk}))
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory, chromium):  # noqa: F811
    with portal_stack(tmp_path_factory.mktemp("reports")) as stack:
        yield stack


def build(stack, page, fmt: str) -> bytes:  # noqa: F811
    """Build a report of every section in ``fmt`` on the reports page, wait until the job has listed it, download it."""
    from playwright.sync_api import expect

    row = page.locator(f'[data-testid="report-row"][data-format="{fmt}"]')
    expect(row).to_have_count(0)
    page.locator(f'input[name="format"][value="{fmt}"]').check()
    page.get_by_test_id("report-build").click()
    arrived(page)
    # The job's card reloads the page when it finishes; the row is the state to wait for (a failure shows its error).
    failed = page.locator('[data-testid="report-job"] [data-testid="job-error"]:not([hidden])')
    try:
        expect(row.or_(failed)).to_be_visible(timeout=JOB_TIMEOUT_MS)
    except AssertionError:
        jobs = stack.query("SELECT id, status, progress, stage, error FROM jobs_job WHERE kind = 'report'")
        raise AssertionError(f"no {fmt} report listed on the page; the report jobs: {jobs}") from None
    assert failed.count() == 0, failed.inner_text()
    with page.expect_download() as download:
        row.get_by_test_id("report-download").click()
    return Path(download.value.path()).read_bytes()


def pages_as_png(pdf: bytes, folder: Path) -> list[Path]:
    if not PDFTOPPM.exists():
        pytest.fail(f"{PDFTOPPM} is missing: apt-get install poppler-utils (.ci/run installs it)")
    (folder / "report.pdf").write_bytes(pdf)
    subprocess.run([str(PDFTOPPM), "-r", "40", "-png", str(folder / "report.pdf"), str(folder / "page")],
                   check=True, timeout=120)
    return sorted(folder.glob("page-*.png"))


def ink(path: Path) -> tuple[float, float]:
    """A page's grey-level standard deviation and its share of pixels darker than near-white."""
    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(path).convert("L"), dtype=np.float64)
    return float(grey.std()), float((grey < 200).mean())


def opened_alone(chromium, html: bytes, folder: Path) -> dict:  # noqa: F811
    """Open the HTML report from disk in a fresh context with scripts enabled: what ran, what it asked for."""
    path = folder / "report.html"
    path.write_bytes(html)
    context = chromium.new_context()
    requests, dialogs = [], []

    def local_only(route) -> None:
        requests.append(route.request.url)
        route.continue_() if route.request.url.startswith(("file:", "data:")) else route.abort()

    context.route("**/*", local_only)
    opened = context.new_page()
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.goto(path.as_uri())
    opened.wait_for_load_state("load")
    seen = {"title": opened.title(), "scripts": opened.locator("script").count(), "dialogs": dialogs,
            "requests": [u for u in requests if not u.startswith(("file:", "data:"))],
            "text": opened.locator("body").inner_text()}
    context.close()
    return seen


def test_an_analyst_builds_and_downloads_html_and_pdf_reports_and_exchange_files(
        stack, page, chromium, tmp_path):  # noqa: F811
    import pypdf
    import stix2
    from pymisp import MISPEvent

    investigation_id = last_json_line(stack.shell(CASE % (HOSTILE_NOTE,)))["investigation"]
    log_in(page, stack, f"/investigations/{investigation_id}/reports/")

    # 1. the HTML report: self-contained, the storyline in order, no script runs and nothing is fetched
    html = build(stack, page, "html")
    seen = opened_alone(chromium, html, tmp_path)
    assert seen["scripts"] == 0 and seen["dialogs"] == [] and seen["requests"] == []
    assert "pwned" not in seen["title"] and "Operation Dam Deal" in seen["title"]
    text = seen["text"]
    story = ["Coordination network: the planted community", "amplifies the dam story",
             "Burst of identical posts on 3 March", "Posts per minute: the burst", "Second look at the burst"]
    at = [text.index(step) for step in story]
    assert at == sorted(at)  # the storyline's order
    # the script blocks are dropped; the quoted <img> tag is shown as text, inert (the title above is unchanged)
    assert "report-xss" not in text and "pwned-by-note" not in text and "https://evil.example/pixel.png" in text

    # 2. the PDF: every page renders to a PNG that is not blank, the text carries no script
    pdf = build(stack, page, "pdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pngs = pages_as_png(pdf, tmp_path)
    assert len(pngs) == len(reader.pages) >= 3
    for png in pngs:
        spread, inked = ink(png)
        assert spread > 3.0 and inked > 0.002, (png.name, spread, inked)
    pdf_text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Posts per minute: the burst" in pdf_text and "Flood Information Space" in pdf_text
    assert "report-xss" not in pdf_text and "pwned-by-note" not in pdf_text and "<script" not in pdf_text.lower()

    # 3. the exchange files: STIX 2.1 validates without custom content; MISP loads as MISP reads it
    bundle = stix2.parse(build(stack, page, "stix").decode(), allow_custom=False)
    types = {o.type for o in bundle.objects}
    assert {"report", "attack-pattern", "user-account", "note", "relationship"} <= types
    event = MISPEvent()
    event.load(build(stack, page, "misp"))
    assert {a.value for a in event.attributes if a.type == "text"} == {"@dam_truth", "@dam_facts"}

    # 4. the page lists the four, and links the coordination network's GEXF and GraphML
    assert page.get_by_test_id("report-row").count() == 4
    assert page.get_by_test_id("network-export-gexf").count() == 1
    assert page.get_by_test_id("network-export-graphml").count() == 1

