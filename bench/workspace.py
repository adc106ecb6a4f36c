"""The workspace at scale: the whole IRA development file (1.35 M posts) with a coordination run stored.

    .venv/bin/python bench/workspace.py [--file ../shared/data/ira/ira_dev_en.csv.gz] [--clients 20] [--seconds 60]
    .venv/bin/python bench/workspace.py --rows 200000 --clients 5 --seconds 15   # a short try first

The portal runs as in production (PostgreSQL of BENCH_DATABASE_URL in a throwaway database, Redis database 14 of
BENCH_REDIS_URL, ``--servers`` daphne processes on one socket (default 2, one per core), one qcluster). Setup, not
measured but reported: the import (``manage.py import_collection``) and the coordination analysis (``manage.py
run_analysis coordination``, one-hour bins).

Measured:
1. **posts API**: ``--clients`` threads, each with its own logged-in session, for ``--seconds`` seconds ask for
   filtered and sorted pages of the workspace's posts table as the page does: a random community of the stored
   network, or a random handful of accounts, or a random week, or a text search, sorted by time either way, and
   follow ``next`` for up to three pages (keyset). Between two requests a client waits ``--think`` seconds on
   average (uniform from half to one and a half times it: an analyst reads a page before the next; 0 = as fast as
   the server answers, a saturation test). p50/p95/p99 of every request; errors (non-2xx, exceptions).
2. **first paint**: headless Chromium (Debian's) opens the workspace; the time from navigation start until every
   panel has drawn (``#workspace[data-state=ready]``), median of 3 loads.
3. **select → redraw**: a click on a community button until the table, the timeline and the network have all
   redrawn (the next ``ready``), median over up to 5 communities.

Ends with one JSON line: ``{"bench": "workspace", "posts_p95_ms", "errors", "select_to_redraw_s",
"first_paint_s", ...}``.
"""
from __future__ import annotations

import argparse
import gzip
import http.cookiejar
import json
import os
import platform
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from devstack.stack import last_json_line, portal_stack  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "ira" / "ira_dev_en.csv.gz"
PASSWORD = "bench-pass-123"
CHROMIUM = "/usr/bin/chromium"
# Production settings: Secure cookies behind a TLS proxy, which the clients stand in for on loopback (they send
# X-Forwarded-Proto: https and the cookies over plain HTTP, as bench/load.py does).
http.cookiejar.DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
WORDS = ["trump", "hillary", "news", "police", "obama", "vote", "media", "america"]

SETUP = """
import json
from django.contrib.auth import get_user_model
from apps.investigations.services import investigation_create
user = get_user_model().objects.create_user("bench", password=%r)
print(json.dumps({"investigation": investigation_create(user=user, name="IRA workspace bench").pk}))
"""


