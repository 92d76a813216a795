# Thin wrappers. `make run` and `make test` are the README's two fresh-machine commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run demo test lint format openapi install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

## Install and start the LRS on the embedded SQLite database (prints the URL and a credential).
run: install
	$(BIN)/lrs serve

## Install, build the demo data set (./lrs-demo) and start the LRS with its dashboard.
demo: install
	$(BIN)/lrs demo

## Install and run the whole test suite on SQLite and PostgreSQL (127.0.0.1:5432).
test: install-test
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Regenerate the checked-in OpenAPI document after an API change.
openapi: install
	$(BIN)/lrs openapi --out openapi/openapi.json

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
