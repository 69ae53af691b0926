# urbsim: two entry points for a fresh clone.
#   make demo   set up, then run the calibrated census scenario (china_census) into results/demo/
#   make test   set up, then run the test suite
#   make setup-locked   install the exact versions of requirements.lock (the committed results')
#   make lock           rewrite requirements.lock from .venv (after regenerating the results)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Let Python cache compiled modules even where the shell sets PYTHONDONTWRITEBYTECODE: without
# the cache every process (each test run, CLI call and sweep worker) recompiles urbsim and
# pytest re-rewrites every test module (measured: collecting the fast subset 22 s -> 12 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint bench setup setup-locked lock clean

setup: $(STAMP)

# --no-compile: pip would byte-compile every module of every dependency, most of which nothing
# here imports (installing the wheel's dependencies: 132 s against 47 s without); Python
# compiles the modules a run imports when it first imports them.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "urbsim needs Python >= 3.12 (mesa 3.5); found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-compile -e ".[test]"
	@touch $(STAMP)

# The versions behind the committed results: `urbsim reproduce` warns when they differ.
setup-locked:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "urbsim needs Python >= 3.12 (mesa 3.5); found " + sys.version.split()[0]'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-compile -r requirements.lock -e .
	@touch $(STAMP)

lock: $(STAMP)
	{ printf '%s\n' \
	  "# Exact versions of every distribution installed for the committed results (results/*/)." \
	  "# $$($(PY) -c 'import platform as p; print(p.python_implementation(), p.python_version(), p.system(), p.machine())')." \
	  "# Install: pip install -r requirements.lock -e .   (or: make setup-locked)" \
	  "# urbsim reproduce warns when a key package (numpy, pandas, numba, ...) differs from this file." \
	  "# Regenerate with the results: make lock"; \
	  $(PY) -m pip freeze --exclude-editable; } > requirements.lock

demo: $(STAMP)
	$(VENV)/bin/urbsim run china_census --out results/demo

# Two test processes, each test file in one of them (a file's module fixtures run once). A
# fresh-clone run took 1,556 s of pytest this way against 2,513 s in one process (2026-12-02).
# Two processes had made the Dask worker-death test miss its 300 s deadline (twice, 02:31),
# most likely through recompilation: test helpers compiled the household step for two more
# argument types, so the processes rewrote its Numba cache index in turn and a worker could
# find its entry gone. Since the step has one signature (d5b08a1) that test took 47 s.
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=40

# The marked fast subset (unit, kernel, property and CLI tests), in two test processes.
test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not slow" -n 2 --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check urbsim tests benchmarks experiments docs
	$(VENV)/bin/ruff format --check urbsim tests benchmarks experiments docs

bench: $(STAMP)
	$(PY) benchmarks/demo_speed.py

clean:
	rm -rf $(VENV) results/demo
