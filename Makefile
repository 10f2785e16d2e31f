# Two commands for a new user: `make run` and `make test` (see README.md).
# Everything else here is what those two need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATA_DIR ?= $(or $(APPLIANCE_DATA_DIR),./data)

.PHONY: setup run test bench test-deps clean image

# Bytecode is compiled here because an interpreter that may not write it (PYTHONDONTWRITEBYTECODE, a
# read-only tree) compiles every module of ours again at each start: half a second of the 2 s READY goal.
setup: $(STAMP)
	@$(PY) -m compileall -q -j0 appliance hardware >/dev/null

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

# The image: pyinstaller bundle + Debian package (image_build/build.py). pyinstaller is installed here
# only, pinned, so `make run` and `make test` stay light.
image: setup
	@$(PY) -m pip install -q --disable-pip-version-check pyinstaller==6.22.3
	@$(PY) image_build/build.py

clean:
	rm -rf $(VENV) .pytest_cache
