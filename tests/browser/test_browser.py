"""An analyst's first import, end to end: a real server, a real worker, headless Chromium.

The portal runs as it runs for an analyst (``portal_stack``: daphne + ``manage.py qcluster`` on a
temporary SQLite file); Playwright drives Debian's Chromium (never a Playwright browser download).
"""
from __future__ import annotations

import csv
import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest

from devstack.stack import last_json_line, portal_stack

# The services pass (PostgreSQL, django-q2 on Redis, channels-redis) drives one browser test end to end: the upload
# below (an import job through the Redis broker, its live progress over the Redis channel layer, the overview read
# from PostgreSQL). Every other browser test runs once, in the first pass; each detector's own services tests
# (tests/analyses, tests/collections) cover its jobs and pages on PostgreSQL and Redis without a browser.
pytestmark = [pytest.mark.browser, pytest.mark.worker]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
EXPECT_TIMEOUT_MS = 20_000
ROWS = 20_000
DAYS = 120
PASSWORD = "correct-horse-battery"
IRA_HEADER = [
    "external_author_id", "author", "content", "region", "language", "publish_date", "harvested_date", "following",
    "followers", "updates", "post_type", "account_type", "retweet", "account_category", "new_june_2018",
]
CATEGORIES = ["RightTroll", "LeftTroll", "NewsFeed", "HashtagGamer", "Fearmonger"]


