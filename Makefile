# The front door: CI and the README call these targets and nothing else.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
CDK := node_modules/.bin/cdk

# jsii prints a Node end-of-life banner on every run unless told the major version is known;
# the CDK CLI would otherwise look up telemetry and notices over the network.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup synth test lint bench clean

help:
	@echo "make synth  set up if needed, synthesize every team's stacks to cdk.out/, run the compliance gates"
	@echo "make test   set up if needed, lint and run every test"
	@echo "make lint   ruff and mypy"
	@echo "make bench  measure synth, transitions, Lambda asset and imports, validator; write benchmarks/"
	@echo "make clean  remove cdk.out/ (keeps .venv/ and node_modules/)"

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=24'
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: setup
	$(CDK) synth --quiet --no-notices
	$(BIN)/python -m tunestack.compliance_scan cdk.out

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy tunestack tunestack_constructs stacks app.py lambdas/tunestack_runtime lambdas/tunestack_handlers

test: lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf cdk.out
