# `make demo` and `make test` work from a fresh clone: each creates .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test

# Peers for `make bench-peers` only, each in its own venv (Prowler's is ~1.4 GB).
PEERS := .venv-peers
PROWLER_VERSION ?= 5.46.0
C7N_VERSION ?= 0.9.53
# c7n-org's release made with c7n 0.9.53 (it pins c7n to that version).
C7N_ORG_VERSION ?= 0.6.52
CHECKOV_VERSION ?= 3.3.30
STAMP_PROWLER := $(PEERS)/prowler/.installed-$(PROWLER_VERSION)
STAMP_CUSTODIAN := $(PEERS)/custodian/.installed-$(C7N_VERSION)-org-$(C7N_ORG_VERSION)
STAMP_CHECKOV := $(PEERS)/checkov/.installed-$(CHECKOV_VERSION)

.PHONY: demo test lint typecheck pytest bench bench-peers browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt holds the versions the suite was last run with: a fresh clone
# installs exactly those.
$(STAMP_DEMO): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[demo]'
	touch $@

$(STAMP_TEST): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,dev]'
	touch $@

# The demo account has failing keys on purpose: exit code 1 is the expected result.
demo: $(STAMP_DEMO)
	$(BIN)/initkeys audit --demo || test $$? -eq 1

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP_TEST)
	$(BIN)/mypy --strict src/initkeys

# Test workers (pytest-xdist), each with its own emulator process. Three beat two
# (= -n auto) even on 2 cores: much of each test is spent waiting on the emulator
# or a subprocess. PYTEST_WORKERS=0 runs the suite in one process. Work stealing: an
# idle worker takes tests queued for a busy one, so the run does not end waiting on one
# worker's backlog behind a long test (177 s -> 161 s here; four workers were no faster).
PYTEST_WORKERS ?= 3

pytest: $(STAMP_TEST)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(if $(filter 0,$(PYTEST_WORKERS)),,--dist worksteal)

test: lint typecheck pytest

# Headless Chromium and chromedriver for the HTML report's browser tests
# (Debian, as root; CI runs it). Does nothing when chromedriver is there.
# Without them `make test` still runs: those tests skip and say why.
browser:
	@if command -v chromedriver >/dev/null 2>&1; then \
		echo "browser: chromedriver found at $$(command -v chromedriver)"; \
	elif [ "$$(id -u)" -ne 0 ]; then \
		echo "browser: run as root, or: sudo apt-get install -y chromium chromium-driver" >&2; \
		exit 1; \
	else \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; \
	fi

bench: $(STAMP_TEST)
	$(BIN)/python benchmarks/live_audit.py
	$(BIN)/python benchmarks/offline_report.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/org_audit.py --accounts 10 100

# $(call install-peer,VENV,REQUIREMENTS): a fresh venv, then the stamp only on
# success. A failed install leaves its log beside the venv and no stamp, and
# benchmarks/peers.py reports that peer as not installed, with the log's end.
define install-peer
	rm -rf $(1) $@
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip > $(1)-install.log 2>&1
	$(1)/bin/python -m pip install $(2) >> $(1)-install.log 2>&1 \
		|| { tail -n 5 $(1)-install.log; exit 1; }
	touch $@
endef

$(STAMP_PROWLER):
	$(call install-peer,$(PEERS)/prowler,prowler==$(PROWLER_VERSION))

$(STAMP_CUSTODIAN):
	$(call install-peer,$(PEERS)/custodian,c7n==$(C7N_VERSION) c7n-org==$(C7N_ORG_VERSION))

$(STAMP_CHECKOV):
	$(call install-peer,$(PEERS)/checkov,checkov==$(CHECKOV_VERSION))

# Opt-in, never part of `make test` or CI: installs the peers (minutes, GBs),
# then runs each tool on the same emulated account, c7n-org next to `initkeys
# audit --org` on the same emulated organization, and Checkov next to `initkeys
# iac` on the same Terraform tree and corpus. A peer that fails to install is a
# row in the results, not the end of the run.
bench-peers: $(STAMP_TEST)
	-$(MAKE) --no-print-directory $(STAMP_PROWLER)
	-$(MAKE) --no-print-directory $(STAMP_CUSTODIAN)
	-$(MAKE) --no-print-directory $(STAMP_CHECKOV)
	$(BIN)/python benchmarks/peers.py
	$(BIN)/python benchmarks/org_peers.py --workers 8 32
	$(BIN)/python benchmarks/iac_peers.py

clean:
	rm -rf $(VENV) $(PEERS) build dist .pytest_cache .mypy_cache .ruff_cache
