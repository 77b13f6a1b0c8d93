# Two commands do everything on a fresh machine (Python >= 3.11):
#   make run    set up .venv, then the main job: tune + quick ablation grid + report (embedded data)
#   make test   set up .venv, then lint, the import-layer contract and the test suite (fast:
#               tests marked `slow` are left out; `make test-slow` runs only those, CI runs both)
# torch is pinned to the 2.13.0 CPU wheel through constraints.txt (never the multi-GB CUDA build).

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PIP_FLAGS ?= -q

.PHONY: setup run test test-slow test-all bench clean-results

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) -c constraints.txt -e ".[dev]"
	touch $@

run: setup
	$(BIN)/landau run

test: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

test-slow: setup
	$(BIN)/python -m pytest -m slow

test-all: setup
	$(BIN)/python -m pytest -m "slow or not slow"

bench: setup
	$(BIN)/python -m pytest benchmarks --benchmark-only --benchmark-columns=median,iqr,rounds

clean-results:
	rm -rf landau-results
