"""An analyst sees how stories spread, end to end: a real server, a real worker, headless Chromium.

Two small real slices are imported through the real importer, once for the module: Twitter15 (two
short trees per veracity label) and the first 3,000 rows of the IRA dev file. On them: the cascades
and their metric distributions by label (with the log time axis); the retweet network of the
Twitter15 accounts (the IRA file names no retweeted account); and the IRA hashtag co-occurrence graph,
coloured by community, where clicking a hashtag loads its timeline with the bursts flagged."""
from __future__ import annotations

import csv
import gzip
import itertools
import json
import math

import pytest

from devstack.stack import last_json_line
from tests.analyses.test_spread_analysis import LABELS, twitter15_slice
from tests.browser.test_browser import chromium, investigation_new, log_in, page, stack  # noqa: F401  (shared fixtures)
from tests.conftest import SHARED_DATA

# Only the propagation test runs again on PostgreSQL and Redis (it goes through the worker); the
# network pages need neither.
pytestmark = [pytest.mark.browser, pytest.mark.worker]
IRA_ROWS = 3_000


@pytest.fixture(scope="module")
def shared():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: the real-data tests need ../shared/data beside the checkout")
    return SHARED_DATA


@pytest.fixture(scope="module")
def rumours(stack, shared, tmp_path_factory):  # noqa: F811
    """The Twitter15 slice in the investigation "Rumours"."""
    investigation_new(stack, "Rumours")
    path, picked = twitter15_slice(shared, tmp_path_factory.mktemp("t15") / "t15.zip")
    imported = last_json_line(stack.manage("import_collection", str(path), "--investigation", "Rumours",
                                           "--collection", "twitter15", "--user", "alice").stdout)
    assert imported["status"] == "succeeded", imported
    return {"collection_id": imported["collection_id"], "picked": picked}


@pytest.fixture(scope="module")
def ira_dev(stack, shared, tmp_path_factory):  # noqa: F811
    """The first IRA_ROWS rows of the IRA dev file in the investigation "IRA dev" (a temp copy)."""
    path = tmp_path_factory.mktemp("ira") / "ira_dev_head.csv"
    with gzip.open(shared / "ira" / "ira_dev_en.csv.gz", "rt", newline="", encoding="utf-8") as src:
        rows = list(itertools.islice(csv.reader(src), IRA_ROWS + 1))
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    investigation_new(stack, "IRA dev")
    imported = last_json_line(stack.manage("import_collection", str(path), "--investigation", "IRA dev",
                                           "--collection", "ira_dev", "--user", "alice").stdout)
    assert imported["status"] == "succeeded" and imported["rows_read"] == IRA_ROWS, imported
    header = rows[0]
    return {"collection_id": imported["collection_id"], "rows": [dict(zip(header, r)) for r in rows[1:]]}


def analyse(stack, kind: str, investigation: str, collection: str) -> tuple[int, dict]:  # noqa: F811
    """Run the analysis with the command (the same job the pages start); its id and stored result."""
    line = last_json_line(stack.manage("run_analysis", kind, "--investigation", investigation,
                                       "--collection", collection,
                                       "--user", "alice").stdout)
    assert line["status"] == "succeeded", line
    (stored,) = stack.query("SELECT result FROM analyses_analysis WHERE id = ?", (line["analysis"],))[0]
    return line["analysis"], stored if isinstance(stored, dict) else json.loads(stored)


NODES = "() => document.querySelector('[data-testid=network]').data.find((t) => t.meta === 'nodes')"


def drawn_network(page) -> dict:  # noqa: F811  (the page fixture's object, passed in)
    """The drawn node trace as {id: colour} and the edge traces' types."""
    trace = page.evaluate(f"() => {{ const t = ({NODES})(); "
                          f"return {{ ids: t.customdata, colours: t.marker.color }}; }}")
    types = page.evaluate("() => document.querySelector('[data-testid=network]').data"
                          ".map((t) => `${t.type}:${t.meta}`)")
    return {"colours": dict(zip(trace["ids"], trace["colours"])), "types": types}


def assert_coloured_by_community(page, result: dict) -> None:  # noqa: F811  (the page fixture's object, passed in)
    page.get_by_test_id("filter-colour").select_option("community")
    drawn = drawn_network(page)
    stored = {n["id"]: n["community"] for n in result["nodes"]}
    assert set(drawn["colours"]) == set(stored)  # every stored node is drawn
    by_community = {}
    for node, colour in drawn["colours"].items():
        by_community.setdefault(stored[node], set()).add(colour)
    assert all(len(colours) == 1 for colours in by_community.values())  # one colour per community
    largest = [c["community"] for c in result["communities"][:2]]
    assert by_community[largest[0]] != by_community[largest[1]]
    # WebGL only; edges as a few line traces with gaps, not one trace per edge
    assert {t.split(":")[0] for t in drawn["types"]} == {"scattergl"}
    assert sum(t == "scattergl:edges" for t in drawn["types"]) <= 2


