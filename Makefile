# `make demo` and `make test` work from a fresh clone: each creates .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint typecheck pytest bench browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_DEMO): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[demo]'
	touch $@

$(STAMP_TEST): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The demo account has failing keys on purpose: exit code 1 is the expected result.
demo: $(STAMP_DEMO)
	$(BIN)/initkeys audit --demo || test $$? -eq 1

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP_TEST)
	$(BIN)/mypy --strict src/initkeys

pytest: $(STAMP_TEST)
	$(BIN)/python -m pytest

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

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
