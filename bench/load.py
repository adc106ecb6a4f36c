"""Load: analysts at once against daphne and a two-worker qcluster on PostgreSQL and Redis, on loopback.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 300]
    .venv/bin/python bench/load.py --clients 10 --seconds 30   # a short try first

Locust, used as a library, drives ``--clients`` clients for ``--seconds`` seconds, each logged in with its
own session as its own analyst (an editor of the investigation). Each waits 1-5 s between actions, which
are, by weight: the investigation page (3), the collection page (2), the next posts page (5), the next
100 posts through the API (5), and (1) starting a small analysis through the API (hashtag_network, every
fifth one coordination) and polling its job every 2 s until it ends. Only one analysis per client is
outstanding, so the queue stays bounded by the clients.

The portal runs as in production: ``DEBUG=0`` with a secret key, one daphne process behind the TLS proxy
it expects (the clients send ``X-Forwarded-Proto: https``), one ``manage.py qcluster`` with two worker
processes (``Q_WORKERS=2``). The clients fetch no static files (a browser keeps them cached), so
``collectstatic`` is skipped: here it takes about four minutes, mostly whitenoise compressing vendor files,
and pages render the same without it.

Setup, not measured: a throwaway database ``murmuration_load`` (dropped at the end) on the server of
BENCH_DATABASE_URL, Redis database 14 of BENCH_REDIS_URL (flushed), the demo's simulated operation
(``manage.py demo_setup``, about 20,000 posts) as the collection, the analysts, and their logins. The
measured window starts once every client is logged in. After it, the analyses still queued may finish
(at most two minutes); every analysis job the clients started must then have succeeded.

Prints figures per endpoint, then one JSON line. Errors, the logins' included: answers other than 2xx/3xx,
refused or timed-out requests, exceptions in a client, and analysis jobs that failed or never finished; the
exceptions in the server's and the worker's logs are listed. Exits 1 if there is any error.
"""
from __future__ import annotations

# Locust patches the standard library with gevent when imported: first, before anything opens a socket.
from locust import HttpUser, between, events, task  # isort: skip
from locust.env import Environment  # isort: skip

import argparse
import contextlib
import http.cookiejar
import itertools
import json
import os
import platform
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

import gevent

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from devstack.stack import last_json_line, portal_stack, wait_until  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DATABASE = "murmuration_load"
PASSWORD = "load-pass-123"
POSTS_PER_PAGE = 50  # apps.collections.views
API_PAGE = 100
JOB_POLL_S = 2.0
JOB_DEADLINE_S = 600
DRAIN_S = 120

# The portal's cookies are Secure (X-Forwarded-Proto tells it a TLS proxy is in front); the clients stand in
# for that proxy on loopback, so they send them over plain HTTP. (A policy set on one jar is lost when
# requests merges jars, hence the class attribute.)
http.cookiejar.DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True


class Plan:
    """What the clients share: the server's ids, the analysts' names, and how many have logged in."""

    investigation = collection = posts = 0
    usernames: ClassVar[list[str]] = []
    logged_in = 0
    jobs: ClassVar[list[int]] = []
    analysis_kinds = itertools.cycle(["hashtag_network"] * 4 + ["coordination"])


