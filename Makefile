# offnet: every target installs what it needs first, and does nothing twice.
#   make demo   the whole marketplace end to end on a real anvil
#   make test   the whole test suite (eth-tester unit tests + anvil integration tests, and the
#               MEF conformance suite when the MEF SDK is found)
#   make conformance MEF_SDK=path   offnet's Sonata side judged by the real MEF specs
#   make bench  gas and throughput benchmarks        make lint   ruff, import layers, forge fmt, Slither
#   make artifacts  recompile contracts/ into the package (only when sources changed)
#   make gas-snapshot  rewrite tests/gas-snapshot[.shanghai].json from a fresh measurement
#   make browser  Debian's headless Chromium for the report's and the explorer's browser tests

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

# py-solc-x and ape-solidity find the solc-js front here (never in the home folder).
export SOLCX_BINARY_PATH := $(CURDIR)/.solcx
# ape-foundry looks anvil up on the PATH, and crytic-compile (under Slither) asks forge for the
# config of foundry.toml (the formatter's settings): both from node_modules.
export PATH := $(CURDIR)/node_modules/@foundry-rs/anvil-linux-amd64/bin:$(CURDIR)/node_modules/@foundry-rs/forge-linux-amd64/bin:$(CURDIR)/$(BIN):$(PATH)

# The MEF LSO Sonata SDK the conformance suite reads: $(MEF_SDK), else ../shared/mef-sdk beside
# this checkout, else /work/shared/mef-sdk.
MEF_SDK ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/mef-sdk) /work/shared/mef-sdk))
export MEF_SDK

.PHONY: help setup demo test conformance bench lint artifacts gas-snapshot fuzz tools clean browser install
#   make browser  Debian's headless Chromium for the report's and the explorer's browser tests

help:
	@sed -n '2,11p' Makefile | sed 's/^# \{0,1\}//'

tools:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "offnet needs Python 3.11: install it so that '$(PYTHON)' runs (or make PYTHON=/path/to/python3.11)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "offnet needs Python 3.11, but $(PYTHON) is $$($(PYTHON) --version 2>&1)"; exit 1; }
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "offnet needs Node.js 20 with npm: install them (https://nodejs.org) and run make again"; exit 1; }

$(PY_STAMP): requirements.txt pyproject.toml | tools
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==26.3 setuptools==75.8.2
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@# The Sonata models compiled into the user's cache once, so `offnet sonata validate` starts warm.
	@$(BIN)/offnet sonata validate src/offnet/sonata/examples/quote.json >/dev/null
	@touch $@

$(NODE_STAMP): package.json package-lock.json | tools
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(PY_STAMP) $(NODE_STAMP)

artifacts: setup
	@$(BIN)/python -m offnet.build

demo: artifacts
	$(BIN)/offnet demo
	@echo "offnet is $(CURDIR)/$(BIN)/offnet: 'make install' links it into ~/.local/bin (PREFIX=... elsewhere)"

# `offnet` on the PATH: a link to this checkout's console script in $(PREFIX)/bin (~/.local/bin is on
# the PATH of most Linux shells).
PREFIX ?= $(HOME)/.local
install: setup
	@mkdir -p $(PREFIX)/bin
	@ln -sf $(CURDIR)/$(BIN)/offnet $(PREFIX)/bin/offnet
	@echo "linked $(PREFIX)/bin/offnet -> $(CURDIR)/$(BIN)/offnet"

# Headless Chromium (Debian's package) for the report's screenshot test; where it cannot be installed
# (not root, no apt-get) the test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } \
	  || echo "make browser: chromium could not be installed here; the report and explorer browser tests are skipped"

# The suite runs as two pytest sessions side by side, one per core: the chain-free and in-process
# half (unit, conformance, ape, browser) in the terminal, and the half that drives real nodes and
# processes (integration, reliability, security) into out/test-nodes.log, printed when it ends.
# Either one failing fails the target; pytest's exit code 5 (no tests collected) is a failure too.
# Without the MEF SDK the conformance suite is left out, in one line. The gas tests run a second
# time on the Shanghai build (embedded chain under Shanghai rules), compared with its own snapshot.
TESTS_IN_PROCESS := tests/unit tests/conformance tests/ape tests/browser
TESTS_WITH_NODES := tests/integration tests/reliability tests/security
test: artifacts browser
	@mkdir -p out; \
	if [ -n "$(MEF_SDK)" ] && [ -f "$(MEF_SDK)/productApi/quote/quoteManagement.api.yaml" ]; then \
		skip=""; \
	else \
		echo "make test: MEF SDK not found (MEF_SDK=path, or ../shared/mef-sdk): conformance suite skipped"; \
		skip="--ignore=tests/conformance"; \
	fi; \
	$(BIN)/python -m pytest $(TESTS_WITH_NODES) > out/test-nodes.log 2>&1 & nodes=$$!; \
	$(BIN)/python -m pytest $(TESTS_IN_PROCESS) $$skip; first=$$?; \
	wait $$nodes; second=$$?; \
	echo "=== $(TESTS_WITH_NODES) (out/test-nodes.log)"; cat out/test-nodes.log; \
	for status in $$first $$second; do \
		if [ $$status -eq 5 ]; then echo "make test: no tests were collected"; exit 1; fi; \
		if [ $$status -ne 0 ]; then exit $$status; fi; \
	done; \
	$(BIN)/python -m pytest -m gas --evm shanghai -q; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: no gas tests were collected"; exit 1; fi; exit $$status

conformance: setup
	@test -n "$(MEF_SDK)" -a -f "$(MEF_SDK)/productApi/quote/quoteManagement.api.yaml" || \
		{ echo "make conformance: no MEF SDK at '$(MEF_SDK)': give MEF_SDK=path/to/mef-sdk"; exit 1; }
	$(BIN)/python -m pytest tests/conformance -q

# BENCH_ARGS: options of python -m bench, e.g. make bench BENCH_ARGS=--quick (see bench/results/README.md).
bench: artifacts
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/lint-imports
	forge fmt --check contracts
	$(BIN)/python tests/security/slither_input.py .build/slither-input.json
	$(BIN)/slither .build/slither-input.json --config-file slither.config.json

# The long stateful campaign over the whole suite (CI runs a short one): OFFNET_FUZZ_EXAMPLES,
# OFFNET_FUZZ_STEPS and OFFNET_FUZZ_SEED override the defaults; a failing sequence is shrunk.
fuzz: artifacts
	OFFNET_FUZZ_EXAMPLES=$${OFFNET_FUZZ_EXAMPLES:-2000} OFFNET_FUZZ_STEPS=$${OFFNET_FUZZ_STEPS:-50} \
	OFFNET_FUZZ_SEED=$${OFFNET_FUZZ_SEED:-20261125} \
	$(BIN)/python -m pytest tests/security/test_suite_invariants.py -q

# Rewritten from scratch, so a figure no test measures any more leaves the file.
gas-snapshot: artifacts
	rm -f tests/gas-snapshot.json tests/gas-snapshot.shanghai.json
	OFFNET_UPDATE_GAS_SNAPSHOT=1 $(BIN)/python -m pytest tests -m gas -q
	OFFNET_UPDATE_GAS_SNAPSHOT=1 $(BIN)/python -m pytest tests -m gas -q --evm shanghai

clean:
	rm -rf $(VENV) node_modules .build .pytest_cache out
