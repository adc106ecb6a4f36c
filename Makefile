# The two commands: `make run` (set up, load the demo, serve on 127.0.0.1:8000 with a worker)
# and `make test` (set up, run the suite on SQLite, then again on PostgreSQL + Redis).
PYTHON_BOOT ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup dev-setup run test bench bench-all clean

setup: $(VENV)/.installed

dev-setup: $(VENV)/.installed-dev

# pip byte-compiles every installed module (80 s on a 2-core machine): kept, since these machines set
# PYTHONDONTWRITEBYTECODE=1, and without the install's .pyc files every process (each test's portal, worker and
# command) compiled torch, transformers and Django again: pass 1 took 864 s instead of 673 s.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned first in requirements.txt so the local CPU wheel is used (no CUDA download)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: setup
	bash scripts/run.sh

test: dev-setup
	bash scripts/test.sh

# `make bench` lists the bench/*.py scripts, what each measures and how to run it (stdlib only, instant);
# `make bench-all` runs each at its defaults, one after another: hours.
bench:
	@$(PYTHON_BOOT) scripts/bench.py

bench-all: dev-setup
	$(PY) scripts/bench.py --run

clean:
	rm -rf var
