"""A pytest plugin for the services pass on several pytest-xdist workers (``-p tests.xdist_redis``): each worker gets
a Redis database of its own, so one worker's django-q2 queue, cache and channel groups never meet another's (a
portal stack flushes its database; a worker process would take the other test's jobs).

Worker ``gwN`` of ``redis://host:port/D`` uses database ``D - 2N`` (15, 13, ...; 14 is the benches'). It runs when
the plugin is imported, before pytest-django reads the settings: xdist names the worker in the environment first.
PostgreSQL needs nothing: pytest-django gives each worker its own test database, and each portal stack makes one.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit


def worker_redis_url(url: str, worker: str) -> str:
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = base - 2 * int(worker.removeprefix("gw"))
    if database < 0:
        raise ValueError(f"{url}: no Redis database left for xdist worker {worker} (start from a higher one)")
    return urlunsplit(parts._replace(path=f"/{database}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = worker_redis_url(os.environ["REDIS_URL"], _worker)
