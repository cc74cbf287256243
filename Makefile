# jupyterlab-collab-exec: `make lab` starts the product, `make test` runs every test layer.
# Both set up whatever is missing first; running them again skips what is already done.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
STAMPS := .make
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
CHROMIUM ?= /usr/bin/chromium
LAB_PORT ?= 8888

TS_SOURCES := $(shell find src style schema -type f 2>/dev/null) package.json tsconfig.json

.PHONY: help setup enterprise-gateway lab test lint jest pytest ui-tests package-check bench bench-quick soak clean

help:
	@echo "make lab     set up, build, and start JupyterLab with collaboration on examples/"
	@echo "make test    set up, then run lint, jest, pytest, ui-tests and the packaging check"
	@echo "make bench   benchmarks against the peers and the limit (installs the peers once)"
	@echo "make bench-quick   a reduced benchmark of this project, in under 3 minutes"
	@echo "make soak    the reliability suite at full counts; updates docs/reliability.md"
	@echo "make clean   remove what the build and the tests produced"

$(STAMPS):
	@mkdir -p $(STAMPS)

$(STAMPS)/node-version: | $(STAMPS)
	@command -v node >/dev/null || { echo "Node.js >= 20.19 is required, and 'node' was not found." >&2; exit 1; }
	@node scripts/check-node.cjs
	@touch $@

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

$(STAMPS)/python-deps: pyproject.toml | $(VENV)/bin/python $(STAMPS)
	$(VENV)/bin/python -m pip install --quiet "jupyter-builder>=1.2.0,<2" "hatchling>=1.5.0" "hatch-nodejs-version>=0.3.2" "hatch-jupyter-builder>=0.5"
	@touch $@

$(STAMPS)/js-deps: package.json ui-tests/package.json yarn.lock $(STAMPS)/python-deps $(STAMPS)/node-version
	jlpm install
	@touch $@

$(STAMPS)/build: $(TS_SOURCES) $(STAMPS)/js-deps
	jlpm build
	@touch $@

# An editable build leaves a copy of install.json in the labextension directory, which the
# next build would add to the wheel a second time; it is regenerated anyway.
STRAY_INSTALL_JSON := jupyterlab_collab_exec/labextension/install.json

$(STAMPS)/installed: $(STAMPS)/build pyproject.toml
	rm -f $(STRAY_INSTALL_JSON)
	$(VENV)/bin/python -m pip install --quiet -e ".[dev,test,lint]"
	jupyter labextension develop --overwrite . >/dev/null
	@touch $@

$(STAMPS)/bench-deps: pyproject.toml $(STAMPS)/installed
	rm -f $(STRAY_INSTALL_JSON)
	$(VENV)/bin/python -m pip install --quiet -e ".[dev,test,lint,bench]"
	@touch $@

# Enterprise Gateway, whose kernels the tests of remote kernels use too, in a venv of its own
# (it pins jupyter_server 1 and jupyter_client 6). Its versions are pinned in the requirements
# file; the tests find the gateway in this venv.
ENTERPRISE_GATEWAY_VENV := .venv-enterprise-gateway
ENTERPRISE_GATEWAY_REQUIREMENTS := jupyterlab_collab_exec/tests/enterprise_gateway_requirements.txt

$(STAMPS)/enterprise-gateway: $(ENTERPRISE_GATEWAY_REQUIREMENTS) | $(STAMPS)
	rm -rf $(ENTERPRISE_GATEWAY_VENV)
	$(PYTHON) -m venv $(ENTERPRISE_GATEWAY_VENV)
	$(ENTERPRISE_GATEWAY_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	  -r $(ENTERPRISE_GATEWAY_REQUIREMENTS)
	@touch $@

enterprise-gateway: $(STAMPS)/enterprise-gateway

$(CHROMIUM):
	@if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update && $$SUDO apt-get install -y chromium

setup: $(STAMPS)/installed

lab: setup
	cd examples && jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
	  --ServerApp.allow_root=True --ServerApp.open_browser=False demo.ipynb

test: setup $(STAMPS)/enterprise-gateway $(CHROMIUM)
	./scripts/test-layers.sh

lint: setup
	./scripts/test-layers.sh lint

jest: setup
	./scripts/test-layers.sh jest

pytest: setup $(STAMPS)/enterprise-gateway
	./scripts/test-layers.sh pytest

ui-tests: setup $(CHROMIUM)
	./scripts/test-layers.sh ui-tests

package-check: setup
	./scripts/test-layers.sh package

bench: $(STAMPS)/bench-deps
	@status=0; $(VENV)/bin/python -m bench.run || status=$$?; \
	  jlpm prettier --write docs/benchmarks.md >/dev/null; exit $$status

bench-quick: $(STAMPS)/bench-deps
	$(VENV)/bin/python -m bench.run --quick

SOAK_TALLY := $(STAMPS)/soak-tally.json

# The reliability suite at full counts. Its figures go into docs/reliability.md even when a
# trial fails, so that the page shows what passed.
soak: setup
	@rm -f $(SOAK_TALLY)
	@start=$$(date +%s); status=0; \
	  COLLAB_EXEC_SOAK=1 COLLAB_EXEC_RELIABILITY_REPORT=$(CURDIR)/$(SOAK_TALLY) \
	    $(VENV)/bin/python -m pytest -q -p no:cacheprovider --timeout 3600 \
	    jupyterlab_collab_exec/tests/reliability || status=$$?; \
	  $(VENV)/bin/python scripts/reliability_report.py $(SOAK_TALLY) $$(($$(date +%s) - start)) $$status; \
	  report=$$?; jlpm prettier --write docs/reliability.md >/dev/null; exit $$report

clean:
	rm -rf $(STAMPS) lib tsconfig.tsbuildinfo jupyterlab_collab_exec/labextension \
	  jupyterlab_collab_exec/_version.py dist build coverage junit.xml \
	  ui-tests/test-results ui-tests/playwright-report .venv-package-check \
	  $(ENTERPRISE_GATEWAY_VENV)
