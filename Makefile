# Two commands do everything on a fresh machine: `make run` and `make test`.
# Both create a virtual environment in .venv and install Baton into it first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
