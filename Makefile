# `make synth` and `make test` each set up everything they need on a fresh machine
# (Python 3.10+ and Node present): a virtualenv with the library alone and the pinned cdk8s CLI for
# synth; `make test` adds the dev extra (test, lint and docs tools) to that virtualenv, and installs
# checkov in a virtualenv of its own.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Node 20 is past its end of life for jsii, which prints a banner on every start.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Material for MkDocs prints a boxed notice about MkDocs 2.0 on every build (not a warning).
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup setup-synth synth test lint docs docs-serve bench clean

# What synth needs: the library alone (its runtime dependencies) and the cdk8s CLI.
setup-synth: $(VENV)/.installed node_modules/.installed

# What the tests need on top: the dev extra, and checkov (~100 s to install).
setup: setup-synth $(VENV)/.installed-dev .venv-checkov/.installed

# One stamp per step, so that `make synth` then `make test` adds the dev extra, and `make test`
# then `make synth` installs nothing. A change to pyproject.toml redoes both (the second after the first).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# checkov in a virtualenv of its own: it pins versions that clash with the library's.
.venv-checkov/.installed: Makefile
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet checkov==3.3.30
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Synthesize every example through the official cdk8s CLI (app: in cdk8s.yaml) into dist/;
# the CLI lists the files it wrote.
synth: setup-synth
	rm -rf dist
	node_modules/.bin/cdk8s synth --no-check-upgrade

lint: setup
	$(PY) -m ruff check constructs_lib examples tests bench
	$(PY) -m ruff format --check constructs_lib examples tests bench
	$(PY) -m mypy

# The docs site (mkdocs.yml, docs/) into build/site/, strict: any warning fails the build.
docs: $(VENV)/.installed-dev
	$(PY) -m mkdocs build --strict
	@echo "docs: $$(find build/site -name '*.html' ! -name 404.html | wc -l) pages in build/site/, 0 warnings (strict)"

# The docs site at http://127.0.0.1:8000, rebuilt on every change.
docs-serve: $(VENV)/.installed-dev
	$(PY) -m mkdocs serve

# The whole suite: lint, types, the docs build, unit, golden, validation and integration tests with
# real programs (tests/test_docs.py also runs every code block of the docs).
test: lint docs
	$(PY) -m pytest

# Benchmarks print ratios against a baseline measured in the same run (not timed tests); not part
# of `make test`. ~30 minutes on the busy 2-core machine; e.g. `make bench FIGURES_ARGS="--n 50 --big-n 500"`.
FIGURES_ARGS ?=
bench: setup-synth $(VENV)/.installed-dev
	$(PY) -m bench.figures $(FIGURES_ARGS)
	$(PY) -m bench.figures --memory 5 $(FIGURES_ARGS)
	$(PY) -m bench.footprint
	$(PY) -m bench.redis_ambassador

clean:
	rm -rf $(VENV) .venv-checkov node_modules dist build/site .pytest_cache .mypy_cache .ruff_cache
