# Two set-up commands on a fresh machine (each makes .venv and installs the locked versions):
#   make demo   installs the tool and runs the whole pipeline on the embedded demo study (out/)
#   make test   installs the tool with its test extras and runs the test suite
# Other targets:
#   make lock         refresh uv.lock and requirements/*.txt after a dependency change
#   make fresh-check  clone, new venvs, empty pip cache, both commands on each tested Python
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
PIP_INSTALL := $(VPY) -m pip install --quiet --disable-pip-version-check
# uv resolves the lock (uv.lock: one universal file for every Python and platform); pip installs
# its exports in requirements/
UV_VERSION := 0.13.9
LOCK_PYTHON := 3.11

.PHONY: venv install install-dev demo test lock fresh-check

venv:
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)

# --require-hashes: every package at its locked version and hash, nothing resolved at install time;
# the package itself goes in editable, built by the locked setuptools (no build isolation)
install: venv
	$(PIP_INSTALL) --require-hashes -r requirements/runtime.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .

install-dev: venv
	$(PIP_INSTALL) --require-hashes -r requirements/dev.txt
	$(PIP_INSTALL) --no-deps --no-build-isolation -e .

demo: install
	$(VENV)/bin/cdisc run --out out

test: install-dev
	$(VPY) -m pytest

# uv.lock is the lock (uv, in its own venv .uv/ so that .venv holds exactly the locked packages);
# requirements/*.txt are its exports with hashes, which plain pip installs
UV := .uv/bin/uv
EXPORT := $(UV) export --frozen --format requirements-txt --no-emit-project --no-dev --group build --quiet
lock:
	@test -x $(UV) || ($(PYTHON) -m venv .uv && .uv/bin/python -m pip install --quiet uv==$(UV_VERSION))
	$(UV) lock --python $(LOCK_PYTHON) --quiet
	$(EXPORT) -o requirements/runtime.txt
	$(EXPORT) --extra dev -o requirements/dev.txt

fresh-check:
	bash tools/fresh_check.sh
