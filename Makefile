# BaluPi: `make demo` runs the whole system on simulated hardware, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench system-deps venv clean frontend frontend-check frontend-test node-deps

demo: system-deps venv
	$(BIN)/python -m balupi.devstack.demo

test: system-deps lint frontend-test frontend-check
	$(BIN)/pytest

# mypy's settings and the files it checks (balupi, tests, bench): pyproject.toml's [tool.mypy].
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: system-deps venv
	$(BIN)/python -m bench

system-deps:
	./scripts/install-system-deps

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The dashboard: built here (never on the Pi) into frontend-dist/, which is committed.
node-deps: frontend/node_modules/.installed

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	./scripts/check-node
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend: node-deps
	cd frontend && npx tsc --noEmit -p . && npx vite build --logLevel warn

# Fails when the committed frontend-dist/ is not what frontend/ builds to.
frontend-check: node-deps
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	(cd frontend && BALUPI_FRONTEND_OUT="$$out" npx vite build --logLevel warn) && \
	if diff -r "$$out" frontend-dist >/dev/null; then echo "frontend-dist/ matches frontend/"; \
	else diff -rq "$$out" frontend-dist; \
	  echo "frontend-dist/ is not what frontend/ builds: run 'make frontend' and commit it" >&2; exit 1; fi

frontend-test: node-deps
	cd frontend && npx tsc --noEmit -p . && npx vitest run

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache *.egg-info frontend/node_modules
