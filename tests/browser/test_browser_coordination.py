"""An analyst maps a coordinated operation, end to end: a real server, a real worker, headless Chromium.
The demo generator plants an operation (4 seed accounts, 36 amplifiers echoing them within seconds to
minutes) among residents; the coordination network should put a seed on top and show its evidence."""
from __future__ import annotations

import json
import re

import pytest

from devstack.stack import last_json_line
from tests.browser.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]  # on PostgreSQL and Redis: tests/analyses (test_browser.py)


def simulated_import(stack, out, investigation: str, *options: str) -> dict:  # noqa: F811
    """A new investigation holding the demo generator's operation (seed 3, ``options``) as the collection "riverton",
    imported by alice: the import command's summary (its truth file lies beside ``out``)."""
    investigation_new(stack, investigation)
    made = last_json_line(stack.manage("simulate_operation", "--out", str(out), "--seed", "3", *options).stdout)
    imported = last_json_line(stack.manage("import_collection", made["out"], "--investigation", investigation,
                                           "--collection", "riverton", "--user", "alice").stdout)
    assert imported["status"] == "succeeded", imported
    return imported


def test_an_analyst_finds_the_planted_operation_in_the_coordination_network(tmp_path, stack, page):  # noqa: F811
    from playwright.sync_api import expect

    imported = simulated_import(stack, tmp_path / "riverton.csv", "Riverton dam", "--days", "12", "--organic", "120")
    truth = json.loads((tmp_path / "riverton.truth.json").read_text())

    # 1. from the collection's overview to the start page; one-minute bins, split at the event
    log_in(page, stack, f"/collections/{imported['collection_id']}/")
    page.get_by_test_id("coordination-link").click()
    page.fill("#id_bin_seconds", "60")
    page.fill("#id_event_date", truth["event_date"])
    page.get_by_test_id("coordination-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=120_000)
    page.get_by_test_id("analysis-link").click()

    # 2. the network is drawn with WebGL, and the top influencer is one of the operation's accounts
    network = page.get_by_test_id("network")
    expect(network).to_have_class("net-plot js-plotly-plot")
    types = page.evaluate("() => [...new Set(document.querySelector('[data-testid=network]').data.map((t) => t.type))]")
    assert types == ["scattergl"]
    top = page.get_by_test_id("top-influencer").inner_text().removeprefix("@")
    ids = truth["operation_userids"]
    operation = {row[0] for row in stack.query(
        "SELECT handle FROM collections_account WHERE platform_id IN (%s)" % ",".join("?" * len(ids)), tuple(ids))}
    assert top in operation, (top, truth["seed_userids"])
    expect(page.get_by_test_id("communities").get_by_test_id("community-row").first).to_be_visible()
    expect(page.get_by_test_id("network-before")).to_have_class("net-plot net-plot-small js-plotly-plot")
    expect(page.get_by_test_id("network-after")).to_have_class("net-plot net-plot-small js-plotly-plot")

    # 3. an edge's evidence: the shared entities with their times and lags
    page.get_by_test_id("edge-row").first.get_by_test_id("edge-evidence").click()
    rows = page.get_by_test_id("evidence").get_by_test_id("evidence-row")
    expect(rows.first).to_be_visible()
    assert rows.first.locator(".chip").inner_text().split(":")[0] in ("hashtag", "url", "mention")

    page.screenshot(path="/tmp/coordination.png", full_page=True)

    # 4. the filters redraw client-side
    before = page.get_by_test_id("network-shown").inner_text()
    page.get_by_test_id("filter-min-weight").fill("0.5")
    page.get_by_test_id("filter-min-weight").dispatch_event("change")
    expect(page.get_by_test_id("network-shown")).not_to_have_text(before)


def test_an_analyst_runs_coordination_at_three_scales_and_compares_them_on_one_page(tmp_path, stack, page):  # noqa: F811
    from playwright.sync_api import expect

    imported = simulated_import(stack, tmp_path / "scales.csv", "Riverton scales", "--days", "6", "--organic", "60",
                                "--operation", "10")

    # 1. one job, three bin sizes
    log_in(page, stack, f"/collections/{imported['collection_id']}/")
    page.get_by_test_id("coordination-link").click()
    page.fill("#id_scales", "60,600,3600")
    page.get_by_test_id("coordination-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=120_000)
    page.get_by_test_id("analysis-link").click()

    # 2. one table compares them: edges per scale, what each scale catches, the suggested one shown below
    rows = page.get_by_test_id("scale-row")
    expect(rows).to_have_count(3)
    scales = [int(s) for s in rows.evaluate_all("(rows) => rows.map((r) => r.dataset.scale)")]
    assert scales == [60, 600, 3600]
    significant = dict(zip(scales, (int(t) for t in rows.get_by_test_id("scale-significant").all_inner_texts())))
    assert significant[60] > 0 and significant[60] > significant[3600], significant  # the echoes come within seconds
    expect(page.get_by_test_id("scale-suggestion")).to_contain_text("Suggested")
    shown = page.locator("[data-testid=scale-row][aria-current=true]")
    expect(shown).to_have_count(1)
    expect(shown.get_by_test_id("scale-shown")).to_be_visible()
    expect(page.get_by_test_id("network")).to_have_class("net-plot js-plotly-plot")

    # 3. switch the page to the one-hour network, then back to one minute
    page.locator("[data-testid=scale-row][data-scale='3600']").get_by_test_id("scale-show").click()
    expect(page).to_have_url(re.compile(r"\?scale=3600"))
    expect(page.locator("[data-testid=scale-row][data-scale='3600']").get_by_test_id("scale-shown")).to_be_visible()
    if significant[3600] == 0:
        expect(page.get_by_test_id("scale-note")).to_contain_text("No pair of accounts is significant at 1 h bins")
    page.locator("[data-testid=scale-row][data-scale='60']").get_by_test_id("scale-show").click()
    expect(page).to_have_url(re.compile(r"\?scale=60"))
    expect(page.get_by_test_id("network")).to_have_class("net-plot js-plotly-plot")
    drawn = page.evaluate("() => document.querySelector('[data-testid=network]').data.length")
    assert drawn >= 2  # nodes and edges
    page.screenshot(path="/tmp/coordination-scales.png", full_page=True)
