"""Spread benchmark: Twitter15 import + cascade metrics; the retweet and hashtag networks
(build, Louvain, layout); first paint of a 5,000-node / 50,000-edge network in headless Chromium.

    .venv/bin/python bench/graphs.py [--ira-rows N] [--paints 3]

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
   served by daphne, in Debian's Chromium: seconds from navigation to the frame after Plotly's first
   draw of the network (the promise of its first ``Plotly.react``, which resolves after
   ``plotly_afterplot``), in a fresh browser context each time (no cache); the median of ``--paints``.
   Then a zoom and a filter redraw, timed the same way, to check the graph stays interactive.

Ends with one JSON line (see docs/benchmarks.md, section Spread).
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


def first_paint(portal: Portal, analysis_id: int, runs: int) -> dict:
    """Median seconds from navigation to the painted network over ``runs`` fresh contexts; a zoom and
    a filter redraw after the last; the traces drawn (edges must be a few WebGL traces, not one each)."""
    from playwright.sync_api import sync_playwright

    stack = portal.stack
    stack.start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            paints, after = [], []
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1360, "height": 900})
                page = context.new_page()
                page.goto(f"{stack.url}/login/?next=/")
                page.fill("#id_username", "bench")
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{stack.url}/")
                page.add_init_script(PAINT_PROBE)
                page.goto(f"{stack.url}/analyses/{analysis_id}/", wait_until="commit")
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
            # What the edge midpoints (network.js's click targets for an edge's evidence; the spread
            # kinds have none) cost: the same zoom once that trace is gone.
            page.evaluate(
                "() => { const p = document.querySelector('[data-testid=network]'); "
                "return window.Plotly.deleteTraces(p, p.data.findIndex((t) => t.meta === 'mids')); }"
            )
            zoom_without_mids = page.evaluate(ZOOM)
            gl = page.evaluate(
                "() => !!document.querySelector("
                "'[data-testid=network] canvas.gl-canvas-context, [data-testid=network] canvas')"
            )
            context.close()
            browser.close()
    finally:
        stack.stop()
    return {
        "first_paint_s": round(statistics.median(paints), 2),
        "first_paints_s": [round(v, 2) for v in paints],
        "afterplot_s": round(statistics.median(after), 2),
        "zoom_s": round(zoom, 3),
        "redraw_s": round(redraw, 3),
        "zoom_without_mids_s": round(zoom_without_mids, 3),
        "traces": traces,
        "shown": shown,
        "webgl_canvas": gl,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ira-rows", type=int, default=0, help="only the first N rows of the IRA file (default: all)")
    parser.add_argument("--paints", type=int, default=3, help="page loads to time (the median is reported)")
    args = parser.parse_args()
    for path in (TWITTER15, IRA):
        if not path.exists():
            sys.exit(f"{path} is missing: the benchmark needs ../shared/data beside the checkout")
    work = Path(tempfile.mkdtemp(prefix="murmuration-bench-graphs-"))
    try:
        portal = Portal(work)
        t15 = portal.command("import_collection", str(TWITTER15), "--collection", "twitter15")
        propagation = portal.analyse("propagation", "twitter15")
        ira_path = ira_head(args.ira_rows, work) if args.ira_rows else IRA
        ira = portal.command("import_collection", str(ira_path), "--collection", "ira")
        retweet_ira = portal.analyse("retweet_network", "ira", check=False)
        retweet = portal.analyse("retweet_network", "twitter15")
        hashtag = portal.analyse("hashtag_network", "ira")
        hashtag_5k = portal.analyse("hashtag_network", "ira", "top_k=5000")
        paint = first_paint(portal, hashtag_5k["analysis"], args.paints)
        print(json.dumps(paint["traces"]), file=sys.stderr)
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
                        for k in (
                            "seconds",
                            "hashtags",
                            "edges",
                            "edges_stored",
                            "communities",
                            "modularity",
                            "timings",
                        )
                    },
                    "browser": {
                        k: paint[k]
                        for k in (
                            "first_paints_s",
                            "afterplot_s",
                            "zoom_s",
                            "redraw_s",
                            "zoom_without_mids_s",
                            "shown",
                            "webgl_canvas",
                        )
                    },
                    "edge_traces": sum(t["meta"] == "edges" for t in paint["traces"]),
                    "trace_types": sorted({t["type"] for t in paint["traces"]}),
                    "machine": f"{platform.machine()} {os.cpu_count()} cores, "
                            "{platform.python_implementation()} {platform.python_version()}",
                }
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
