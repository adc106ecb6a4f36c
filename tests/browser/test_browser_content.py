"""The content detectors' acceptance criteria, end to end: a real server, a real worker, headless Chromium (Debian's,
never a
Playwright download), and no request leaving 127.0.0.1. On a small generated operation (the demo's
simulator) whose operation accounts the analyst has labelled, the analyst trains the bundled MiniLM from
the browser, watches the progress bar, reads the model's curves, scores the collection, opens the
highest-scoring post and sees its attention heatmap and bertviz's head and model views, drawn inside
sandboxed frames from locally served d3, jQuery and require.js."""
from __future__ import annotations

import json
import re
from urllib.parse import urlparse

import pytest

from devstack.stack import last_json_line
from tests.browser.test_browser import (  # noqa: F401
    LOCAL_HOSTS,
    WATCH_PROGRESS,
    chromium,
    investigation_new,
    log_in,
    page,
    stack,
)

# Not in the services pass: the PostgreSQL + Redis stack is covered by the other browser tests, and this one
# spends its time in MiniLM on the CPU, not in the database.
pytestmark = [pytest.mark.browser, pytest.mark.worker]

LAYERS, HEADS = 6, 12  # the bundled MiniLM-L6
# In bertviz's model view, the lines from the first token ([CLS]) of each thumbnail, by "layer_head": their
# opacities are that head's attention weights from [CLS].
THUMBNAIL_WEIGHTS = """(svg) => Object.fromEntries([...svg.querySelectorAll("[id^=attn_background_]")].map((rect) => [
  rect.id.replace("attn_background_", ""),
  [...rect.parentNode.querySelectorAll("g[source-index='0'] line")]
    .map((line) => Number(line.getAttribute("stroke-opacity"))),
]))"""
# Resolves once the frame has run two animation frames: the first after this call has been painted.
PAINTED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"

# The analyst's labels: the simulator's ground truth, written on the accounts as an account label.
LABEL_ACCOUNTS = """
import json
from apps.collections.models import Account
truth = set(json.load(open(%r))["operation_userids"])
accounts = list(Account.objects.filter(collection_id=%d))
for a in accounts:
    a.labels = {**(a.labels or {}), "role": "operation" if a.platform_id in truth else "resident"}
Account.objects.bulk_update(accounts, ["labels"])
print(json.dumps({"operation": sum(a.platform_id in truth for a in accounts), "accounts": len(accounts)}))
"""