def ira_csv(path: Path, rows: int) -> Path:
    """A FiveThirtyEight-IRA-style export: 50 accounts posting over DAYS days, every tweet distinct."""
    start = datetime(2016, 6, 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(IRA_HEADER)
        for i in range(rows):
            author = i % 50
            when = start + timedelta(days=(i * 7919) % DAYS, minutes=i % 1440)
            retweet = i % 4 == 0
            writer.writerow([
                9000 + author, f"TROLL_{author:02d}",
                f"{'RT @news_{}: '.format(i % 7) if retweet else ''}Tweet {i} on #topic{i % 12} "
                f"see https://site{i % 9}.example/a/{i}",
                "United States", "English", f"{when.month}/{when.day}/{when.year} {when.hour}:{when.minute:02d}",
                "1/1/2018 0:00", 100 + author, 1000 + 10 * author, i, "RETWEET" if retweet else "",
                "Right" if author % 2 else "Left", int(retweet), CATEGORIES[author % len(CATEGORIES)], 0,
            ])
    return path


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run browser tests")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait for a state up to this long (Playwright's default is 5 s). A page's first chart waits
    # for plotly.js (4.8 MB) to load and be parsed; on a loaded 2-core machine (`make test` beside other work) that
    # has taken more than 5 s and failed tests whose chart was drawn a moment later.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, chromium):
    # Small batches make the worker report progress often enough to be seen mid-way.
    with portal_stack(tmp_path_factory.mktemp("portal"), env={"INGEST_BATCH_ROWS": "1000"}) as stack:
        stack.shell(SETUP_USER)
        yield stack


# Every frame (the sandboxed bertviz frames too) reports what its Content-Security-Policy blocked through the
# standard DOM event, so the check below does not hang on the wording of Chromium's own console message
# ("Refused to ..." in older builds, "... violates the following Content Security Policy directive" now).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  // blockedURI: a URL, or "inline", "eval", "wasm-eval"
  console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI} in ${e.documentURI}`
                + (e.sample ? ` (${e.sample})` : ""));
});
"""
CSP_VIOLATION = re.compile(r"CSP violation: |Content Security Policy|Refused to ")


def record_csp_violation(page, message) -> None:
    """Keep a console message that reports a blocked script, style, image, font, frame or connection."""
    if CSP_VIOLATION.search(message.text):
        page.csp_violations.append(message.text)


@pytest.fixture
def page(chromium, stack):
    """A fresh browser context; every request and websocket it opens is recorded to check it stays local, and
    every uncaught error and Content-Security-Policy violation, in any frame, fails the test."""
    context = chromium.new_context(viewport={"width": 1360, "height": 900})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.hosts, page.errors, page.csp_violations = [], [], []
    # data: and blob: URLs (a chart rendered to PNG in the page) never leave it: only network requests count.
    page.on("request", lambda request: urlparse(request.url).scheme in ("data", "blob")
            or page.hosts.append(urlparse(request.url).hostname))
    page.on("websocket", lambda ws: page.hosts.append(urlparse(ws.url).hostname))
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda message: record_csp_violation(page, message))
    yield page
    context.close()
    assert page.errors == [], page.errors
    assert page.csp_violations == [], "\n".join(page.csp_violations)
    assert set(page.hosts) <= LOCAL_HOSTS, f"requests left the machine: {sorted(set(page.hosts) - LOCAL_HOSTS)}"


SETUP_USER = """
from django.contrib.auth import get_user_model
get_user_model().objects.create_user("alice", password=%r)
""" % PASSWORD

NEW_INVESTIGATION = """
import json
from django.contrib.auth import get_user_model
from apps.investigations.services import investigation_create
investigation = investigation_create(user=get_user_model().objects.get(username="alice"), name=%r)
print(json.dumps({"investigation": investigation.pk}))
"""

# Record every value the job progress bar shows, so the test can tell it moved through the middle.
WATCH_PROGRESS = """
window.__progressSeen = [];
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.dataset && r.target.dataset.testid === "job-progress") {
      window.__progressSeen.push(Number(r.target.getAttribute("aria-valuenow")));
    }
  }
}).observe(document, { subtree: true, attributes: true, attributeFilter: ["aria-valuenow"] });
"""


def investigation_new(stack, name: str) -> int:
    return last_json_line(stack.shell(NEW_INVESTIGATION % name))["investigation"]


def log_in(page, stack, next_path: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{stack.url}{next_path}")
    expect(page).to_have_url(f"{stack.url}/login/?next={next_path}")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{stack.url}{next_path}")
    arrived(page)


def arrived(page) -> None:
    """Wait until the page just navigated to has run its scripts (deferred scripts run before
    DOMContentLoaded): a click does not wait for them, and a file chosen before upload.js listens is lost."""
    page.wait_for_load_state("domcontentloaded")


@pytest.mark.services
def test_an_analyst_uploads_a_csv_and_sees_the_overview(tmp_path, stack, page):
    from playwright.sync_api import expect

    data = ira_csv(tmp_path / "ira_tweets.csv", ROWS)
    investigation_id = investigation_new(stack, "IRA 2016")

    # 1. log in through the form
    log_in(page, stack, f"/investigations/{investigation_id}/")
    expect(page.locator("h1")).to_have_text("IRA 2016")

    # 2. choose the file: the preview recognises the format and shows the first rows
    page.get_by_test_id("upload-link").click()
    expect(page).to_have_url(f"{stack.url}/investigations/{investigation_id}/upload/")
    arrived(page)
    page.get_by_test_id("file-input").set_input_files(str(data))
    expect(page.get_by_test_id("preview-format")).to_contain_text("FiveThirtyEight IRA")
    expect(page.get_by_test_id("preview-table").locator("tbody tr")).to_have_count(5)
    expect(page.get_by_test_id("collection-input")).to_have_value("ira_tweets")
    expect(page.get_by_test_id("mapping")).to_be_hidden()

    # 3. upload and watch the job to the end
    page.evaluate(WATCH_PROGRESS)
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=180_000)
    bar = page.get_by_test_id("job-progress")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(bar).to_have_text("100%")
    seen = page.evaluate("window.__progressSeen")
    assert any(0 < value < 100 for value in seen), f"the bar never showed an intermediate value: {seen}"
    assert seen == sorted(seen), f"the bar went backwards: {seen}"
    expect(page.get_by_test_id("job-result")).to_contain_text(f"Stored {ROWS:,} posts")

    # 4. the collection overview: counts and the posts-per-day chart
    page.get_by_test_id("job-collection-link").click()
    expect(page.get_by_test_id("count-posts")).to_have_text(f"{ROWS:,}")
    expect(page.get_by_test_id("count-accounts")).to_have_text("50")
    chart = page.get_by_test_id("chart-posts-per-day")
    expect(chart).to_have_class("chart chart-wide js-plotly-plot")
    expect(chart.locator(".main-svg").first).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(page.locator("[data-figure]").count())
    page.screenshot(path="/tmp/browser-overview.png", full_page=True)

    # 5. the job page, loaded afresh, shows the same state from the row
    page.goto(f"{stack.url}/investigations/{investigation_id}/jobs/")
    page.locator("[data-testid=job-table] a").first.click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("import-files")).to_contain_text(f"{ROWS:,}")


def generic_csv(path: Path, rows: int) -> Path:
    """A CSV no importer recognises; one row has a date that cannot be read."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["msg", "who", "said", "when_utc", "lang", "group"])
        for i in range(rows):
            when = "yesterday" if i == 7 else f"2020-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"
            writer.writerow([f"m{i}", f"user{i % 10}", f"message {i} #covid", when, "en", f"g{i % 3}"])
    return path


def test_an_analyst_maps_the_columns_of_an_unknown_csv(tmp_path, stack, page):
    from playwright.sync_api import expect

    data = generic_csv(tmp_path / "forum_dump.csv", 200)
    investigation_id = investigation_new(stack, "Forum")
    log_in(page, stack, f"/investigations/{investigation_id}/upload/")

    page.get_by_test_id("file-input").set_input_files(str(data))
    expect(page.get_by_test_id("preview-format")).to_contain_text("No known format")
    mapping = page.get_by_test_id("mapping")
    expect(mapping).to_be_visible()
    expect(page.get_by_test_id("mapping-language")).to_have_value("lang")  # guessed from the header
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("upload-errors")).to_contain_text("Choose a column for text.")

    page.get_by_test_id("mapping-post_id").select_option("msg")
    page.get_by_test_id("mapping-handle").select_option("who")
    page.get_by_test_id("mapping-text").select_option("said")
    page.get_by_test_id("mapping-time").select_option("when_utc")
    page.get_by_test_id("label-columns").get_by_label("group").check()
    page.screenshot(path="/tmp/browser-upload.png", full_page=True)
    page.get_by_test_id("upload-submit").click()

    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=120_000)
    expect(page.get_by_test_id("job-result")).to_contain_text(
        "Stored 199 posts from 200 rows read (0 duplicates, 1 rejected)")
    page.get_by_test_id("job-collection-link").click()
    expect(page.get_by_test_id("count-posts")).to_have_text("199")
    expect(page.get_by_test_id("chart-label-post-group")).to_have_class("chart js-plotly-plot")
    rejected = page.get_by_test_id("rejected-csv")
    response = page.request.get(stack.url + rejected.get_attribute("href"))
    assert response.ok
    header, row = response.text().splitlines()
    assert header == "file,line,field,reason"
    assert row.startswith("forum_dump.csv,9,when_utc,")  # row 8 of the data is line 9 of the file


def test_a_page_that_breaks_the_content_security_policy_is_caught(stack, page):
    """The page fixture's own check: an inline script, which the portal's policy refuses, is reported."""
    page.goto(f"{stack.url}/login/")
    with page.expect_console_message(lambda message: message.text.startswith("CSP violation: script-src-elem")):
        page.evaluate("""() => {
          const script = document.createElement("script");
          script.textContent = "window.__inlineRan = true";
          document.body.append(script);
        }""")
    assert page.evaluate("window.__inlineRan") is None
    reported = f"CSP violation: script-src-elem blocked inline in {stack.url}/login/"
    assert any(v.startswith(reported) for v in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # expected here; in any other test the fixture fails on it


ADD_MEMBER = """
from django.contrib.auth import get_user_model
from apps.investigations.models import Investigation
from apps.investigations.services import member_set
get_user_model().objects.get_or_create(username=%(user)r)
member_set(investigation=Investigation.objects.get(pk=%(investigation)d), username=%(user)r, role="viewer")
"""


def test_an_owner_confirms_before_a_member_is_removed(stack, page):
    """The confirmation is app.js's (data-confirm): no inline handler, which the policy would refuse."""
    from playwright.sync_api import expect

    investigation_id = investigation_new(stack, "Members")
    stack.shell(ADD_MEMBER % {"user": "bob", "investigation": investigation_id})
    log_in(page, stack, f"/investigations/{investigation_id}/")
    members = page.get_by_test_id("members-panel")
    bob = members.locator("tr", has_text="bob")
    asked = []

    # Alice changes her mind: nothing is posted, Bob stays.
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    bob.get_by_role("button", name="Remove").click()
    expect(bob).to_have_count(1)
    assert asked == ["Remove bob from this investigation?"]
    page.reload()
    expect(bob).to_have_count(1)

    # She confirms: Bob is removed.
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    bob.get_by_role("button", name="Remove").click()
    expect(page.locator(".messages")).to_contain_text("bob was removed from this investigation.")
    expect(bob).to_have_count(0)
    assert len(asked) == 2


def test_the_api_docs_and_the_browsable_api_draw_under_the_policy(stack, page):
    from playwright.sync_api import expect

    investigation_new(stack, "API reader")
    log_in(page, stack, "/")  # the docs answer 403 to a stranger, not a login form
    page.goto(f"{stack.url}/api/docs/")
    # Swagger UI builds the page from the schema: an operation per route once its script has run.
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible(timeout=30_000)
    expect(page.locator(".swagger-ui .opblock-summary-path", has_text="/api/investigations/").first).to_be_visible()
    page.goto(f"{stack.url}/api/investigations/")
    expect(page.locator(".response-info")).to_contain_text("API reader")
