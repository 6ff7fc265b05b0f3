# Two set-up commands on a fresh machine (each makes .venv and installs the locked versions):
#   make demo   installs the tool and runs the whole pipeline on the embedded demo study (out/)
#   make test   installs the tool with its test extras and runs the test suite
# Other targets:
#   make lock         refresh requirements/*.txt after a dependency change in pyproject.toml
#   make fresh-check  clone, new venvs, empty pip cache, both commands on each tested Python
PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
PIP_INSTALL := $(VPY) -m pip install --quiet --disable-pip-version-check
# uv resolves the lock (one universal file for every Python and platform); pip installs it
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

# uv lives in its own venv (.uv/) so that .venv holds exactly the locked packages
lock:
	@test -x .uv/bin/uv || ($(PYTHON) -m venv .uv && .uv/bin/python -m pip install --quiet uv==$(UV_VERSION))
	.uv/bin/uv pip compile pyproject.toml requirements/build.in -c requirements/one-version.txt \
		--universal --generate-hashes --python-version $(LOCK_PYTHON) --quiet \
		-o requirements/runtime.txt
	.uv/bin/uv pip compile pyproject.toml requirements/build.in -c requirements/one-version.txt \
		--extra dev --universal --generate-hashes --python-version $(LOCK_PYTHON) --quiet \
		-o requirements/dev.txt

fresh-check:
	bash tools/fresh_check.sh
