"""Spread benchmark: Twitter15 import + cascade metrics; the retweet and hashtag networks
(build, Louvain, layout); first paint and pan/zoom frames of a 5,000-node / 50,000-edge network in headless Chromium.

    .venv/bin/python bench/graphs.py [--ira-rows N] [--paints 3] [--renderer gl|plotly|both] [--synthetic]

Everything goes through the product, on a scratch SQLite database in a temp folder:
1. ``manage.py import_collection`` of ../shared/data/twitter15/twitter15.zip, then ``manage.py
   run_analysis propagation`` (cascades rebuilt and measured); twitter15_s = the two commands' own
   seconds (Django's start-up excluded);
2. ``import_collection`` of ../shared/data/ira/ira_dev_en.csv.gz (its time reported apart:
   ira_import_s), then ``run_analysis hashtag_network`` at the default top_k=500 and at top_k=5000
   (the drawn cap); their read, build, Louvain and layout times come from the analysis row;
3. ``run_analysis retweet_network`` on the IRA collection (the file names no retweeted account, so it
   must fail with its sentence) and on the whole Twitter15 import, whose reposts name their parent;
4. the top_k=5000 hashtag network (5,000 nodes, its 50,000 strongest of 61,460 edges) on its real page,
   served by daphne, in Debian's Chromium, in a fresh browser context each time (no cache); the median of
   ``--paints``. ``first_paint_s``: seconds from navigation to the frame after the network's first draw:
   with graph-gl.js (the default for > 5,000 edges) the container's ``data-drawn-ms``, set two animation
   frames after its first render (the frame is on screen); with ``--renderer plotly`` (the page's
   ``?renderer=plotly``, the earlier drawing) the frame after its first ``Plotly.react`` resolved. Then
   ``frames``: 60 animation frames of zooming (30) and panning (30) through the renderer's own pan/zoom
   (a uniform, nothing uploaded), timed frame to frame (median, 95th percentile, worst), and a real drag and
   wheel through the mouse; with Plotly, a zoom and a filter redraw instead. ``--renderer both`` measures the
   two drawings of the same page one after the other (the Plotly figures under ``browser.plotly``).

``--synthetic`` skips steps 1-3: the page is a synthetic hashtag network of the same size (5,000 nodes in 40
communities, 50,000 edges, 85 % inside a community) laid out by the product's own ``ml.graphs``, stored as a
``hashtag_network`` analysis; a quick check of the drawing alone (about a minute).

Ends with one JSON line (see docs/benchmarks.md, sections Spread and Networks in 2 seconds).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from devstack.stack import Stack, last_json_line  # noqa: E402  (daphne as the analyst runs it)

DATA = ROOT.parent / "shared" / "data"
TWITTER15 = DATA / "twitter15" / "twitter15.zip"
IRA = DATA / "ira" / "ira_dev_en.csv.gz"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
PASSWORD = "bench-pass-123"

# Set before plotly.js loads: wraps Plotly.react so each draw of the network records when it began and
# when its promise resolved (after plotly_afterplot), then the next two animation frames (painted).
PAINT_PROBE = """
window.__draws = [];
let plotly;
Object.defineProperty(window, "Plotly", { configurable: true, get: () => plotly, set: (value) => {
  plotly = value;
  const react = value.react;
  value.react = function (gd, ...rest) {
    const started = performance.now();
    return react.call(this, gd, ...rest).then((out) => {
      if (gd.dataset && gd.dataset.testid === "network") {
        const draw = { started, afterplot: performance.now() };
        requestAnimationFrame(() => requestAnimationFrame(() => {
          draw.painted = performance.now();
          window.__draws.push(draw);
        }));
      }
      return out;
    });
  };
} });
"""

# A zoom to the middle quarter of the whole view, from the whole view (reset first, untimed).
ZOOM = """async () => {
  const plot = document.querySelector('[data-testid=network]');
  await window.Plotly.relayout(plot, { "xaxis.autorange": true, "yaxis.autorange": true });
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const [x0, x1] = plot._fullLayout.xaxis.range, [y0, y1] = plot._fullLayout.yaxis.range;
  const started = performance.now();
  await window.Plotly.relayout(plot, { "xaxis.range": [x0 / 4, x1 / 4], "yaxis.range": [y0 / 4, y1 / 4] });
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return (performance.now() - started) / 1000;
}"""

# The renderer's own pan/zoom: one change per animation frame, timed frame to frame (the render runs in the same
# frame, requested before this loop's callback). render_ms: the renderer's JavaScript per frame (GL calls queued).
FRAMES = """async () => {
  const g = document.querySelector('[data-testid=network]').graphGL;
  g.fit();
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  let last = await frame();
  const times = [], render = [];
  for (let f = 0; f < 60; f++) {
    if (f < 30) g.zoomAt(f < 15 ? 1.12 : 1 / 1.12); else g.panBy(f < 45 ? 9 : -9, f < 45 ? 5 : -5);
    const now = await frame();
    times.push(now - last); render.push(g.stats.lastFrameMs); last = now;
  }
  return { times, render, renderer: g.stats.renderer, edges: g.stats.edges, nodes: g.stats.nodes };
}"""

TRACES = """() => document.querySelector('[data-testid=network]').data
    .map((t) => ({ type: t.type, mode: t.mode, meta: t.meta, points: t.x.length }))"""


def ira_head(rows: int, folder: Path) -> Path:
    """The first ``rows`` rows of the IRA dev file, gzipped in a temp folder (never in the repo)."""
    out = folder / f"ira_head_{rows}.csv.gz"
    with (
        gzip.open(IRA, "rt", newline="", encoding="utf-8") as src,
        gzip.open(out, "wt", newline="", encoding="utf-8", compresslevel=1) as dst,
    ):
        writer = csv.writer(dst)
        writer.writerows(
            itertools.islice(csv.reader(src), rows + 1)
        )  # the header and ``rows`` rows (a text may hold newlines)
    return out


class Portal:
    """The scratch portal: one SQLite file, commands run as separate processes, as an analyst runs them."""

    def __init__(self, work: Path):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        self.stack = Stack(
            work,
            {
                **env,
                "DJANGO_SETTINGS_MODULE": "analyst_portal.settings",
                "MURMURATION_VAR_DIR": str(work),
                "PYTHONUNBUFFERED": "1",
            },
        )
        self.stack.manage("migrate", "--no-input", "-v", "0")
        self.stack.shell(
            "from django.contrib.auth.models import User; User.objects.create_superuser('bench', "
            f"password={PASSWORD!r})"
        )

    def command(self, *args: str, check: bool = True) -> dict:
        out = self.stack.manage(*args, "--investigation", "bench", "--user", "bench", timeout=3600, check=check)
        line = last_json_line(out.stdout)
        print(json.dumps(line)[:400], file=sys.stderr)
        return line

    def analyse(self, kind: str, collection: str, *params: str, check: bool = True) -> dict:
        line = self.command(
            "run_analysis", kind, "--collection", collection, *(a for p in params for a in ("--param", p)), check=check
        )
        if line["status"] == "succeeded":
            result = json.loads(
                self.stack.query("SELECT result FROM analyses_analysis WHERE id = ?", (line["analysis"],))[0][0]
            )
            line["timings"] = result.get("timings", {})
            line["nodes"], line["edges_stored"] = len(result.get("nodes", [])), len(result.get("edges", []))
        return line


def filter_min_weight(page, value: str) -> float:
    """Set the page's minimum-weight filter; seconds from its redraw's start to the painted frame."""
    before = page.evaluate("() => window.__draws.length")
    page.fill("[data-testid=filter-min-weight]", value)
    page.dispatch_event("[data-testid=filter-min-weight]", "change")
    page.wait_for_function("(n) => window.__draws.length > n", arg=before, timeout=120_000)
    return page.evaluate(
        "() => { const d = window.__draws[window.__draws.length - 1]; return (d.painted - d.started) / 1000; }"
    )


def log_in(page, url: str) -> None:
    page.goto(f"{url}/login/?next=/")
    page.fill("#id_username", "bench")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def first_paint(portal: Portal, analysis_id: int, runs: int, renderer: str) -> dict:
    """Median seconds from navigation to the painted network over ``runs`` fresh contexts, then the
    interaction figures of the renderer (``paint_gl`` / ``paint_plotly``); ``both``: graph-gl.js's, with the
    Plotly drawing's under ``plotly`` (the same page and server, one after the other)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    stack = portal.stack
    stack.start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                url = f"{stack.url}/analyses/{analysis_id}/?renderer="
                if renderer == "plotly":
                    return paint_plotly(browser, url + "plotly", stack.url, runs)
                out = paint_gl(browser, url + "gl", stack.url, runs)
                print(json.dumps({"graph_gl": out}), file=sys.stderr)  # kept, whatever the comparison does
                if renderer == "both":
                    try:
                        out["plotly"] = paint_plotly(browser, url + "plotly", stack.url, runs)
                    except PlaywrightError as exc:  # under heavy load Plotly's page can stop answering for minutes
                        out["plotly"] = {"error": str(exc).splitlines()[0]}
                return out
            finally:
                browser.close()
    finally:
        stack.stop()


