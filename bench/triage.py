"""Triage latency at scale: the next item shown after a key press, on the whole IRA development file (1.35 M posts).

    .venv/bin/python bench/triage.py [--file ../shared/data/ira/ira_dev_en.csv.gz] [--presses 50]
    .venv/bin/python bench/triage.py --rows 20000 --presses 20   # a short try first
    .venv/bin/python bench/triage.py --rows 300000 --think 1000 --decided 3000   # reading 1 s an item, 3,000 in

The portal runs as in production (PostgreSQL of BENCH_DATABASE_URL in a throwaway database, Redis database 14 of
BENCH_REDIS_URL, daphne; no worker: nothing here is a job). Setup, not measured but reported: the import
(``manage.py import_collection``, the same path as bench/workspace.py), then a ``score`` analysis written directly
with **synthetic** scores for every post (a seeded hash of the post id, uniform in [0, 1)): the latency measured is
the queue's (the next-item query, the decision's writes and audit entry, the item's context, the redraw), not the
model's. Scoring 1.35 M posts with the text classifier on CPU takes hours (152 posts/s measured: about 2.5 h).

Measured: headless Chromium (Debian's) opens a post queue (most uncertain first) and presses ``--presses`` keys in
turn (1, 2, s: label, label, skip); for each, the time from the key event to the next item drawn (``performance.now()``
in the page: triage.js stamps ``#triage[data-drawn]`` when it has drawn an item). p50/p95. ``--think`` waits that
many milliseconds before each press, as an analyst reads the item (0: presses back to back, each waiting for the
answer to the one before); ``--decided`` gives the analyst that many earlier skips of the queue's most uncertain
posts (written directly), as after a day's work.

Ends with one JSON line: ``{"bench": "triage", "posts": ..., "next_p50_ms": ..., "next_p95_ms": ...}``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench import workspace  # noqa: E402  (its import path, its login and its percentiles)
from devstack.stack import last_json_line, portal_stack  # noqa: E402

SETUP = """
import json
from django.contrib.auth import get_user_model
from apps.investigations.services import investigation_create
user = get_user_model().objects.create_user("bench", password=%r)
print(json.dumps({"investigation": investigation_create(user=user, name="IRA triage bench").pk}))
"""

# A score analysis of the whole collection with synthetic scores (one INSERT ... SELECT), then the queue, made by the
# same service the page uses.
SCORED_QUEUE = """
import json
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from apps.analyses.models import Analysis, PostScore, TextModel
from apps.jobs.models import Job
from apps.triage.services import queue_create

user = get_user_model().objects.get(username="bench")
investigation_id, collection_id = %d, %d
with transaction.atomic():
    model = TextModel.objects.create(investigation_id=investigation_id, name="synthetic scores", kind="encoder",
                                     base_model="none (bench)")
    job = Job.objects.create(investigation_id=investigation_id, kind="analysis:score", status="succeeded", params={})
    scoring = Analysis.objects.create(investigation_id=investigation_id, job=job, kind="score",
                                      collection_id=collection_id, params={"model": model.pk},
                                      summary={"model": model.name}, result={"threshold": 0.5})
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO analyses_postscore (analysis_id, post_id, account_id, score) "
            "SELECT %%s, id, account_id, ((id * 2654435761) %%%% 1000003) / 1000003.0 "
            "FROM collections_post WHERE collection_id = %%s", [scoring.pk, collection_id])
        scored = cursor.rowcount
    scoring.summary = {"model": model.name, "posts": scored}
    scoring.save(update_fields=["summary"])
with connection.cursor() as cursor:
    cursor.execute("ANALYZE analyses_postscore")
queue = queue_create(investigation=scoring.investigation, user=user, analysis=scoring, order="uncertainty",
                     label_key="analyst_label", label_values="operation,organic,unsure")
with connection.cursor() as cursor:  # the analyst's earlier skips (--decided), nearest the threshold first
    cursor.execute(
        "INSERT INTO triage_triagedecision (queue_id, post_id, value, previous, user_id, decided_at) "
        "SELECT %%s, post_id, '', '{}', %%s, now() FROM analyses_postscore WHERE analysis_id = %%s "
        "ORDER BY abs(score - 0.5), post_id LIMIT %%s", [queue.pk, user.pk, scoring.pk, %d])
    cursor.execute("ANALYZE triage_triagedecision")
