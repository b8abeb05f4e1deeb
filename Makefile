# Every target creates .venv and installs what it needs when missing, so each works on a fresh clone.
#   make dev      the whole shopping cart on http://localhost:$(PORT) (AWS emulated, no account, no Docker);
#                 CONTEXT="key=value ..." overrides CDK context (make dev CONTEXT="wafRateLimit=100000000")
#   make test     lint, unit, infrastructure, integration, storefront and browser tests
#   make synth    cdk.out for AWS (no credentials needed), the storefront built first
#   make deploy   the storefront built, then every stack to the AWS account of your credentials
#   make integ    deploy the whole shop to the account of your credentials, assert end to end, destroy
#   make bench    what each operation costs, beside its target (docs/PERFORMANCE.md)
#   make cost     the monthly cost model (docs/COST.md)
#   make docs     the construct library's API reference, from its docstrings, in docs/api/
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
PORT ?= 8080
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# aws-cdk-lib's Python runs on Node (jsii starts `node` at import), and so does the CDK CLI. The pinned
# Node LTS of package.json (the npm package `node` brings the binary, no system install) comes first on
# PATH for every target, so nothing here runs on the system's Node, whichever it is.
NODE_BIN := $(CURDIR)/node_modules/.bin
export PATH := $(NODE_BIN):$(PATH)

FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.js

.PHONY: dev test lint format test-python test-frontend screenshots synth deploy destroy integ openapi docs bench cost clean

$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json node_modules/.installed
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed frontend/package.json $(FRONTEND_SOURCES)
	cd frontend && npm run build

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work offline).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# CONTEXT: CDK context overrides, space-separated key=value, e.g. make dev CONTEXT="wafRateLimit=100000000"
# (every local client is 127.0.0.1, one key for the web ACL's per-IP rate rules: raise it for a load test).
CONTEXT ?=
dev: $(VENV)/.installed node_modules/.installed frontend/dist/index.html
	$(PY) -m local --port $(PORT) $(foreach pair,$(CONTEXT),-c $(pair))

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test-frontend: frontend/node_modules/.installed
	cd frontend && npm test

test-python: $(VENV)/.installed node_modules/.installed frontend/dist/index.html $(CHROMIUM)
	$(PY) -m pytest

test: lint test-frontend test-python

# Refreshes docs/screenshots (the README's pictures) from the browser tests.
screenshots: $(VENV)/.installed node_modules/.installed frontend/dist/index.html $(CHROMIUM)
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/e2e -q

# The Frontend stack uploads frontend/dist (app.py leaves the stack out when it is not built), so every
# target that synthesizes for AWS builds the storefront first.
synth: $(VENV)/.installed node_modules/.installed frontend/dist/index.html
	$(CDK) synth --quiet --no-notices

deploy: $(VENV)/.installed node_modules/.installed frontend/dist/index.html
	$(CDK) deploy --all --outputs-file cdk.out/outputs.json

destroy: $(VENV)/.installed node_modules/.installed frontend/dist/index.html
	$(CDK) destroy --all

# CDK integration tests (tests/integ/integ_*.py) on a real account: integ-runner deploys each app, runs
# its assertions and destroys it. INTEG_REGIONS picks the region (default: your CLI's).
INTEG_REGIONS ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)
integ: $(VENV)/.installed node_modules/.installed
	node_modules/.bin/integ-runner --directory tests/integ --language python \
		--app "$(CURDIR)/$(PY) {filePath}" --parallel-regions $(INTEG_REGIONS) --update-on-failed --force

openapi: $(VENV)/.installed
	$(PY) scripts/generate_openapi.py

# The API reference of `shopping_cart` (what __all__ exports; the Lambda code is not its API), generated
# from the docstrings by pdoc; docs/api/ is not committed. Importing aws_cdk starts jsii's Node process,
# which pdoc only allows when told to.
DOCS_DIR ?= docs/api
# pdoc hides a default that an environment variable repeats; ours are public settings, not secrets.
docs: $(VENV)/.installed node_modules/.installed
	rm -rf $(DOCS_DIR)
	PDOC_ALLOW_EXEC=1 PDOC_DISPLAY_ENV_VARS=1 $(PY) -m pdoc --output-directory $(DOCS_DIR) shopping_cart '!shopping_cart.runtime'

# What each operation costs (AWS requests, latency, cold start, asset sizes) beside its target;
# writes bench/results/bench.json. The table is in docs/PERFORMANCE.md.
bench: $(VENV)/.installed node_modules/.installed
	$(PY) bench/run.py

cost: $(VENV)/.installed
	$(PY) scripts/cost_model.py

clean:
	rm -rf cdk.out .local .pytest_cache .ruff_cache dist build *.egg-info frontend/dist docs/api