def paint_gl(browser, url: str, base: str, runs: int) -> dict:
    """graph-gl.js: navigation to ``data-drawn-ms``; then 60 frames of pan/zoom, a mouse drag and wheel, a click."""
    paints = []
    for run in range(runs):
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        log_in(page, base)
        page.goto(url, wait_until="commit")
        page.wait_for_selector("[data-testid=network][data-drawn]", state="attached", timeout=120_000)
        drawn = page.get_by_test_id("network").get_attribute("data-drawn")
        if drawn != "1":
            raise SystemExit(f"the network was not drawn: data-drawn={drawn!r} (no WebGL in this browser?)")
        paints.append(int(page.get_by_test_id("network").get_attribute("data-drawn-ms")) / 1000)
        if run < runs - 1:
            context.close()
    frames = page.evaluate(FRAMES)
    canvas = page.get_by_test_id("graph-gl-canvas").bounding_box()
    x, y = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    before = page.evaluate("() => document.querySelector('[data-testid=network]').graphGL.stats.frames")
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x + 10 * step, y + 4 * step)
    page.mouse.up()
    for _ in range(10):
        page.mouse.wheel(0, -120)
    page.wait_for_function("(n) => document.querySelector('[data-testid=network]').graphGL.stats.frames > n",
                           arg=before)
    shown = page.get_by_test_id("network-shown").text_content()
    redraw = filter_redraw_gl(page, "2")
    filter_redraw_gl(page, "0")
    page.context.close()
    times = sorted(frames["times"])
    return {
        "first_paint_s": round(statistics.median(paints), 2),
        "first_paints_s": [round(v, 2) for v in paints],
        "frame_ms": {
            "median": round(statistics.median(times), 1),
            "p95": round(times[int(0.95 * (len(times) - 1))], 1),
            "max": round(times[-1], 1),
            "render_js_median": round(statistics.median(frames["render"]), 2),
        },
        "redraw_s": round(redraw, 3),
        "gl_renderer": frames["renderer"],
        "drawn": {"nodes": frames["nodes"], "edges": frames["edges"]},
        "shown": shown,
    }


