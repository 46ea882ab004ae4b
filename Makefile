# BaluPi: `make demo` runs the whole system on simulated hardware, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench system-deps venv e2e-deps dashboard-screenshot clean

demo: system-deps venv
	$(BIN)/python -m balupi.devstack.demo

test: system-deps venv e2e-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: system-deps venv e2e-deps
	$(BIN)/python -m bench

# playwright-core for the browser tests and benchmarks (Debian's chromium, no browser download).
e2e-deps: tests/e2e/node_modules/.package-lock.json

tests/e2e/node_modules/.package-lock.json: tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error

# The README's screenshot, taken by the browser test.
dashboard-screenshot: system-deps venv e2e-deps
	BALUPI_DASHBOARD_SCREENSHOT=1 $(BIN)/pytest tests/test_dashboard_e2e.py -q

system-deps:
	./scripts/install-system-deps

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache *.egg-info
