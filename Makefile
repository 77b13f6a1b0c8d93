# Two commands do everything on a fresh machine (Python >= 3.11):
#   make run    set up .venv, then the main job: tune + quick ablation grid + report (embedded data)
#   make test   set up .venv, then lint, the import-layer contract and the test suite (fast:
#               tests marked `slow` are left out; `make test-slow` runs only those, CI runs both)
# torch: constraints.txt pins torch==2.13.0, not a build. Which wheel pip takes depends on the
# indexes pip is configured with (`pip config list`): from PyPI on Linux x86_64 it is the CUDA
# build (with its nvidia-* packages, several GB). `make setup TORCH=cpu` (or `make run TORCH=cpu`,
# `make test TORCH=cpu`) installs the CPU build first, from PyTorch's CPU index (TORCH_INDEX; any
# pip options in TORCH_PIP_ARGS), and the rest then keeps it. docs/install.md has the details.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PIP_FLAGS ?= -q
TORCH ?=
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PIP_ARGS ?= --index-url $(TORCH_INDEX)

ifneq ($(filter-out cpu,$(TORCH)),)
$(error TORCH=$(TORCH): known values are cpu, or none (pip's configured indexes choose))
endif

.PHONY: setup run test test-slow test-all bench clean-results

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH),$(BIN)/python -m pip install $(PIP_FLAGS) -c constraints.txt $(TORCH_PIP_ARGS) torch)
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

# `make bench`: the budgeted subset (<= 10 min on 2 shared cores; benchmarks marked slow are left
# out); all of them: make bench BENCH_FLAGS='-m "slow or not slow"'. Results are saved under
# .benchmarks/ as "landau"; compare a later run with BENCH_FLAGS=--benchmark-compare.
# MNIST: LANDAU_DATA=DIR (passed on as --data-dir), else where the tests look.
BENCH_FLAGS ?=
bench: setup
	$(BIN)/python -m pytest benchmarks --benchmark-only --benchmark-columns=median,iqr,rounds \
		--benchmark-save=landau $(if $(LANDAU_DATA),--data-dir="$(LANDAU_DATA)") $(BENCH_FLAGS)

clean-results:
	rm -rf landau-results