def filter_redraw_gl(page, value: str) -> float:
    """Seconds from setting the minimum-weight filter to the frame after graph-gl.js drew it."""
    return page.evaluate(
        """async (value) => {
          const input = document.querySelector('[data-testid=filter-min-weight]');
          const frame = () => new Promise((r) => requestAnimationFrame(r));
          const started = performance.now();
          input.value = value;
          input.dispatchEvent(new Event("change"));
          await frame(); await frame();
          return (performance.now() - started) / 1000;
        }""",
        value,
    )


def paint_plotly(browser, url: str, base: str, runs: int) -> dict:
    """The earlier drawing (Plotly scattergl): navigation to the frame after its first ``Plotly.react``; a zoom,
    a filter redraw, the zoom again without the edge-midpoint trace."""
    paints, after = [], []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        log_in(page, base)
        page.add_init_script(PAINT_PROBE)
        page.goto(url, wait_until="commit")
        page.wait_for_function("() => window.__draws.length > 0", timeout=120_000)
        draw = page.evaluate("() => window.__draws[0]")
        paints.append(draw["painted"] / 1000)
        after.append(draw["afterplot"] / 1000)
        if len(paints) < runs:
            context.close()
    traces = page.evaluate(TRACES)
    shown = page.get_by_test_id("network-shown").text_content()
    zoom = page.evaluate(ZOOM)
    redraw = filter_min_weight(page, "2")
    filter_min_weight(page, "0")  # every edge again
    mids = page.evaluate("() => document.querySelector('[data-testid=network]').data.some((t) => t.meta === 'mids')")
    if mids:  # what the edge midpoints (click targets for an edge's evidence) cost: the same zoom without them
        page.evaluate(
            "() => { const p = document.querySelector('[data-testid=network]'); "
            "return window.Plotly.deleteTraces(p, p.data.findIndex((t) => t.meta === 'mids')); }"
        )
    zoom_without_mids = page.evaluate(ZOOM)
    page.context.close()
    return {
        "first_paint_s": round(statistics.median(paints), 2),
        "first_paints_s": [round(v, 2) for v in paints],
        "afterplot_s": round(statistics.median(after), 2),
        "zoom_s": round(zoom, 3),
        "redraw_s": round(redraw, 3),
        "zoom_without_mids_s": round(zoom_without_mids, 3),
        "edge_traces": sum(t["meta"] == "edges" for t in traces),
        "shown": shown,
    }


