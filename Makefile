# Everything a fresh machine needs, from a plain Python 3.11+.
#   make demo   set up, then run the main job end to end on the bundled breast-cancer example
#   make test   set up, then run the test suite

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mlspec-installed
DEMO   ?= build/demo

.PHONY: demo test lint typecheck schema bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/mlspec init $(DEMO) --example breast-cancer
	$(BIN)/mlspec validate -f $(DEMO)/mlspec.yaml

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check mlspec tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

# Regenerate the checked-in JSON Schema after changing mlspec/spec.py.
schema: $(STAMP)
	$(BIN)/mlspec schema -o schemas/mlspec.schema.json

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_validate.py

clean:
	rm -rf $(VENV) build .pytest_cache