print(json.dumps({"queue": queue.pk, "scored": scored}))
"""

MEASURE_PRESS = """async (key) => {
  const root = document.getElementById('triage');
  const before = Number(root.dataset.drawn || 0);
  const t0 = performance.now();
  document.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
  await new Promise((resolve, reject) => {
    const check = () => {
      if (Number(root.dataset.drawn || 0) > before) { observer.disconnect(); resolve(); }
    };
    setTimeout(() => reject(new Error(`no item drawn 30 s after ${key}: ${
      document.querySelector('[data-testid=triage-status]').textContent}`)), 30000);
    const observer = new MutationObserver(check);
    observer.observe(root, { attributes: true, attributeFilter: ['data-drawn'] });
    check();
  });
  return performance.now() - t0;
}"""

KEYS = ("1", "2", "s")


def presses(url: str, queue: int, count: int, think_ms: int = 0) -> list[float]:
    """Milliseconds from each key event to the next item drawn, in headless Chromium, ``think_ms`` after the item
    before was drawn."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=workspace.CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                     "--disable-dev-shm-usage", "--disable-background-networking"])
        # No proxy header here (unlike bench/workspace.py, which only reads): the keys POST, and a browser's POST
        # from http:// announced as HTTPS fails the CSRF origin check. Chromium keeps Secure cookies on 127.0.0.1.
        context = chromium.new_context(viewport={"width": 1360, "height": 900})
        context.add_cookies([{"name": c.name, "value": c.value, "url": url} for c in workspace.session(url).cookies])
        page = context.new_page()
        page.on("pageerror", lambda exc: print("page error:", exc, flush=True))
        page.on("response", lambda r: r.status >= 400 and print("HTTP", r.status, r.url, flush=True))
        page.goto(f"{url}/triage/{queue}/")
        page.wait_for_selector("#triage[data-state=item][data-drawn]", timeout=120_000)
        times = []
        for i in range(count):
            if think_ms:
                page.wait_for_timeout(think_ms)
            times.append(page.evaluate(MEASURE_PRESS, KEYS[i % len(KEYS)]))
        chromium.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=workspace.DEFAULT_FILE)
    parser.add_argument("--rows", type=int, default=0, help="use only the file's first N rows (0: all)")
    parser.add_argument("--presses", type=int, default=50)
    parser.add_argument("--think", type=int, default=0, help="milliseconds an analyst reads each item (default 0)")
    parser.add_argument("--decided", type=int, default=0, help="the analyst's earlier decisions (default 0)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure: say how much there was

    with tempfile.TemporaryDirectory() as tmp:
        data = workspace.head(args.file, args.rows, Path(tmp) / "head.csv.gz") if args.rows else args.file
        env = {"DATABASE_URL": workspace.PG_URL, "REDIS_URL": workspace.REDIS_URL, "DEBUG": "0", "HF_HUB_OFFLINE": "1",
               "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
               "SECURE_SSL_REDIRECT": "0", "STATIC_FROM_FINDERS": "1"}
        with portal_stack(Path(tmp), env=env, pg_name="murmuration_triage_bench", worker=False) as stack:
            investigation = last_json_line(stack.shell(SETUP % workspace.PASSWORD))["investigation"]
            t0 = time.perf_counter()
            imported = last_json_line(stack.manage("import_collection", str(data), "--investigation",
                                                   "IRA triage bench", "--collection", "ira", "--user", "bench",
                                                   timeout=3600).stdout)
            import_s = time.perf_counter() - t0
            print(f"import: {imported.get('stored')} posts in {import_s:.0f} s", flush=True)
            t0 = time.perf_counter()
            made = last_json_line(stack.shell(SCORED_QUEUE % (investigation, imported["collection_id"], args.decided),
                                              timeout=3600))
            scores_s = time.perf_counter() - t0
            print(f"synthetic scores and the queue: {made['scored']} posts in {scores_s:.0f} s", flush=True)
            ms = presses(stack.url, made["queue"], args.presses, args.think)

    figures = {
        "bench": "triage",
        "posts": made["scored"],
        "scores": "synthetic (seeded hash of the post id): the queue's latency, not the model's",
        "presses": len(ms),
        "think_ms": args.think,
        "decided_before": args.decided,
        "next_p50_ms": round(workspace.percentile(ms, 0.50), 1),
        "next_p95_ms": round(workspace.percentile(ms, 0.95), 1),
        "next_max_ms": round(max(ms), 1),
        "import_s": round(import_s, 1),
        "scores_s": round(scores_s, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "load_before": round(load_before, 2),
    }
    print(f"key → next item: {len(ms)} presses, p50 {figures['next_p50_ms']} ms, p95 {figures['next_p95_ms']} ms, "
          f"max {figures['next_max_ms']} ms")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
