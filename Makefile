# Two set-up commands on a fresh machine:
#   make demo   installs the tool and runs the whole pipeline on the embedded demo study (out/)
#   make test   installs the tool with its test extras and runs the test suite
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install install-dev demo test

install:
	$(PIP) install --quiet -e .

install-dev:
	$(PIP) install --quiet -e '.[dev]'

demo: install
	cdisc run --out out

test: install-dev
	$(PYTHON) -m pytest
