# The first two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo serve sandbox test test-fast lint typecheck check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/python -m app demo

serve: $(VENV)/.installed
	$(BIN)/python -m app serve

sandbox: $(VENV)/.installed
	$(BIN)/python -m app sandbox --port 8081

# Everything, slow and browser tests included: what CI runs (.ci/run).
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

# The inner loop: no real servers, no slow tests (about a minute).
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -m "not slow and not e2e and not browser and not postgres"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy app tests

# The gate: lint (ruff, formatting, import layers), strict types, then every test.
check: lint typecheck test

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache
