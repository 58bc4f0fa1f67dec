# Clinic portal: make run · make test · make bench · make lint (each installs what it needs).
# GNU make. Settings come from the environment (see README.md); HOST and PORT pick the address.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
FLASK    := $(BIN)/flask --app wsgi
HOST     ?= 127.0.0.1
PORT     ?= 5000
CHROMIUM := /usr/bin/chromium

# Stamps live inside the venv: deleting .venv forgets them too.
REQ_STAMP := $(VENV)/.requirements.stamp
DEV_STAMP := $(VENV)/.requirements-dev.stamp
# Installs go through uv (pinned, put into the venv by pip as one wheel): a fresh clone's test-deps takes
# 17 s instead of pip's 45 s (docs/performance.md, "Third pass"). It compiles the bytecode, as pip did.
UV_VERSION := 0.13.9
UV         := $(BIN)/uv
UV_STAMP   := $(VENV)/.uv-$(UV_VERSION).stamp
INSTALL    := $(UV) pip install --compile-bytecode --python $(BIN)/python

.PHONY: help venv run worker test-deps check-services test bench lint vendor

help:
	@echo "make run             migrate, load demo data if empty, serve on $(HOST):$(PORT)"
	@echo "make worker          run the job queue's worker (production: needs DATABASE_URL and REDIS_URL)"
	@echo "make test            install test tools, check PostgreSQL and Redis, run pytest"
	@echo "make lint            ruff"
	@echo "make bench           run the benchmarks (bench/), when there are any"
	@echo "make venv            create .venv with the pinned runtime requirements"
	@echo "make test-deps       dev requirements and Debian's chromium for browser tests"
	@echo "make check-services  is the test PostgreSQL and Redis up?"
	@echo "make vendor          re-fetch htmx and Swagger UI at their pinned versions"

# --- environments -------------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV_STAMP): | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet uv==$(UV_VERSION)
	@touch $@

# Re-install only when the pins change (or the venv is new).
$(REQ_STAMP): requirements.txt $(UV_STAMP)
	$(INSTALL) -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt $(REQ_STAMP)
	$(INSTALL) -r requirements-dev.txt
	@touch $@

venv: $(REQ_STAMP)

# Browser tests drive Debian's chromium; Playwright's own browser download needs the internet,
# so `playwright install` is never used.
$(CHROMIUM):
	@echo "$(CHROMIUM) is missing; installing Debian's chromium"
	@if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

test-deps: $(DEV_STAMP) $(CHROMIUM)

# --- running ------------------------------------------------------------------------------------

# Links in mails point at PUBLIC_BASE_URL (never at a request's Host header); unset, it is this address.
# One gunicorn process: without REDIS_URL the slot holds and rate limits live in-process, which is
# only correct for a single process. With REDIS_URL set, more workers (-w) are safe.
run: export PORTAL_ENV ?= development
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: $(REQ_STAMP)
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(BIN)/gunicorn -w 1 --threads 4 -b $(HOST):$(PORT) wsgi:app

# With REDIS_URL, mails, reminders and offers are done by this worker (one or more; each also ticks the
# periodic work). Without REDIS_URL, `make run` does them in its own process and needs no worker.
worker: $(REQ_STAMP)
	$(FLASK) jobs worker

# --- quality ------------------------------------------------------------------------------------

check-services: $(REQ_STAMP)
	$(BIN)/python scripts/check_services.py

# pytest's options live in the project's pytest configuration, not here. The run keeps its bytecode
# (git ignores it) even where PYTHONDONTWRITEBYTECODE is set: otherwise every xdist worker rewrites
# and compiles the test modules and the pytest plugins' packages again each run, 5 s of CPU apiece.
test: export PYTHONDONTWRITEBYTECODE =
test: test-deps check-services
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The load tool is Debian's wrk, and the instruction counter (booking-instructions) its valgrind, installed like
# chromium above. BENCH_ARGS picks a run, e.g.
# make bench BENCH_ARGS="booking --scale small --duration 10"; docs/performance.md explains the figures.
bench: $(if $(wildcard bench/__main__.py),$(DEV_STAMP))
	@if [ -f bench/__main__.py ]; then \
	  if ! command -v wrk >/dev/null || ! command -v valgrind >/dev/null; then \
	    echo "wrk or valgrind is missing; installing Debian's wrk and valgrind"; \
	    if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update && \
	      $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk valgrind || exit 1; \
	  fi; \
	  $(BIN)/python -m bench $(BENCH_ARGS); \
	else \
	  echo "No benchmark exists yet (bench/__main__.py is missing); nothing to run."; \
	fi

lint: $(DEV_STAMP)
	$(BIN)/ruff check portal tests config.py wsgi.py

vendor:
	bash scripts/vendor_assets.sh
