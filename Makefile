PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup build test lint bench clean

setup:  ## create .venv and install kg with its test tools
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'

build:
	$(BIN)/kg build

test:
	$(BIN)/pytest -q

lint:
	$(BIN)/ruff check kg tests benchmarks
	$(BIN)/mypy kg

bench:
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf outputs/* .pytest_cache .mypy_cache .ruff_cache
