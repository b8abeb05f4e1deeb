# Every target creates .venv and installs what it needs when missing, so each works on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
PORT ?= 8080
# jsii (used by aws-cdk-lib) prints an end-of-life banner on Node 20 at every import.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: dev test lint format synth deploy destroy openapi bench clean

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: $(VENV)/.installed node_modules/.installed lint
	$(PY) -m pytest

synth: $(VENV)/.installed node_modules/.installed
	$(CDK) synth --quiet

deploy: $(VENV)/.installed node_modules/.installed
	$(CDK) deploy --all

destroy: $(VENV)/.installed node_modules/.installed
	$(CDK) destroy --all

clean:
	rm -rf cdk.out .pytest_cache .ruff_cache dist build *.egg-info