SYNTHETIC = """
import json, numpy as np, networkx as nx
from django.contrib.auth import get_user_model
from apps.analyses.kinds import spread
from apps.analyses.models import Analysis
from apps.collections.models import Collection
from apps.investigations.services import investigation_create
from apps.jobs.models import Job
from ml.graphs import network_report

rng = np.random.default_rng(7)
N, M, C = %(nodes)d, %(edges)d, 40
names = [f"tag{i:05d}" for i in range(N)]
community = rng.integers(0, C, N)
members = [np.flatnonzero(community == c) for c in range(C)]
pairs = set()
while len(pairs) < M:
    a = int(rng.integers(N))
    if rng.random() < 0.85:
        b = int(rng.choice(members[community[a]]))
    else:
        b = int(rng.integers(N))
    if a != b:
        pairs.add((min(a, b), max(a, b)))
graph = nx.Graph()
graph.add_nodes_from(names)
for a, b in pairs:
    graph.add_edge(names[a], names[b], weight=float(1 + rng.pareto(1.5)))
for n in graph.nodes:
    graph.nodes[n]["count"] = int(graph.degree(n))
report = network_report(graph, edges_cap=M)
result = spread.network_result(report, names={n: n for n in graph.nodes}, labels={}, prefix="#", label_key=None,
                               inputs={"hashtags": N, "hashtags_kept": N, "posts": 0, "interactions_read": 0,
                                       "rows_left_out": 0, "events_left_out": 0})
result.update({"top_hashtags": [], "top_domains": []})
user = get_user_model().objects.get(username="bench")
investigation = investigation_create(user=user, name="bench-synthetic")
collection = Collection.objects.create(investigation=investigation, name="synthetic")
job = Job.objects.create(investigation=investigation, kind="analysis:hashtag_network", status="succeeded")
analysis = Analysis.objects.create(investigation=investigation, job=job, kind="hashtag_network", collection=collection,
                                   params={"min_count": 2, "min_weight": 1, "top_k": N}, result=result,
                                   summary={"hashtags": N, "edges": M}, created_by=user)
print(json.dumps({"analysis": analysis.pk, "nodes": len(result["nodes"]), "edges": len(result["edges"]),
                  "layout": result["layout"], "layout_s": result["timings"]["layout_s"]}))
"""


def synthetic(portal: Portal, nodes: int = 5_000, edges: int = 50_000) -> dict:
    """A synthetic hashtag network of ``nodes`` / ``edges`` stored as an analysis (see the module's docstring)."""
    return last_json_line(portal.stack.shell(SYNTHETIC % {"nodes": nodes, "edges": edges}, timeout=600))


