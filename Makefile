# The README's two commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8050
HOST ?= 127.0.0.1
DEMO_DIR ?= .dspo/demo
PYTEST_ARGS ?=
SERVE_ARGS ?=

# dspo makes no call home, and neither may MLflow or Evidently.
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export DSPO_DEMO_DIR := $(abspath $(DEMO_DIR))

.PHONY: run test install install-dev demo serve lint screenshot benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, build the demo world (first time; it migrates the store), collect it,
## serve the dashboard under gunicorn. SERVE_ARGS="--workers 2" or "--dev" to change how.
run: install
	$(BIN)/dspo demo --dir $(DSPO_DEMO_DIR)
	$(MAKE) --no-print-directory serve

## make serve: serve the demo world already built (`dspo serve` never migrates).
serve: install
	$(BIN)/dspo serve --config config/demo.yaml --host $(HOST) --port $(PORT) $(SERVE_ARGS)

## make test: install the test dependencies and run the whole suite (exit 5, no tests, fails).
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

## make screenshot: regenerate docs/overview.png from a fresh demo world.
screenshot: install-dev
	$(BIN)/python scripts/screenshot.py --out docs

## make benchmark: page timings on the demo store, then the large store of issue 10 at
## BENCH_SCALE (default 0.05; 1 is the full million points) and docs/performance.md's tables.
benchmark: install-dev
	$(BIN)/python benchmarks/pages.py
	$(BIN)/python benchmarks/large_store.py --scale $(or $(BENCH_SCALE),0.05)
	$(BIN)/python benchmarks/large_pages.py
	$(BIN)/python benchmarks/large_browser.py
	$(BIN)/python benchmarks/large_browser.py --load
	$(BIN)/python benchmarks/mlflow_collect.py

clean:
	rm -rf $(VENV) .dspo
