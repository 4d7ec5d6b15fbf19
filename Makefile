# The first two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt

.PHONY: demo serve sandbox test test-fast lint typecheck check clean

# Python 3.11+ (`make PYTHON=python3.12 demo` picks another one); a venv that failed half-way
# is removed, so the next run starts clean.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "error: $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())'), 3.11+ is needed: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }

# Every install is constrained to the pinned versions of $(LOCK) (scripts/lock.py).
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[dev]'
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