def machine() -> str:
    return (f"{platform.machine()} {os.cpu_count()} cores, {platform.python_implementation()} "
            f"{platform.python_version()}, {CHROMIUM} headless")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ira-rows", type=int, default=0, help="only the first N rows of the IRA file (default: all)")
    parser.add_argument("--paints", type=int, default=3, help="page loads to time (the median is reported)")
    parser.add_argument("--renderer", choices=("gl", "plotly", "both"), default="gl",
                        help="graph-gl.js (the page's default at this size), the earlier Plotly drawing, or both")
    parser.add_argument("--synthetic", action="store_true", help="only the drawing, of a synthetic network")
    args = parser.parse_args()
    for path in () if args.synthetic else (TWITTER15, IRA):
        if not path.exists():
            sys.exit(f"{path} is missing: the benchmark needs ../shared/data beside the checkout")
    work = Path(tempfile.mkdtemp(prefix="murmuration-bench-graphs-"))
    try:
        portal = Portal(work)
        if args.synthetic:
            network = synthetic(portal)
            paint = first_paint(portal, network["analysis"], args.paints, args.renderer)
            print(json.dumps({"bench": "graphs", "synthetic": True, "renderer": args.renderer,
                              "first_paint_s": paint["first_paint_s"],
                              "plotly_first_paint_s": paint.get("plotly", {}).get("first_paint_s"), "network": network,
                              "browser": paint, "machine": machine()}))
            return
        t15 = portal.command("import_collection", str(TWITTER15), "--collection", "twitter15")
        propagation = portal.analyse("propagation", "twitter15")
        ira_path = ira_head(args.ira_rows, work) if args.ira_rows else IRA
        ira = portal.command("import_collection", str(ira_path), "--collection", "ira")
        retweet_ira = portal.analyse("retweet_network", "ira", check=False)
        retweet = portal.analyse("retweet_network", "twitter15")
        hashtag = portal.analyse("hashtag_network", "ira")
        hashtag_5k = portal.analyse("hashtag_network", "ira", "top_k=5000")
        paint = first_paint(portal, hashtag_5k["analysis"], args.paints, args.renderer)
        print(
            json.dumps(
                {
                    "bench": "graphs",
                    "twitter15_s": round(t15["seconds"] + propagation["seconds"], 2),
                    "retweet_network_s": retweet["seconds"],
                    "hashtag_network_s": hashtag["seconds"],
                    "louvain_s": hashtag_5k["timings"]["communities_s"],
                    "layout_s": hashtag_5k["timings"]["layout_s"],
                    "first_paint_s": paint["first_paint_s"],
                    "frame_ms_p95": paint.get("frame_ms", {}).get("p95"),
                    "plotly_first_paint_s": paint.get("plotly", {}).get("first_paint_s"),
                    "renderer": args.renderer,
                    "twitter15": {
                        "import_s": t15["seconds"],
                        "rows": t15["rows_read"],
                        "stored": t15["stored"],
                        "rejected": t15["rejected"],
                        "propagation_s": propagation["seconds"],
                        "cascades": propagation["cascades"],
                        "largest": propagation["largest"],
                        "deepest": propagation["deepest"],
                    },
                    "ira": {"import_s": ira["seconds"], "rows": ira["rows_read"], "stored": ira["stored"]},
                    "retweet_network_ira": retweet_ira["error"] or retweet_ira["status"],
                    "retweet_network": {
                        "on": "twitter15",
                        **{
                            k: retweet[k]
                            for k in ("seconds", "accounts", "edges", "communities", "modularity", "timings")
                        },
                    },
                    "hashtag_network": {
                        k: hashtag[k] for k in ("seconds", "hashtags", "edges", "communities", "modularity", "timings")
                    },
                    "hashtag_network_5k": {
                        k: hashtag_5k[k]
                        for k in ("seconds", "hashtags", "edges", "edges_stored", "communities", "modularity",
                                  "timings")
                    },
                    "browser": paint,
                    "machine": machine(),
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
