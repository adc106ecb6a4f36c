"""A large network on its page, drawn by graph-gl.js from the binary payload, in headless Chromium: the canvas
reports it drawn, a click on a node selects it (the event the workspace will join), a shift-click its community,
a drag pans and the wheel zooms without sending anything to the GPU again, and a browser without WebGL is told so."""
from __future__ import annotations

import json

import pytest

from apps.analyses.kinds.network import GL_MIN_EDGES
from devstack.stack import last_json_line
from tests.browser.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.worker]
COLUMNS, ROWS, COMMUNITIES = 12, 10, 6

# A hashtag network on a 12 x 10 grid (no two nodes overlap: every click has one answer), six communities of
# whole columns pairs, and just over the edge count from which the page draws with graph-gl.js.
NETWORK = """
import json
from django.contrib.auth import get_user_model
from apps.analyses.models import Analysis
from apps.collections.models import Collection
from apps.investigations.models import Investigation
from apps.jobs.models import Job

columns, rows, communities, wanted = %(columns)d, %(rows)d, %(communities)d, %(edges)d
names = [f"tag{i:03d}" for i in range(columns * rows)]
nodes = [{"id": n, "handle": n, "community": (i %% columns) * communities // columns, "x": (i %% columns) / columns,
          "y": (i // columns) / columns, "strength": 1.0 + i, "count": 1 + i %% 7, "giant": True, "labels": {}}
         for i, n in enumerate(names)]
pairs = [(a, b) for a in range(len(names)) for b in range(a + 1, len(names))][:wanted]
result = {"nodes": nodes, "edges": [{"source": names[a], "target": names[b], "weight": 1.0 + (a + b) %% 5}
                                    for a, b in pairs],
          "edges_stored": wanted, "edges_total": wanted, "communities": [], "communities_total": communities,
          "modularity": 0.0, "method": "louvain", "layout": "spring", "giant_size": len(names), "directed": False,
          "label_keys": [], "label_key": None, "counts": {}, "inputs": {}, "timings": {}, "top_hashtags": [],
          "top_domains": []}
investigation = Investigation.objects.get(name="Networks")
collection = Collection.objects.create(investigation=investigation, name="grid")
job = Job.objects.create(investigation=investigation, kind="analysis:hashtag_network", status="succeeded")
analysis = Analysis.objects.create(investigation=investigation, job=job, kind="hashtag_network", collection=collection,
                                   params={"min_count": 2, "min_weight": 1, "top_k": 500}, result=result,
                                   created_by=get_user_model().objects.get(username="alice"))
print(json.dumps({"analysis": analysis.pk}))
"""

GRAPH = "document.querySelector('[data-testid=network]').graphGL"
RECORD_EVENTS = """() => {
  window.__events = [];
  const plot = document.querySelector('[data-testid=network]');
  for (const type of ["graph:select", "network:node", "network:community"]) {
    plot.addEventListener(type, (e) => {
      const d = e.detail;
      window.__events.push({ type, detail: type === "network:node" ? { id: d.id }
        : { type: d.type, id: d.id, community: d.community, ids: d.ids } });
    });
  }
}"""
NO_WEBGL = """
const getContext = HTMLCanvasElement.prototype.getContext;
HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
  return /webgl/.test(kind) ? null : getContext.call(this, kind, ...rest);
};
"""


@pytest.fixture(scope="module")
def network(stack):  # noqa: F811
    investigation_new(stack, "Networks")
    code = NETWORK % {"columns": COLUMNS, "rows": ROWS, "communities": COMMUNITIES, "edges": GL_MIN_EDGES + 199}
    return last_json_line(stack.shell(code))["analysis"]


def opened(page, stack, analysis: int) -> None:  # noqa: F811
    log_in(page, stack, f"/analyses/{analysis}/")
    page.wait_for_selector("[data-testid=network][data-drawn]", state="attached")
    assert page.get_by_test_id("network").get_attribute("data-drawn") == "1"
    page.get_by_test_id("network").scroll_into_view_if_needed()


def screen_of(page, node: str) -> dict:  # noqa: F811
    return page.evaluate(f"(id) => {GRAPH}.screenOf(id)", node)