def test_an_analyst_trains_scores_and_reads_a_posts_attention_offline(tmp_path, stack, page):  # noqa: F811
    from playwright.sync_api import expect

    # 0. a small simulated operation, imported, its operation accounts labelled
    investigation_new(stack, "Riverton dam")
    made = json.loads(stack.manage("simulate_operation", "--out", str(tmp_path / "op.csv.gz"), "--days", "4",
                                   "--organic", "40", "--operation", "10").stdout)
    imported = last_json_line(stack.manage("import_collection", made["out"], "--investigation", "Riverton dam",
                                           "--collection", "riverton", "--user", "alice").stdout)
    assert imported["status"] == "succeeded", imported
    labelled = last_json_line(stack.shell(LABEL_ACCOUNTS % (made["truth"], imported["collection_id"])))
    assert labelled["operation"] == 10

    # Any request to another host is aborted and recorded (the page fixture records every host too).
    leaving = []

    def local_only(route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            return route.continue_()
        leaving.append(route.request.url)
        return route.abort()

    page.context.route("**/*", local_only)
    page.add_init_script(WATCH_PROGRESS)

    # 1. train the bundled MiniLM from the collection's train page: one epoch, 32 tokens
    log_in(page, stack, f"/collections/{imported['collection_id']}/train-classifier/")
    page.fill("#id_label_key", "role")
    page.fill("#id_positive_values", "operation")
    page.fill("#id_max_length", "32")
    page.fill("#id_batch_size", "32")
    page.fill("#id_max_posts", "160")
    page.get_by_test_id("train-classifier-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=240_000)
    seen = page.evaluate("window.__progressSeen")
    assert any(0 < value < 100 for value in seen), f"the bar never showed an intermediate value: {seen}"
    assert seen == sorted(seen), f"the bar went backwards: {seen}"

    # 2. the model page: metrics and the ROC, precision-recall and loss curves drawn
    page.get_by_test_id("analysis-link").click()
    page.get_by_test_id("text-model-link").click()
    expect(page.get_by_test_id("metrics-table")).to_contain_text("ROC AUC")
    for chart in ("chart-roc", "chart-pr", "chart-loss"):
        expect(page.get_by_test_id(chart)).to_have_class("chart js-plotly-plot")
        expect(page.get_by_test_id(chart).locator(".scatterlayer .trace").first).to_be_attached()
    steps = page.evaluate("() => document.querySelector('[data-testid=chart-loss]').data[0].x.length")
    assert steps >= 2

    # 3. score the collection; the scores page lists every post, highest first
    page.get_by_test_id("score-link").click()
    page.fill("#id_max_posts", "150")
    page.get_by_test_id("score-start-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=180_000)
    page.get_by_test_id("analysis-link").click()
    rows = page.get_by_test_id("scored-posts").get_by_test_id("scored-post")
    expect(rows.first).to_be_visible()
    scores = [float(s) for s in rows.get_by_test_id("post-score").all_inner_texts()]
    assert scores == sorted(scores, reverse=True) and len(scores) == 50
    top_text = rows.first.locator(".post-text").inner_text()
    page.screenshot(path="/tmp/content-scores.png", full_page=True)

    # 4. the top post: its score, the token heatmap, and bertviz's views inside sandboxed frames
    rows.first.get_by_test_id("post-link").click()
    expect(page.get_by_test_id("post-text")).to_have_text(top_text)
    expect(page.get_by_test_id("post-score")).to_contain_text("P(IO) from this model")
    expect(page.get_by_test_id("attention-caveat")).to_contain_text("Token-level attention is not an explanation")
    heatmap = page.get_by_test_id("token-heatmap")
    expect(heatmap.locator(".token").first).to_have_text("[CLS]")
    expect(page.get_by_test_id("chart-attention")).to_have_class("chart chart-wide js-plotly-plot")
    expect(heatmap).to_have_attribute("data-view", "mean:mean")  # attention.js is ready
    mean_colours = heatmap.locator(".token").evaluate_all("(spans) => spans.map((s) => s.style.background)")
    page.locator("#id_layer").select_option("2")
    page.locator("#id_head").select_option("5")
    expect(heatmap).to_have_attribute("data-view", "2:5")
    assert heatmap.locator(".token").evaluate_all("(spans) => spans.map((s) => s.style.background)") != mean_colours
    for frame_id in ("bertviz-head", "bertviz-model"):
        assert page.get_by_test_id(frame_id).get_attribute("sandbox") == "allow-scripts"
    head = page.frame_locator("[data-testid=bertviz-head]")
    expect(head.locator("#vis svg text").first).to_be_attached(timeout=60_000)  # bertviz draws it all in one task
    drawn = head.locator("#vis svg text").all_text_contents()
    assert "[CLS]" in drawn and len(drawn) >= 2 * heatmap.locator(".token").count(), drawn[:10]
    laid_out = head.locator("#vis svg").evaluate(
        "(svg) => [...svg.querySelectorAll('text')].filter((t) => t.getBBox().width > 0).length")
    assert laid_out >= 2 * heatmap.locator(".token").count()  # the tokens have a width: d3 and the fonts drew them
    assert head.locator("#layer option").all_text_contents() == [str(layer) for layer in range(LAYERS)]
    # The model view: a thumbnail per layer and head, each drawn from the same weights as the page's heatmap.
    # The page and its two frames are three concurrent requests on one model (the test once saw 60 of 72 when
    # one request switched the model back from eager attention under another: ml/text/attention.py).
    page.get_by_test_id("bertviz-model").scroll_into_view_if_needed()
    model_view = page.frame_locator("[data-testid=bertviz-model]")
    expect(model_view.locator("[id^=attn_background_]").first).to_be_attached(timeout=120_000)  # one task, as above
    from_source = json.loads(page.locator("#attention-data").text_content())["from_source"]
    assert [len(heads) for heads in from_source] == [HEADS] * LAYERS
    assert model_view.locator("#vis svg").evaluate(THUMBNAIL_WEIGHTS) == {
        f"{layer}_{head}": weights for layer, heads in enumerate(from_source) for head, weights in enumerate(heads)}
    page.screenshot(path="/tmp/content-post.png", full_page=True)
    frame = page.get_by_test_id("bertviz-head")
    frame.scroll_into_view_if_needed()
    # Chromium paints an offscreen sandboxed (out-of-process) frame only once it is in view (its animation
    # frames are held back until then): wait for one painted frame before the picture.
    head.locator("#vis svg").evaluate(PAINTED)
    frame.screenshot(path="/tmp/content-head-view.png")
    assert leaving == [], f"requests tried to leave the machine: {leaving}"

    # 5. the same post in the workspace's post panel: its stored score, and bertviz's head view on demand
    model_pk, post_pk = re.search(r"/models/(\d+)/posts/(\d+)/", page.url).groups()
    investigation = stack.query("SELECT investigation_id FROM collections_collection WHERE id = ?",
                                (imported["collection_id"],))[0][0]
    page.goto(f"{stack.url}/investigations/{investigation}/workspace/?c={imported['collection_id']}"
              f"&panels=post,table&post={post_pk}")
    expect(page.get_by_test_id("ws-post-text")).to_have_text(top_text)
    page.get_by_test_id("ws-attention-button").click()
    assert page.get_by_test_id("ws-attention").get_attribute("sandbox") == "allow-scripts"
    ws_head = page.frame_locator("[data-testid=ws-attention]")
    expect(ws_head.locator("#vis svg text").first).to_be_attached(timeout=60_000)
    assert "[CLS]" in ws_head.locator("#vis svg text").all_text_contents()
    assert leaving == [], f"requests tried to leave the machine: {leaving}"


# Issue 16's acceptance, on demo-sized data: two collections whose vocabularies differ are the labels ("trolls"
# against "gardens"), and a third collection on a topic the model never met ("pandemic").
TRUST_COLLECTIONS = """
import json
from apps.investigations.models import Investigation
from tests.analyses.text_data import CONTROL, PANDEMIC, TROLL, collection_of
investigation = Investigation.objects.get(pk=%d)
made = {name: collection_of(investigation, name, sentences, accounts=accounts).pk
        for name, sentences, accounts in (("trolls", TROLL, 12), ("gardens", CONTROL, 12), ("pandemic", PANDEMIC, 5))}
print(json.dumps(made))
"""


def test_an_analyst_reads_the_confound_warning_and_sees_an_off_topic_collection_marked_unreliable(stack, page):  # noqa: F811
    from playwright.sync_api import expect

    investigation = investigation_new(stack, "Trust check")
    ids = last_json_line(stack.shell(TRUST_COLLECTIONS % investigation))

    # 1. train on two collections: the positive one is this collection, the negative the gardeners
    log_in(page, stack, f"/collections/{ids['trolls']}/train-classifier/")
    page.select_option("#id_label_source", "collections")
    page.select_option("#id_negative_collection", str(ids["gardens"]))
    page.fill("#id_max_length", "32")
    page.get_by_test_id("train-classifier-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=240_000)

    # 2. the model page: the confound warning names the collections, the topic probe sits beside the model
    page.get_by_test_id("analysis-link").click()
    page.get_by_test_id("text-model-link").click()
    expect(page.locator("h1")).to_contain_text("encoder · “trolls” vs “gardens” · trolls")  # named by its labels
    warning = page.get_by_test_id("confound-warning")
    expect(warning).to_be_visible()
    expect(page.get_by_test_id("confound-collection")).to_contain_text("Each class is one collection")
    expect(page.get_by_test_id("confound-collection")).to_contain_text("“trolls” positive, “gardens” negative")
    for row in ("baseline-model", "baseline-topic_probe", "baseline-tfidf_lr", "baseline-majority"):
        expect(page.get_by_test_id(row)).to_be_visible()
    probe_auc = float(page.get_by_test_id("baseline-topic_probe").locator("td.num").first.inner_text())
    assert probe_auc > 0.95, probe_auc  # a bag of words tells the two collections apart

    # 3. score the off-topic collection: the banner at the top and a mark on each post beyond the training range
    page.get_by_test_id("score-link").click()
    page.select_option("#id_collection", str(ids["pandemic"]))
    page.get_by_test_id("score-start-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=180_000)
    page.get_by_test_id("analysis-link").click()
    banner = page.get_by_test_id("ood-mostly-outside")
    expect(banner).to_be_visible()
    assert banner.bounding_box()["y"] < page.locator("h1").bounding_box()["y"]  # above the title
    rows = page.get_by_test_id("scored-posts").get_by_test_id("scored-post")
    expect(rows.first).to_be_visible()
    marked = rows.filter(has=page.get_by_test_id("unreliable"))
    assert marked.count() > rows.count() / 2, (marked.count(), rows.count())
    # the shift check says how far the collection as a whole lies from the training posts
    shift = page.get_by_test_id("shift-summary")
    expect(shift).to_contain_text("Shift check")
    assert float(shift.locator("strong").inner_text()) > 0.9  # AUC: the collection is plainly unlike the training
    page.screenshot(path="/tmp/trust-offtopic.png", full_page=True)
