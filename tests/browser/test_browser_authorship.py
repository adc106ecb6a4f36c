"""An analyst checks an account's authorship, end to end: a real server, a real worker, headless
Chromium (Debian's, never a Playwright download). The account green_thumb writes about their garden;
three news flashes were slipped into its stream and should top the least-like list."""
from __future__ import annotations

import pytest

from devstack.stack import last_json_line
from tests.browser.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)
from tests.support.authorship import INJECTED, TARGET, authorship_rows, write_authorship_csv

pytestmark = [pytest.mark.browser, pytest.mark.worker]  # on PostgreSQL and Redis: tests/analyses (test_browser.py)


def test_an_analyst_finds_the_posts_an_account_did_not_write(tmp_path, stack, page):  # noqa: F811
    from playwright.sync_api import expect

    investigation_new(stack, "Garden hijack")
    data = write_authorship_csv(tmp_path / "garden.csv", authorship_rows())
    imported = last_json_line(stack.manage("import_collection", str(data), "--investigation", "Garden hijack",
                                           "--collection", "garden", "--user", "alice").stdout)
    assert imported["status"] == "succeeded", imported

    # 1. the start page offers the collection's accounts; pick the gardener and start
    log_in(page, stack, f"/collections/{imported['collection_id']}/authorship/")
    page.get_by_test_id("account-select").select_option(TARGET)
    page.get_by_test_id("authorship-submit").click()

    # 2. the job page follows the run to the end, then links to the analysis
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=120_000)
    page.get_by_test_id("analysis-link").click()

    # 3. the analysis: both methods, the learning curves drawn, the injected posts least like the account
    expect(page.locator("h1")).to_have_text(f"Authorship of @{TARGET}")
    expect(page.get_by_test_id("chosen-method")).to_have_count(1)
    chart = page.get_by_test_id("chart-learning-curve")
    expect(chart).to_have_class("chart chart-wide js-plotly-plot")
    expect(chart.locator(".main-svg").first).to_be_visible()
    expect(chart.locator(".scatterlayer .trace")).to_have_count(4)
    rows = page.get_by_test_id("ranked-posts").get_by_test_id("post-row")
    expect(rows).to_have_count(83)
    least_like = {rows.nth(i).locator(".post-text").inner_text() for i in range(len(INJECTED))}
    assert least_like == set(INJECTED)

    # 4. a pasted post is scored on the spot
    pasted = "UPDATE: officials confirm a fire in Boston, several people injured #breaking"
    page.get_by_test_id("score-text").fill(pasted)
    page.get_by_test_id("score-form").get_by_role("button", name="Score").click()
    expect(page.get_by_test_id("pasted-scores").get_by_test_id("post-row")).to_have_count(1)
    page.screenshot(path="/tmp/authorship.png", full_page=True)
    page.screenshot(path="/tmp/authorship-top.png")

    # 5. the investigation lists the analysis
    page.get_by_role("link", name="Garden hijack").first.click()
    expect(page.get_by_test_id("analysis-table")).to_contain_text(f"Authorship of @{TARGET}")
