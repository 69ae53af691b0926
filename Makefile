# urbsim: two entry points for a fresh clone.
#   make demo   set up, then run the calibrated census scenario (china_census) into results/demo/
#   make test   set up, then run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "urbsim needs Python >= 3.12 (mesa 3.5); found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/urbsim run china_census --out results/demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check urbsim tests benchmarks experiments docs
	$(VENV)/bin/ruff format --check urbsim tests benchmarks experiments docs

bench: $(STAMP)
	$(PY) benchmarks/demo_speed.py

clean:
	rm -rf $(VENV) results/demo