def test_an_analyst_compares_cascades_by_veracity(stack, rumours, page):  # noqa: F811
    from playwright.sync_api import expect

    from ml.graphs import log_time

    # 1. start the propagation analysis from its page; the worker runs it
    log_in(page, stack, f"/collections/{rumours['collection_id']}/propagation/")
    page.get_by_test_id("propagation-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_text("succeeded", timeout=120_000)
    page.get_by_test_id("analysis-link").click()

    # 2. the metrics by label: one row and one box per veracity label
    expect(page.get_by_test_id("label-row")).to_have_count(len(LABELS))
    virality = page.get_by_test_id("dist-structural_virality")
    expect(virality).to_have_class("chart js-plotly-plot")
    boxes = page.evaluate("() => document.querySelector('[data-testid=dist-structural_virality]').data"
                          ".map((t) => t.name)")
    assert boxes == sorted(LABELS)

    # 3. a cascade drawn with WebGL, time on x; picking another redraws it
    cascade = page.get_by_test_id("cascade")
    expect(cascade).to_have_class("chart chart-cascade js-plotly-plot")
    types = page.evaluate("() => [...new Set(document.querySelector('[data-testid=cascade]').data.map((t) => t.type))]")
    assert types == ["scattergl"]
    first = page.evaluate("() => document.querySelector('[data-testid=cascade]').layout.title.text")
    options = page.get_by_test_id("cascade-select").locator("option")
    assert options.count() == len(rumours["picked"])
    page.get_by_test_id("cascade-select").select_option(index=options.count() - 1)
    page.wait_for_function("(t) => document.querySelector('[data-testid=cascade]').layout.title.text !== t", arg=first)
    page.get_by_test_id("cascade-select").select_option(index=0)

    # 4. the log time axis: every node at log10(1 + minutes), ticks naming real delays; and back
    hours = page.evaluate("() => document.querySelector('[data-testid=cascade]').data[1].x")
    page.get_by_test_id("cascade-time").select_option("log")
    page.wait_for_function("() => document.querySelector('[data-testid=cascade]')"
                           ".layout.xaxis.title.text.includes('log')")
    logged = page.evaluate("() => document.querySelector('[data-testid=cascade]').data[1].x")
    assert logged == pytest.approx([log_time(h) for h in hours]) and max(hours) > 0
    assert page.evaluate("() => document.querySelector('[data-testid=cascade]')"
                         "._fullLayout.xaxis.ticktext.includes('1 h')")
    page.get_by_test_id("cascade-time").select_option("linear")
    page.wait_for_function("(h) => document.querySelector('[data-testid=cascade]').data[1].x[1] === h[1]", arg=hours)
    back = page.evaluate("() => document.querySelector('[data-testid=cascade]').data[1].x")
    assert math.isclose(max(hours), max(back))
    page.screenshot(path="/tmp/spread.png", full_page=True)


def test_an_analyst_sees_who_amplifies_whom(stack, rumours, page):  # noqa: F811
    from playwright.sync_api import expect

    analysis_id, result = analyse(stack, "retweet_network", "Rumours", "twitter15")
    log_in(page, stack, f"/analyses/{analysis_id}/")
    expect(page.get_by_test_id("network")).to_have_class("net-plot js-plotly-plot")
    expect(page.get_by_test_id("network-shown")).to_have_text(
        f"{len(result['edges']):,} edges, {len(result['nodes']):,} accounts shown")
    assert_coloured_by_community(page, result)
    expect(page.get_by_test_id("community-row")).to_have_count(min(result["communities_total"], 50))
    expect(page.get_by_test_id("modularity")).to_contain_text(f"modularity {result['modularity']:.3f}")
    page.get_by_test_id("filter-size").select_option("in_weight")  # the most amplified accounts grow
    sizes = page.evaluate(f"() => ({NODES})().marker.size")
    top = max(result["nodes"], key=lambda n: n["in_weight"])
    ids = page.evaluate(f"() => ({NODES})().customdata")
    assert sizes[ids.index(top["id"])] == max(sizes)


# Where to click a node: its centre, and how far the nearest other point is (scattergl's hover picks
# the nearest centre, among the nodes and the edge midpoints network.js draws for edge clicks).
CLICKABLE = """(id) => {
  const plot = document.querySelector('[data-testid=network]');
  const xa = plot._fullLayout.xaxis, ya = plot._fullLayout.yaxis;
  const box = plot.querySelector('.nsewdrag').getBoundingClientRect();
  const at = (t, j) => [xa.l2p(t.x[j]), ya.l2p(t.y[j])];  // pixels inside the plot area (its drag rectangle)
  const nodes = plot.data.find((d) => d.meta === 'nodes'), mids = plot.data.find((d) => d.meta === 'mids');
  const i = nodes.customdata.indexOf(id), [cx, cy] = at(nodes, i);
  let clear = Infinity;
  for (const t of [nodes, mids]) (t ? t.x : []).forEach((_, j) => {
    if (t === nodes && j === i) return;
    const [x, y] = at(t, j);
    clear = Math.min(clear, Math.hypot(x - cx, y - cy));
  });
  return { x: box.left + cx, y: box.top + cy, clear };
}"""

# As an analyst zooms in on a crowded hub: the axes narrow around the node, markers keep their size.
ZOOM_TO = """async ({ id, zoom }) => {
  const plot = document.querySelector('[data-testid=network]');
  const t = plot.data.find((d) => d.meta === 'nodes'), i = t.customdata.indexOf(id);
  const [x0, x1] = plot._fullLayout.xaxis.range, [y0, y1] = plot._fullLayout.yaxis.range;
  const w = (x1 - x0) / zoom / 2, h = (y1 - y0) / zoom / 2;
  await window.Plotly.relayout(plot, {
    'xaxis.range': [t.x[i] - w, t.x[i] + w], 'yaxis.range': [t.y[i] - h, t.y[i] + h],
  });
}"""


def click_node(page, node: str) -> None:  # noqa: F811  (the page fixture's object, passed in)
    for _ in range(6):
        point = page.evaluate(CLICKABLE, node)
        if point["clear"] > 4:  # no other point within 4 px
            break
        page.evaluate(ZOOM_TO, {"id": node, "zoom": 4})
    assert point["clear"] > 4, point
    page.mouse.move(point["x"], point["y"])
    from playwright.sync_api import expect

    expect(page.locator("[data-testid=network] .hovertext").first).to_contain_text(node)
    page.mouse.click(point["x"], point["y"])


def expected_bursts(rows: list[dict], tag: str) -> tuple[int, int, set]:
    """The hashtag's posts, hourly bursts and account categories, worked out from the CSV slice itself
    (the importer drops repeats of one author, minute and text)."""
    import pandas as pd

    from apps.collections.importers.common import text_entities
    from ml.graphs import BurstConfig, timeline

    seen = {(r["author"], r["publish_date"], r["content"]): r["account_category"]
            for r in rows if tag in text_entities(r["content"])[0]}
    line = timeline(pd.to_datetime([when for _, when, _ in seen], utc=True), None, BurstConfig(freq="hour"))
    return len(seen), len(line["bursts"]), set(seen.values())


def test_an_analyst_picks_a_hashtag_in_the_ira_graph_and_sees_its_bursts(stack, ira_dev, page):  # noqa: F811
    from playwright.sync_api import expect

    analysis_id, result = analyse(stack, "hashtag_network", "IRA dev", "ira_dev")
    assert result["communities_total"] >= 2
    log_in(page, stack, f"/analyses/{analysis_id}/")

    # 1. the co-occurrence graph, every stored hashtag drawn, coloured by community
    expect(page.get_by_test_id("network")).to_have_class("net-plot js-plotly-plot")
    expect(page.get_by_test_id("network-shown")).to_have_text(
        f"{len(result['edges']):,} edges, {len(result['nodes']):,} hashtags shown")
    assert_coloured_by_community(page, result)

    # 2. the page opens on the most used hashtag's timeline; a click on another node loads that one's
    first, tag = result["top_hashtags"][:2]
    expect(page.get_by_test_id("timeline-bursts")).to_contain_text(" posts · ")
    title = "() => document.querySelector('[data-testid=timeline]').layout.title.text"
    assert page.evaluate(title) == f"#{first}: posts per hour"
    page.get_by_test_id("network").scroll_into_view_if_needed()
    click_node(page, tag)
    expect(page.get_by_test_id("timeline-hashtag")).to_have_value(tag)
    page.wait_for_function(f"(t) => ({title})() === t", arg=f"#{tag}: posts per hour")
    expect(page.get_by_test_id("network-panel").locator("h3")).to_have_text(f"#{tag}")

    # 3. its bursts flagged: as many red markers as the CSV slice itself gives, and said in words;
    #    the posts carry no label, so the bars split by the accounts' category (RightTroll, ...)
    posts, bursts, categories = expected_bursts(ira_dev["rows"], tag)
    assert bursts >= 1
    traces = page.evaluate("() => document.querySelector('[data-testid=timeline]').data"
                           ".map((t) => [t.name, t.x.length])")
    assert [n for name, n in traces if name == "burst"] == [bursts]
    assert {name for name, _ in traces if name != "burst"} == categories
    expect(page.get_by_test_id("timeline-bursts")).to_have_text(
        f"{posts:,} posts · {bursts} burst{'s' if bursts > 1 else ''} · split by account account_category")
    page.screenshot(path="/tmp/spread-hashtags.png", full_page=True)
