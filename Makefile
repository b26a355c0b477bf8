# One file that people and CI both use. `make demo` runs the product on a local stack, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The Restate server the demo and the integration tests run, declared once in restate-server.version;
# `RESTATE_VERSION=1.6.2 make test` runs the suite on another one.
RESTATE_VERSION ?= $(shell cat restate-server.version)
export RESTATE_VERSION
RESTATE_DIR := .cache/restate-server-$(RESTATE_VERSION)
# uv installs exactly what uv.lock pins; uv itself comes from PyPI, pinned here.
UV_VERSION := 0.13.9
UV := .cache/uv-$(UV_VERSION)/bin/uv
SYNC := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(UV) sync --locked --quiet --python $(PYTHON)

.PHONY: setup app test unit lint typecheck pytest demo bench docs-images lock clean redis

# Everything the tests need: the app, its demo stack, the dev tools, Restate and Redis.
setup: $(VENV)/.dev $(RESTATE_DIR)/.installed redis
# What the demo needs: the app and its demo stack, no dev tools.
app: $(VENV)/.app $(RESTATE_DIR)/.installed redis

$(UV):
	$(PYTHON) -m venv .cache/uv-$(UV_VERSION)
	.cache/uv-$(UV_VERSION)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.dev: $(UV) uv.lock pyproject.toml
	$(SYNC) --extra devstack
	touch $@ $(VENV)/.app

$(VENV)/.app: $(UV) uv.lock pyproject.toml
	$(SYNC) --extra devstack --no-dev --inexact
	touch $@

# After editing dependencies in pyproject.toml: resolve again and commit uv.lock.
lock: $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) lock --python $(PYTHON)

# The real Restate server binary ships inside the npm package; pinned, cached in an ignored folder.
$(RESTATE_DIR)/.installed:
	mkdir -p $(RESTATE_DIR)
	npm install --silent --no-save --no-audit --no-fund --prefix $(RESTATE_DIR) @restatedev/restate-server@$(RESTATE_VERSION)
	touch $@

# redis-server from Debian when the machine has none.
redis:
	@if ! command -v redis-server >/dev/null; then \
		echo "installing redis-server"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

# Fast tests with fakes only, no servers.
unit: setup
	$(BIN)/pytest tests/unit

pytest: setup
	$(BIN)/pytest tests/unit
	$(BIN)/pytest tests/integration

# The README's test command: set-up, linters, types, then unit tests alone, then integration tests.
test: lint typecheck pytest

demo: app
	$(BIN)/restate-ops demo

bench: setup
	$(BIN)/python -m bench

# The README's Slack pictures: real blocks rendered to HTML, screenshotted by headless Chromium.
docs-images: setup
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
	$(BIN)/python -m docs.render

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
