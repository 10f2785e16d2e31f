# Two commands for a new user: `make run` and `make test` (see README.md).
# Everything else here is what those two need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA_DIR ?= $(or $(APPLIANCE_DATA_DIR),./data)

.PHONY: setup run test bench test-deps clean image

setup: $(STAMP)

# The venv is rebuilt only when the pinned requirements change.
$(STAMP): requirements.txt requirements-dev.txt
	@scripts/ensure-python-venv.sh $(PYTHON)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

run: setup
	@APPLIANCE_DATA_DIR=$(DATA_DIR) $(PY) -m appliance init --if-needed
	@APPLIANCE_DATA_DIR=$(DATA_DIR) exec $(PY) -m appliance run

test-deps:
	@scripts/test-deps.sh

test: setup test-deps
	@$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache
