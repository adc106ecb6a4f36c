"""An analyst compares the language models of three collections, end to end: a real server, a real
worker, headless Chromium (Debian's, never a Playwright browser download). Small real slices: IRA tweets,
airline customers' tweets, LIAR statements, each with a tiny GPT-2 of its own; a later IRA slice is
attributed to the IRA model."""
from __future__ import annotations

import pytest

from devstack.stack import last_json_line
from tests.browser.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]  # nothing here needs PostgreSQL or Redis: one pass

# One shell process stores the slices and trains the three models through the service (torch loads once).
TRAIN = """
import json
from django.contrib.auth import get_user_model
from apps.analyses.services import analysis_start
from apps.investigations.models import Investigation
from apps.jobs.services import job_execute
from tests.analyses.test_language_models import TRAIN, real_texts, store_texts

alice, investigation = get_user_model().objects.get(username="alice"), Investigation.objects.get(pk=%d)
out = {}
for name in ("ira", "airline", "liar"):
    collection = store_texts(investigation, name, real_texts(name, 60))
    queued = analysis_start(investigation=investigation, user=alice, kind="train_lm", collection=collection,
                            params=TRAIN, enqueue=False)
    job = job_execute(job_id=queued.pk)
    out[name] = {"collection": collection.pk, "model": job.result.get("text_model_id"), "error": job.error}
out["later"] = {"collection": store_texts(investigation, "ira-later", real_texts("ira", 40, skip=3)).pk}
print(json.dumps(out))
"""


def test_the_matrix_of_three_collections_renders_and_attribution_ranks_them(stack, page):  # noqa: F811
    from playwright.sync_api import expect

    from tests.analyses.test_language_models import real_texts

    real_texts("ira", 1)  # skips cleanly where ../shared/data is absent
    investigation = investigation_new(stack, "Three operations")
    made = last_json_line(stack.shell(TRAIN % investigation, timeout=300))
    assert all(made[name]["model"] for name in ("ira", "airline", "liar")), made

    # 1. from the investigation page to the start form: the models are ticked; tick the three collections
    log_in(page, stack, f"/investigations/{investigation}/")
    expect(page.get_by_test_id("lm-row")).to_have_count(3)
    page.get_by_test_id("compare-lms-link").click()
    for name in ("ira", "airline", "liar"):
        page.locator(f'input[name="collections"][value="{made[name]["collection"]}"]').check()
    page.select_option("#id_target", label="ira-later")
    page.get_by_test_id("perplexity-matrix-submit").click()

    # 2. the worker computes it; the job page links to the analysis
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=180_000)
    page.get_by_test_id("analysis-link").click()

    # 3. the heatmap with its values, and each collection's own model lowest on it
    expect(page.locator("h1")).to_have_text("Cross-perplexity matrix")
    heatmap = page.get_by_test_id("chart-perplexity-matrix")
    expect(heatmap.locator(".heatmaplayer")).to_have_count(1)
    expect(heatmap.locator(".main-svg").first).to_be_visible()
    expect(page.get_by_test_id("perplexity-table").locator("tbody tr")).to_have_count(3)
    expect(page.get_by_test_id("own-lowest").locator("li")).to_have_count(3)
    expect(page.get_by_test_id("own-lowest")).not_to_contain_text("no —")

    # 4. attribution: the later IRA posts resemble the IRA model's collection most
    rows = page.get_by_test_id("attribution-ranking").get_by_test_id("attribution-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("LM · ira (#")
    expect(page.get_by_test_id("chart-attribution").locator(".barlayer .trace")).to_have_count(1)
    page.screenshot(path="/tmp/perplexity-matrix.png", full_page=True)

    # 5. the IRA model's page makes up posts from a prompt, each marked synthetic
    rows.first.get_by_role("link").click()
    page.get_by_test_id("lm-prompt").fill("the media")
    page.get_by_test_id("lm-sample-submit").click()
    samples = page.get_by_test_id("lm-sample")
    expect(samples).to_have_count(3)
    expect(samples.first).to_contain_text("SYNTHETIC the media")
    expect(page.get_by_test_id("chart-loss").locator(".scatterlayer .trace")).to_have_count(2)
    page.screenshot(path="/tmp/lm-page.png", full_page=True)
