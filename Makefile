PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

# the CPU build of PyTorch for the accurate recogniser (on these machines pip finds it on disk)
TORCH ?= torch==2.13.0

.PHONY: setup setup-light build test lint bench clean

setup:  ## create .venv and install kg, its accurate recogniser and its test tools
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet '$(TORCH)'
	$(BIN)/pip install --quiet -e '.[dev,accurate]'

setup-light:  ## the same without the accurate recogniser (no PyTorch)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'

build:
	$(BIN)/kg build

test:
	KG_SLOW=1 $(BIN)/pytest -q

lint:
	$(BIN)/ruff check kg tests benchmarks training
	$(BIN)/ruff format --check .
	$(BIN)/mypy kg

bench:
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf outputs/* .pytest_cache .mypy_cache .ruff_cache
