# Puhui — the two set-up commands are `make demo` and `make test`; `make check` is what CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
SRC := src/puhui
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

ASSETS := src/puhui/web/static/vendor/.installed

.PHONY: help demo test check format format-check lint types layers pytest bench clean assets messages messages-compile messages-check browser fonts java

help:
	@echo "make demo   - install into $(VENV), run a year of lending on SQLite, serve the API"
	@echo "make test   - install with dev tools and run make check (what CI runs)"
	@echo "make check  - format check, lint, strict types, import layers, tests"

$(PY):
	@scripts/make-venv.sh "$(PYTHON)" "$(VENV)"

$(STAMP_RUN): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(STAMP_DEV): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,spark]"
	@touch $@ $(STAMP_RUN)

# The main job: migrate ./var/puhui.db, generate a 20,000-enterprise market, train on its history,
# lend for 12 simulated months, print the portfolio, then serve the API on 127.0.0.1:8000
# (Ctrl-C stops it). DEMO_ARGS overrides, e.g. `make demo DEMO_ARGS="--enterprises 3000 --no-serve"`.
DEMO_ARGS ?= --serve
demo: $(STAMP_RUN) $(ASSETS) messages-compile fonts
	$(BIN)/puhui demo $(DEMO_ARGS)

test: $(STAMP_DEV) $(ASSETS) messages-compile browser fonts java
	$(MAKE) check

# Front-end packages (htmx, ECharts, Swagger UI; axe-core for the tests) from the npm registry
# through package-lock.json, copied into the app's static folder: pages load nothing from a CDN.
assets: $(ASSETS)
$(ASSETS): package.json package-lock.json scripts/copy-web-assets.sh
	@scripts/ensure-debian-packages.sh npm nodejs npm
	npm ci --ignore-scripts --no-audit --no-fund
	scripts/copy-web-assets.sh
	@touch $@

# Message catalogs of the pages: extract every area's messages and merge them into its .po,
# then compile; `messages-check` fails on a message without its zh-CN translation.
messages: $(STAMP_RUN)
	$(PY) -m puhui.web.pages.catalogs update
	$(PY) -m puhui.web.pages.catalogs compile

messages-compile: $(STAMP_RUN)
	$(PY) -m puhui.web.pages.catalogs compile

messages-check: $(STAMP_RUN)
	$(PY) -m puhui.web.pages.catalogs check

# The browser tests drive Debian's Chromium (Playwright's own browser download is unreachable).
browser:
	@scripts/ensure-debian-packages.sh chromium chromium

# The Spark engine's tests run PySpark in local[2]: it needs a Java 17 runtime (ADR 0031).
java:
	@scripts/ensure-debian-packages.sh java openjdk-17-jre-headless

# The Chinese font contract PDFs embed (a Debian package; nothing when one is installed).
fonts:
	@scripts/ensure-fonts.sh

check: format-check lint types layers pytest

format:
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

format-check:
	$(BIN)/ruff format --check src tests bench

lint:
	$(BIN)/ruff check src tests bench

types:
	$(BIN)/mypy

layers:
	$(BIN)/lint-imports

# Two workers (pytest-xdist), one test file each at a time: the suite takes about half as long
# on a 2-core machine. PUHUI_TEST_WORKERS=0 runs it in one process. The slowest tests are
# listed at the end, to see where the time goes when CI gets slower.
PUHUI_TEST_WORKERS ?= 2
pytest:
	$(BIN)/pytest -n $(PUHUI_TEST_WORKERS) --dist loadfile --durations=30

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache node_modules src/puhui/web/static/vendor
