"""An analyst sees how false stories spread differently, end to end: a real server, a real worker,
headless Chromium. A small real Twitter15 slice (two short trees per veracity label) is imported;
the propagation analysis draws a cascade with time on x and the metric distributions by label."""
from __future__ import annotations

import pytest

from tests.analyses.test_spread_analysis import LABELS, twitter15_slice
from tests.support.stack import last_json_line
from tests.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.services]


def test_an_analyst_compares_cascades_by_veracity(tmp_path, shared_data, stack, page):  # noqa: F811
    from playwright.sync_api import expect

    investigation_new(stack, "Rumours")
    path, picked = twitter15_slice(shared_data, tmp_path / "t15.zip")
    imported = last_json_line(stack.manage("import_collection", str(path), "--investigation", "Rumours",
                                           "--collection", "twitter15", "--user", "alice").stdout)
    assert imported["status"] == "succeeded", imported

    # 1. start the propagation analysis from its page; the worker runs it
    log_in(page, stack, f"/collections/{imported['collection_id']}/propagation/")
    page.get_by_test_id("propagation-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=120_000)
    page.get_by_test_id("analysis-link").click()

    # 2. the metrics by label: one row and one box per veracity label
    expect(page.get_by_test_id("label-row")).to_have_count(len(LABELS))
    virality = page.get_by_test_id("dist-structural_virality")
    expect(virality).to_have_class("chart js-plotly-plot")
    boxes = page.evaluate("() => document.querySelector('[data-testid=dist-structural_virality]').data.map((t) => t.name)")
    assert boxes == sorted(LABELS)

    # 3. a cascade drawn with WebGL, time on x; picking another redraws it
    cascade = page.get_by_test_id("cascade")
    expect(cascade).to_have_class("chart chart-cascade js-plotly-plot")
    types = page.evaluate("() => [...new Set(document.querySelector('[data-testid=cascade]').data.map((t) => t.type))]")
    assert types == ["scattergl"]
    first = page.evaluate("() => document.querySelector('[data-testid=cascade]').layout.title.text")
    options = page.get_by_test_id("cascade-select").locator("option")
    assert options.count() == len(picked)
    page.get_by_test_id("cascade-select").select_option(index=options.count() - 1)
    page.wait_for_function("(t) => document.querySelector('[data-testid=cascade]').layout.title.text !== t", arg=first)
    page.get_by_test_id("cascade-select").select_option(index=0)
    page.screenshot(path="/tmp/spread.png", full_page=True)
