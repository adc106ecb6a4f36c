#!/usr/bin/env bash
# Migrate, create the demo user, load the demo investigation, then serve with a worker beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export HF_HUB_OFFLINE=1
$PY manage.py migrate --no-input -v 0
$PY manage.py demo_setup
$PY manage.py qcluster &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "Murmuration is at http://127.0.0.1:8000/ (Ctrl-C stops the server and the worker)"
$PY manage.py runserver 127.0.0.1:8000 --noreload
