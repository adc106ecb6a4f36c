#!/usr/bin/env bash
# Lint:   ruff (settings in pyproject.toml); a finding fails the run, after the tests have run.
# Pass 1: the whole suite on the embedded default (SQLite, ORM broker, in-memory channel layer), on two
#         pytest-xdist workers (TEST_WORKERS), then the files marked `serial` in one process.
# Pass 2: the tests marked `services` against the machine's PostgreSQL and Redis; where they are not
#         running this says so loudly and the pass is skipped, never silently passed. On the same workers, each
#         with a Redis database of its own (tests/xdist_redis.py).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export HF_HUB_OFFLINE=1
PG_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/murmuration}
REDIS=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
WORKERS=${TEST_WORKERS:-2}

echo "== lint: ruff check"
.venv/bin/ruff check .
lint=$?

echo "== pass 1: embedded default (SQLite, django-q2 ORM broker, in-memory channel layer), on $WORKERS workers"
# pytest-xdist, whole files per worker (their module fixtures, a browser stack, are set up once): half the suite
# waits on a browser, a django-q2 worker or a subprocess, so two workers on two cores halve the wall time. Each
# worker has its own test database and temporary folders. Files marked `serial` run after, in one process.
env -u DATABASE_URL -u REDIS_URL $PY -m pytest -q --durations=15 -n "$WORKERS" --dist loadfile -m "not serial" "$@"
first=$?
env -u DATABASE_URL -u REDIS_URL $PY -m pytest -q --durations=5 -m serial "$@"
serial=$?
[ $serial -eq 0 ] || first=$serial

echo "== pass 2: PostgreSQL ($PG_URL) and Redis ($REDIS), tests marked 'services'"
if ! $PY scripts/services_up.py "$PG_URL" "$REDIS"; then
  echo "PASS 2 SKIPPED: PostgreSQL or Redis is not reachable (see above); the services tests did NOT run."
  [ $lint -eq 0 ] && exit $first
  exit 1
fi
DATABASE_URL=$PG_URL REDIS_URL=$REDIS $PY -m pytest -q --durations=10 -m services -p tests.xdist_redis \
  -n "$WORKERS" --dist loadfile "$@"
second=$?
[ $lint -eq 0 ] && [ $first -eq 0 ] && [ $second -eq 0 ]
