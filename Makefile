# Two commands do everything on a fresh machine: `make run` and `make test`.
# Both create a virtual environment in .venv and install Baton into it first, from the lock file:
# every package at the version and hash in requirements-dev.txt, so every machine builds the same.
# `make lock` regenerates requirements.txt (runtime, used by the Procfile deploy) and
# requirements-dev.txt (runtime and test tools) after a change to pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench clean lock

$(VENV)/.installed: pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes
lock: $(VENV)/.installed  ## regenerate both lock files from pyproject.toml (the one way to change them)
	$(UV_COMPILE) --no-header -o requirements.txt
	$(UV_COMPILE) --no-header --extra dev -o requirements-dev.txt
	@touch $(VENV)/.installed

run: $(VENV)/.installed  ## start Baton (Slack if .env has credentials, otherwise the local try-out)
	$(PY) -m bot

test: $(VENV)/.installed  ## lint, type-check and run the whole test suite
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed  ## print the performance figures recorded in the README
	$(PY) bench/ack_latency.py
	$(PY) bench/digest_scale.py
	$(PY) bench/import_scale.py
	$(PY) bench/chaos.py
	$(PY) bench/crm_sync.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
