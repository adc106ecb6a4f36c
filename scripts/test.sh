#!/usr/bin/env bash
# Lint:   ruff (settings in pyproject.toml); a finding fails the run, after the tests have run.
# Pass 1: the whole suite on the embedded default (SQLite, ORM broker, in-memory channel layer), on two
#         pytest-xdist workers (TEST_WORKERS); the files marked `serial` then run in one process of their own,
#         beside pass 2 (its output follows pass 2's).
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
# worker has its own test database and temporary folders.
env -u DATABASE_URL -u REDIS_URL $PY -m pytest -q --durations=15 -n "$WORKERS" --dist loadfile -m "not serial" "$@"
first=$?

# The `serial` files (one process, one core: schemathesis) run beside pass 2, whose workers wait on PostgreSQL,
# Redis and django-q2 subprocesses much of the time; they share nothing with it (SQLite, no Redis). Their output
# is kept and shown after pass 2's; their failure fails the run as before.
serial_log=$(mktemp)
trap 'rm -f "$serial_log"' EXIT
env -u DATABASE_URL -u REDIS_URL $PY -m pytest -q --durations=5 -m serial "$@" >"$serial_log" 2>&1 &
serial_pid=$!
finish_serial() {
  wait "$serial_pid"
  serial=$?
  echo "== pass 1, files marked 'serial' (ran beside pass 2)"
  cat "$serial_log"
  [ $serial -eq 0 ] || first=$serial
}

echo "== pass 2: PostgreSQL ($PG_URL) and Redis ($REDIS), tests marked 'services'"
if ! $PY scripts/services_up.py "$PG_URL" "$REDIS"; then
  echo "PASS 2 SKIPPED: PostgreSQL or Redis is not reachable (see above); the services tests did NOT run."
  finish_serial
  [ $lint -eq 0 ] && exit $first
  exit 1
fi
DATABASE_URL=$PG_URL REDIS_URL=$REDIS $PY -m pytest -q --durations=10 -m services -p tests.xdist_redis \
  -n "$WORKERS" --dist loadfile "$@"
second=$?
finish_serial
[ $lint -eq 0 ] && [ $first -eq 0 ] && [ $second -eq 0 ]