def head(path: Path, rows: int, out: Path) -> Path:
    """The first ``rows`` data rows of a gzip CSV (the header kept), for a short try."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as src, gzip.open(out, "wt", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i > rows:
                break
            dst.write(line)
    return out


def session(url: str) -> requests.Session:
    s = requests.Session()
    s.headers.update({**PROXY_HEADERS, "Referer": f"https://{url.split('://', 1)[1]}/"})
    page = s.get(f"{url}/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    s.post(f"{url}/login/", data={"username": "bench", "password": PASSWORD, "csrfmiddlewaretoken": token}
           ).raise_for_status()
    return s


def queries(collection: int, communities: list[str], accounts: list[int], span: tuple[str, str], rng) -> tuple:
    """One table request as the page makes it: a selection (community, accounts, a week, a word), a sort; returns
    (what was selected, the parameters)."""
    params = {"collection": collection, "limit": 50, "sort": rng.choice(["time", "-time"])}
    pick = rng.random()
    if pick < 0.4 and communities:
        params["community"] = rng.choice(communities)
        what = "community"
    elif pick < 0.6:
        params["accounts"] = ",".join(map(str, rng.sample(accounts, min(5, len(accounts)))))
        what = "5 accounts"
    elif pick < 0.85:
        first, last = (time.mktime(time.strptime(t[:10], "%Y-%m-%d")) for t in span)
        start = first + rng.random() * max(0, last - first - 7 * 86400)
        params["from"] = time.strftime("%Y-%m-%dT00:00:00", time.gmtime(start))
        params["to"] = time.strftime("%Y-%m-%dT00:00:00", time.gmtime(start + 7 * 86400))
        what = "a week"
    else:
        params["q"] = rng.choice(WORDS)
        what = "a word"
    return what, params


def load(url: str, investigation: int, collection: int, communities, accounts, span, clients: int, seconds: int,
         think: float):
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    sessions = [session(url) for _ in range(clients)]
    api = f"{url}/api/investigations/{investigation}/workspace/posts/"

    def client(i: int) -> None:
        rng = random.Random(i)
        s = sessions[i]
        while time.monotonic() < stop_at:
            what, params = queries(collection, communities, accounts, span, rng)
            for page in range(rng.randint(1, 3)):
                t0 = time.perf_counter()
                try:
                    r = s.get(api, params=params, timeout=30)
                    ok = r.status_code == 200
                    body = r.json() if ok else None
                except Exception as exc:  # noqa: BLE001  (every failure is an error to report)
                    ok, body = False, None
                    with lock:
                        errors.append(repr(exc))
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    by_kind.setdefault(f"{what}, {'first page' if page == 0 else 'next page'}", []).append(elapsed)
                    if not ok and body is None and len(errors) < 1000:
                        errors.append(f"{getattr(r, 'status_code', '?')} {params}")
                if think:
                    time.sleep(rng.uniform(0.5 * think, 1.5 * think))
                if not body or not body.get("next"):
                    break
                params = {**params, "cursor": body["next"]}

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for kind, values in sorted(by_kind.items()):
        ms = [v * 1000 for v in values]
        p50, p95 = percentile(ms, 0.5), percentile(ms, 0.95)
        print(f"  {kind:28s} {len(ms):5d} requests  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    return latencies, errors


MEASURE_SELECT = """async (community) => {
  const ws = document.getElementById('workspace');
  const before = Number(ws.dataset.drawn);
  const button = document.querySelector(`[data-testid=ws-community][data-community="${community}"]`);
  const t0 = performance.now();
  button.click();
  await new Promise((resolve) => {
    const check = () => {
      if (ws.dataset.state === 'ready' && Number(ws.dataset.drawn) > before) { observer.disconnect(); resolve(); }
    };
    const observer = new MutationObserver(check);
    observer.observe(ws, { attributes: true });
    check();
  });
  return (performance.now() - t0) / 1000;
}"""


def browser(url: str, investigation: int, communities: list[str]) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    firsts, selects = [], []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                     "--disable-dev-shm-usage", "--disable-background-networking"])
        # Chromium keeps Secure cookies on http://127.0.0.1 (a trustworthy origin); the header stands in for the proxy.
        context = chromium.new_context(viewport={"width": 1360, "height": 900}, extra_http_headers=PROXY_HEADERS)
        # Logged in as the clients are (a browser's POST from http:// would fail the HTTPS origin check).
        context.add_cookies([{"name": c.name, "value": c.value, "url": url} for c in session(url).cookies])
        page = context.new_page()
        page.on("pageerror", lambda exc: print("page error:", exc, flush=True))
        page.on("response", lambda r: r.status >= 400 and print("HTTP", r.status, r.url, flush=True))
        for _ in range(3):
            page.goto(f"{url}/investigations/{investigation}/workspace/")
            page.wait_for_selector("#workspace[data-state=ready][data-drawn]:not([data-drawn='0'])", timeout=120_000)
            firsts.append(page.evaluate("() => performance.now() / 1000"))
        page.wait_for_selector("[data-testid=ws-community]", timeout=60_000)
        numbers = page.evaluate("() => [...document.querySelectorAll('[data-testid=ws-community]')]"
                                ".map((b) => b.dataset.community)")[:5]
        for number in numbers:
            selects.append(page.evaluate(MEASURE_SELECT, number))
        chromium.close()
    return firsts, selects


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--rows", type=int, default=0, help="use only the file's first N rows (0: all)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds a client waits between requests")
    parser.add_argument("--servers", type=int, default=2,
                        help="daphne processes on one listening socket (production runs one per core)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure: say how much there was

    with tempfile.TemporaryDirectory() as tmp:
        data = head(args.file, args.rows, Path(tmp) / "head.csv.gz") if args.rows else args.file
        env = {"DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL, "DEBUG": "0", "HF_HUB_OFFLINE": "1",
               "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
               "SECURE_SSL_REDIRECT": "0", "STATIC_FROM_FINDERS": "1"}
        with portal_stack(Path(tmp), env=env, pg_name="murmuration_workspace_bench",
                          server_processes=args.servers) as stack:
            investigation = last_json_line(stack.shell(SETUP % PASSWORD))["investigation"]
            t0 = time.perf_counter()
            imported = last_json_line(stack.manage("import_collection", str(data), "--investigation",
                                                   "IRA workspace bench", "--collection", "ira", "--user", "bench",
                                                   timeout=3600).stdout)
            import_s = time.perf_counter() - t0
            collection = imported["collection_id"]
            print(f"import: {imported.get('stored')} posts in {import_s:.0f} s", flush=True)
            t0 = time.perf_counter()
            ran = last_json_line(stack.manage("run_analysis", "coordination", "--investigation", "IRA workspace bench",
                                              "--collection", "ira", "--user", "bench", timeout=3600).stdout)
            coordination_s = time.perf_counter() - t0
            print(f"coordination: {ran} in {coordination_s:.0f} s", flush=True)
            nodes = stack.query("SELECT result FROM analyses_analysis WHERE kind = 'coordination'")[0][0]
            nodes = (json.loads(nodes) if isinstance(nodes, str) else nodes)["nodes"]
            analysis = stack.query("SELECT id FROM analyses_analysis WHERE kind = 'coordination'")[0][0]
            communities = sorted({f"{analysis}:{n['community']}" for n in nodes})
            accounts = [row[0] for row in stack.query("SELECT id FROM collections_account WHERE collection_id = %s"
                                                      % int(collection))]
            span = stack.query("SELECT min(time)::text, max(time)::text FROM collections_post WHERE collection_id = %s"
                               % int(collection))[0]
            latencies, errors = load(stack.url, investigation, collection, communities, accounts, span,
                                     args.clients, args.seconds, args.think)
            firsts, selects = browser(stack.url, investigation, communities)

    ms = [v * 1000 for v in latencies]
    figures = {
        "bench": "workspace",
        "posts": imported.get("stored"),
        "clients": args.clients,
        "seconds": args.seconds,
        "think_s": args.think,
        "servers": args.servers,
        "requests": len(ms),
        "posts_p50_ms": round(percentile(ms, 0.50), 1),
        "posts_p95_ms": round(percentile(ms, 0.95), 1),
        "posts_p99_ms": round(percentile(ms, 0.99), 1),
        "errors": len(errors),
        "select_to_redraw_s": round(statistics.median(selects), 3) if selects else None,
        "first_paint_s": round(statistics.median(firsts), 3),
        "first_paint_cold_s": round(firsts[0], 3),  # the first load: plotly.js and the API not yet in any cache
        "import_s": round(import_s, 1),
        "coordination_s": round(coordination_s, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "load_before": round(load_before, 2),
    }
    for e in errors[:10]:
        print("error:", e)
    print(f"posts API: {len(ms)} requests, p50 {figures['posts_p50_ms']} ms, p95 {figures['posts_p95_ms']} ms, "
          f"p99 {figures['posts_p99_ms']} ms, {len(errors)} errors")
    print(f"first paint {figures['first_paint_s']} s (of {firsts}); select → redraw {figures['select_to_redraw_s']} s "
          f"(of {selects})")
    print(json.dumps(figures))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
