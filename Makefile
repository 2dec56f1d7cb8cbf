# bedplan: every target sets up .venv itself on first use (and again when pyproject.toml changes).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SCENARIO ?= data/scenarios/england
ARGS ?=
# test files run in this many processes (pytest-xdist; each file's tests stay in one process)
TEST_WORKERS ?= 2
SWEEP ?=

.PHONY: help setup solve validate sweep test lint bench data docs clean-venv

help:
	@echo "make solve [SCENARIO=data/scenarios/...] [ARGS='--time-limit 120']  solve a scenario into runs/"
	@echo "make validate [SCENARIO=...]  check a scenario's input"
	@echo "make sweep SWEEP=data/sweeps/<file>.yaml [ARGS='--workers 2']  sensitivity sweep into runs/sweeps/"
	@echo "make test [TEST_WORKERS=1]    run the test suite (2 processes by default)"
	@echo "make lint                     ruff"
	@echo "make bench                    slow tests + benchmarks into docs/performance.md (2-3 h)"
	@echo "make data                    rebuild data/reference and data/scenarios/england from ../shared/data"
	@echo "make docs                     regenerate docs/data-dictionary.md and the README run-files table"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

solve: $(STAMP)
	$(VENV)/bin/bedplan solve $(SCENARIO) $(ARGS)

validate: $(STAMP)
	$(VENV)/bin/bedplan validate $(SCENARIO)

sweep: $(STAMP)
	@test -n "$(SWEEP)" || { echo "usage: make sweep SWEEP=data/sweeps/<file>.yaml [ARGS='--workers 2 | --scheduler tcp://host:8786']"; exit 2; }
	$(VENV)/bin/bedplan sweep $(SWEEP) $(ARGS)

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadfile $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check model tests scripts

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

# Slow tests (OR-Library optima), then the performance tables into docs/performance.md
# (scripts/bench_big.py: big geographies with restricted arcs, about 1 h more; scripts/sweep_bench.py:
# 40 England sweep variants on 2 workers, 15-30 min).
bench: $(STAMP) $(BENCH_STAMP)
	$(PY) -m pytest -q -m slow $(ARGS)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_big.py
	$(PY) scripts/sweep_bench.py --variants 40 --workers 2 --time-limit 120 --mip-gap 0.002 --seed 13

data: $(STAMP)
	$(PY) scripts/build_england.py

docs: $(STAMP)
	$(VENV)/bin/bedplan dictionary --output docs/data-dictionary.md --readme README.md

clean-venv:
	rm -rf $(VENV)
