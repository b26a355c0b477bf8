# One file that people and CI both use. `make demo` runs the product on a local stack, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RESTATE_VERSION := 1.7.12
RESTATE_DIR := .cache/restate-server-$(RESTATE_VERSION)

.PHONY: setup test lint typecheck pytest demo bench clean

setup: $(BIN)/restate-ops $(RESTATE_DIR)/.installed redis

$(BIN)/restate-ops: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The real Restate server binary ships inside the npm package; pinned, cached in an ignored folder.
$(RESTATE_DIR)/.installed:
	mkdir -p $(RESTATE_DIR)
	npm install --silent --no-save --no-audit --no-fund --prefix $(RESTATE_DIR) @restatedev/restate-server@$(RESTATE_VERSION)
	touch $@

# redis-server from Debian when the machine has none (skipped when REDIS_URL points at an existing server).
redis:
	@if [ -z "$$REDIS_URL" ] && ! command -v redis-server >/dev/null; then \
		echo "installing redis-server"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

# The README's test command: set-up, linters, types, then unit and integration tests.
test: lint typecheck pytest

demo: setup
	$(BIN)/restate-ops demo

bench: setup
	$(BIN)/python -m bench.doctor_concurrency

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