class Analyst(HttpUser):
    wait_time = between(1, 5)

    def on_start(self):
        # Django checks the Referer of a POST over HTTPS (CSRF): the origin the proxy serves
        self.client.headers.update({"X-Forwarded-Proto": "https", "Referer": f"https://{urlparse(self.host).netloc}/"})
        self.page = self.offset = 0
        username = Plan.usernames.pop()
        self.client.get("/login/", name="login page")
        form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": self.client.cookies.get("csrftoken")}
        with self.client.post("/login/", name="login", data=form, catch_response=True) as response:
            if response.ok and response.url.rstrip("/").endswith("/login"):
                response.failure(f"{username} was not logged in")
        Plan.logged_in += 1

    @task(3)
    def investigation_page(self):
        self.client.get(f"/investigations/{Plan.investigation}/", name="investigation page")

    @task(2)
    def collection_page(self):
        self.client.get(f"/collections/{Plan.collection}/", name="collection page")

    @task(5)
    def posts_page(self):
        self.page = self.page % max(1, -(-Plan.posts // POSTS_PER_PAGE)) + 1
        self.client.get(f"/collections/{Plan.collection}/posts/?page={self.page}", name="posts page")

    @task(5)
    def posts_api(self):
        self.offset = self.offset + API_PAGE if self.offset + API_PAGE < Plan.posts else 0
        self.client.get(f"/api/collections/{Plan.collection}/posts/?limit={API_PAGE}&offset={self.offset}",
                        name="posts API")

    @task(1)
    def analysis(self):
        """Start a small analysis and poll its job until it ends (an analyst waiting for a result)."""
        kind = next(Plan.analysis_kinds)
        csrf = {"X-CSRFToken": self.client.cookies.get("csrftoken")}
        with self.client.post(f"/api/investigations/{Plan.investigation}/analyses/start/", headers=csrf,
                              json={"kind": kind, "collection": Plan.collection}, name=f"analysis start ({kind})",
                              catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            job = response.json()["id"]
        Plan.jobs.append(job)
        deadline = time.monotonic() + JOB_DEADLINE_S
        while time.monotonic() < deadline:
            gevent.sleep(JOB_POLL_S)
            response = self.client.get(f"/api/jobs/{job}/", name="job poll")
            if response.ok and response.json()["status"] not in ("queued", "running"):
                return


def setup(stack, clients: int) -> None:
    """The demo collection and ``clients`` analysts (editors; one password hash for all)."""
    started = time.monotonic()
    demo = last_json_line(stack.manage("demo_setup", "--no-analyses", timeout=900).stdout)
    Plan.investigation, Plan.collection, Plan.posts = demo["investigation"], demo["collection"], demo["posts"]
    Plan.usernames = [f"analyst{i:03d}" for i in range(clients)]
    stack.shell(f"""
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from apps.investigations.models import Investigation
from apps.investigations.services import member_set
hashed = make_password({PASSWORD!r})
User.objects.bulk_create([User(username=name, password=hashed) for name in {Plan.usernames!r}])
investigation = Investigation.objects.get(pk={Plan.investigation})
for name in {Plan.usernames!r}:
    member_set(investigation=investigation, username=name, role="editor")
""")
    print(f"setup: {time.monotonic() - started:.0f} s (demo collection, {clients} analysts)", flush=True)


def run_load(url: str, clients: int, seconds: int) -> tuple[Environment, int]:
    """Spawn the clients, wait until all are logged in, then measure for ``seconds``. Returns locust's
    environment (its stats cover the window) and the errors outside the stats (logins, client exceptions)."""
    env = Environment(user_classes=[Analyst], events=events, host=url)
    runner = env.create_local_runner()
    started = time.monotonic()
    runner.start(clients, spawn_rate=min(clients, 10))
    wait_until(lambda: Plan.logged_in >= clients, timeout=300, every=0.5, what="every client is logged in")
    ramp_errors = env.stats.total.num_failures  # the logins, and what the first clients did meanwhile
    print(f"{clients} clients logged in after {time.monotonic() - started:.0f} s "
          f"({env.stats.total.num_requests} requests, {ramp_errors} errors)", flush=True)
    for error in env.stats.errors.values():
        print(f"  error while logging in: {error.method} {error.name}: {error.occurrences}x {str(error.error)[:200]}")
    env.stats.reset_all()
    gevent.sleep(seconds)
    runner.quit()
    return env, ramp_errors + sum(e["count"] for e in runner.exceptions.values())


def connections_watch(stack, peak: dict) -> None:
    """Sample the portal's open PostgreSQL connections every second (a greenlet), keeping the peak."""
    while True:
        with contextlib.suppress(Exception):  # the server may be refusing connections: that is what is watched
            count = stack.query("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s", (DATABASE,))[0][0]
            peak["connections"] = max(peak.get("connections", 0), count)
        gevent.sleep(1)


def server_errors(stack) -> dict[str, int]:
    """The exceptions in the server's and the worker's logs, by their last line, with counts."""
    found: dict[str, int] = {}
    for log in ("server.log", "worker.log"):
        path = stack.var_dir / log
        for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
            if re.match(r"^[\w.]+(Error|Exception)\b", line):
                found[f"{log}: {line[:160]}"] = found.get(f"{log}: {line[:160]}", 0) + 1
    return found


def jobs_outcome(stack, job_ids: list[int]) -> dict:
    """Let the analyses started in the window finish (at most DRAIN_S), then count how they ended."""
    if not job_ids:
        return {}

    ids = ",".join(map(str, job_ids))

    def statuses() -> dict:
        return dict(stack.query(f"SELECT status, COUNT(*) FROM jobs_job WHERE id IN ({ids}) GROUP BY status"))

    with contextlib.suppress(AssertionError):
        wait_until(lambda: not {"queued", "running"} & set(statuses()), timeout=DRAIN_S, every=1, what="drained")
    out = statuses()
    rows = stack.query("SELECT EXTRACT(EPOCH FROM finished_at - created_at) FROM jobs_job "
                       f"WHERE status = 'succeeded' AND id IN ({ids}) ORDER BY 1")
    if rows:
        out["end_to_end_p50_s"] = round(float(rows[len(rows) // 2][0]), 2)
        out["end_to_end_p95_s"] = round(float(rows[min(len(rows) - 1, int(len(rows) * 0.95))][0]), 2)
    return out


def report(env: Environment, seconds: int) -> dict:
    """The table per endpoint (milliseconds), and the totals."""
    heads = (f"{h} ms" for h in ("p50", "p95", "p99", "max"))
    print(f"{'endpoint':32} {'requests':>9} {'errors':>7} {'req/s':>7}", *(f"{h:>7}" for h in heads))
    entries = sorted((e for e in env.stats.entries.values() if e.num_requests), key=lambda e: -e.num_requests)
    for entry in [*entries, env.stats.total]:
        name = "all" if entry is env.stats.total else entry.name
        times = [entry.get_response_time_percentile(q) or 0 for q in (0.5, 0.95, 0.99)] + [entry.max_response_time or 0]
        print(f"{name:32} {entry.num_requests:9d} {entry.num_failures:7d} {entry.num_requests / seconds:7.1f}",
              *(f"{t:7.0f}" for t in times))
    for error in list(env.stats.errors.values())[:10]:
        print(f"  error: {error.method} {error.name}: {error.occurrences}x {str(error.error)[:200]}")
    total = env.stats.total
    return {"requests": total.num_requests, "http_errors": total.num_failures,
            "p50_ms": total.get_response_time_percentile(0.5), "p95_ms": total.get_response_time_percentile(0.95),
            "p99_ms": total.get_response_time_percentile(0.99), "rps": round(total.num_requests / seconds, 1),
            "by_endpoint": {e.name: {"requests": e.num_requests, "errors": e.num_failures,
                                     "p95_ms": e.get_response_time_percentile(0.95)} for e in entries}}


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.machine())
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=300)
    args = parser.parse_args()
    load_before = os.getloadavg()
    env = {"DATABASE_URL": PG_URL, "REDIS_URL": REDIS_URL, "Q_WORKERS": "2", "DEBUG": "0",
           "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
           "SECURE_SSL_REDIRECT": "0"}  # the TLS proxy redirects plain HTTP; the clients come as through it
    with tempfile.TemporaryDirectory(prefix="murmuration-load-") as tmp, \
            portal_stack(Path(tmp), server=False, env=env, pg_name=DATABASE) as stack:
        setup(stack, args.clients)
        stack.start_server()
        print(f"daphne at {stack.url}, qcluster with 2 workers; database {DATABASE}, {REDIS_URL}; "
              f"{Plan.posts:,} posts; {args.clients} clients for {args.seconds} s", flush=True)
        peak: dict = {}
        watch = gevent.spawn(connections_watch, stack, peak)
        load, other_errors = run_load(stack.url, args.clients, args.seconds)
        watch.kill()
        figures = report(load, args.seconds)
        jobs = jobs_outcome(stack, list(Plan.jobs))
        for line, count in server_errors(stack).items():
            print(f"  {count}x {line}")
        load_after = os.getloadavg()
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
    unfinished = jobs.get("queued", 0) + jobs.get("running", 0)
    failed = jobs.get("failed", 0) + jobs.get("cancelled", 0) + unfinished
    errors = figures["http_errors"] + other_errors + failed
    print(f"analysis jobs started: {len(Plan.jobs)}; {json.dumps(jobs)}; other errors: {other_errors}")
    print(f"load average (1 min): {load_before[0]:.2f} before setup, {load_after[0]:.2f} after the run; "
          f"at most {peak.get('connections')} PostgreSQL connections open")
    print(json.dumps({
        "bench": "load", "clients": args.clients, "seconds": args.seconds, "requests": figures["requests"],
        "errors": errors, "p95_ms": figures["p95_ms"], "p50_ms": figures["p50_ms"], "p99_ms": figures["p99_ms"],
        "rps": figures["rps"], "analyses": len(Plan.jobs), "analyses_succeeded": jobs.get("succeeded", 0),
        "analysis_end_to_end_p95_s": jobs.get("end_to_end_p95_s"), "peak_db_connections": peak.get("connections"),
        "by_endpoint": figures["by_endpoint"],
        "machine": machine(), "loadavg_before": round(load_before[0], 2), "loadavg_after": round(load_after[0], 2),
    }))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