def test_the_large_network_is_drawn_from_the_binary_payload_and_a_click_selects_a_node(page, stack, network):  # noqa: F811
    opened(page, stack, network)
    # the page carried no edges: they came as typed arrays, every one drawn in the one batch
    embedded = json.loads(page.locator("#network-data").text_content())
    assert embedded["edges"] is None
    drawn = page.evaluate(f"() => ({GRAPH}).stats")
    assert (drawn["nodes"], drawn["edges"]) == (COLUMNS * ROWS, GL_MIN_EDGES + 199), drawn
    assert page.get_by_test_id("network-shown").inner_text() == f"{GL_MIN_EDGES + 199:,} edges, 120 hashtags shown"
    assert page.get_by_test_id("edge-row").count() == 25

    page.evaluate(RECORD_EVENTS)
    at = screen_of(page, "tag037")
    page.mouse.move(at["x"], at["y"])
    tip = page.get_by_test_id("graph-gl-tip")
    page.wait_for_function("() => !document.querySelector('[data-testid=graph-gl-tip]').hidden")
    assert tip.inner_text().startswith("#tag037")
    page.mouse.click(at["x"], at["y"])
    page.wait_for_function("() => window.__events.length >= 2")
    # the renderer's event, and the page's own that it turns into (network.js dispatches it while handling the first)
    events = sorted(page.evaluate("() => window.__events"), key=lambda e: e["type"])
    assert events == [{"type": "graph:select",
                       "detail": {"type": "node", "id": "tag037", "community": 0, "ids": ["tag037"]}},
                      {"type": "network:node", "detail": {"id": "tag037"}}]
    assert page.evaluate(f"() => {GRAPH}.selected()") == ["tag037"]
    assert page.get_by_test_id("network-panel").locator("h3").inner_text() == "#tag037"

    # a shift-click selects the node's whole community: columns 0 and 1 of the grid
    at = screen_of(page, "tag013")
    page.keyboard.down("Shift")
    page.mouse.click(at["x"], at["y"])
    page.keyboard.up("Shift")
    page.wait_for_function("() => window.__events.some((e) => e.type === 'network:community')")
    chosen = next(e for e in page.evaluate("() => window.__events") if e["type"] == "graph:select"
                  and e["detail"]["type"] == "community")["detail"]
    members = sorted(f"tag{i:03d}" for i in range(COLUMNS * ROWS) if i % COLUMNS < 2)
    assert chosen["community"] == 0 and sorted(chosen["ids"]) == members
    assert sorted(page.evaluate(f"() => {GRAPH}.selected()")) == members

    # a click on empty space selects nothing (the page keeps its selection: the event says "none")
    left, right = screen_of(page, "tag000"), screen_of(page, "tag001")
    page.mouse.click((left["x"] + right["x"]) / 2, left["y"])
    page.wait_for_function("() => window.__events.at(-1).detail.type === 'none'")


def test_plotly_loads_after_the_networks_first_draw_and_then_draws_the_pages_other_charts(page, stack, network):  # noqa: F811
    """plotly.js (4.8 MB) is off the first paint of a WebGL network page (static/js/plotly-lazy.js): its request
    starts after network.js marked the network drawn, and the page's Plotly chart (the virality timeline) is then
    drawn."""
    opened(page, stack, network)
    page.wait_for_function("() => Boolean(window.Plotly)")
    # a node picked in the network draws its virality timeline (spread.js, through whenPlotly)
    page.evaluate("""() => document.querySelector('[data-testid=network]')
      .dispatchEvent(new CustomEvent("network:node", { detail: { id: "tag001" } }))""")
    page.wait_for_selector("[data-testid=timeline].js-plotly-plot", state="attached")
    assert "0 posts" in page.locator("#timeline-bursts").inner_text()
    order = page.evaluate("""() => ({
      drawn: performance.getEntriesByName("network:drawn")[0].startTime,
      plotly: performance.getEntriesByType("resource")
        .filter((r) => r.name.includes("plotly") && !r.name.includes("plotly-lazy")).map((r) => r.startTime),
    })""")
    assert len(order["plotly"]) == 1 and order["plotly"][0] > order["drawn"], order


def test_a_drag_pans_and_the_wheel_zooms_without_uploading_again(page, stack, network):  # noqa: F811
    opened(page, stack, network)
    uploads = page.evaluate(f"() => {GRAPH}.stats.uploads")
    start = screen_of(page, "tag050")
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(start["x"] + 12 * step, start["y"] + 5 * step)
    page.mouse.up()
    page.wait_for_function(f"(x) => {GRAPH}.screenOf('tag050').x > x + 100", arg=start["x"])
    moved = screen_of(page, "tag050")
    assert moved["x"] - start["x"] == pytest.approx(120, abs=1) and moved["y"] - start["y"] == pytest.approx(50, abs=1)
    apart = screen_of(page, "tag051")["x"] - moved["x"]
    page.mouse.move(moved["x"], moved["y"])
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"(d) => {GRAPH}.screenOf('tag051').x - {GRAPH}.screenOf('tag050').x > 1.5 * d", arg=apart)
    assert screen_of(page, "tag050")["x"] == pytest.approx(moved["x"], abs=1)  # zoomed about the pointer
    assert page.evaluate(f"() => {GRAPH}.stats.uploads") == uploads
    # a filter changes what is drawn: that does upload
    page.get_by_test_id("filter-min-weight").fill("5")
    page.get_by_test_id("filter-min-weight").dispatch_event("change")
    page.wait_for_function(f"(n) => {GRAPH}.stats.edges < n", arg=GL_MIN_EDGES + 199)
    assert page.evaluate(f"() => {GRAPH}.stats.uploads") > uploads


def test_a_browser_without_webgl_is_told_so(page, stack, network):  # noqa: F811
    page.context.add_init_script(NO_WEBGL)
    log_in(page, stack, f"/analyses/{network}/")
    page.wait_for_selector("[data-testid=network][data-drawn]", state="attached")
    assert page.get_by_test_id("network").get_attribute("data-drawn") == "no-webgl"
    assert "WebGL" in page.get_by_test_id("graph-gl-missing").inner_text()
    assert page.get_by_test_id("edge-row").count() == 25  # the tables still work from the payload
