# BaluPi: `make demo` runs the whole system on simulated hardware, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-debian-libs lint bench system-deps venv clean deb deploy frontend frontend-check frontend-test node-deps \
	e2e-deps dashboard-screenshot

demo: system-deps venv
	$(BIN)/python -m balupi.devstack.demo

test: system-deps lint frontend-test frontend-check e2e-deps
	$(BIN)/pytest
	$(MAKE) test-debian-libs

# The services' tests again on Debian bookworm's own python3-aiohttp 3.8,
# python3-prometheus-client 0.16 and python3-cryptography 38 (what the .deb runs on), with
# only the vendored packages and the test tools from PyPI.
DEBIAN_VENV ?= .venv-debian
test-debian-libs: system-deps
	./packaging/debian-libs-venv $(DEBIAN_VENV)
	$(DEBIAN_VENV)/bin/python -m pytest -q -p no:cacheprovider $(DEBIAN_LIBS_TESTS)

DEBIAN_LIBS_TESTS ?= tests/test_exporter_tapo.py tests/test_exporter_pihole.py \
	tests/test_exporter_units.py tests/test_handshake_api.py tests/test_handshake_protocol.py \
	tests/test_handshake_signing.py tests/test_handshake_states.py \
	tests/test_handshake_heartbeat_wake.py tests/test_handshake_pihole_backend.py \
	tests/test_pihole_client.py tests/test_pihole_records.py tests/test_dns_switch.py \
	tests/test_config.py tests/test_sim_tapo.py tests/test_sim_nas.py

# The Debian package: balupi_VERSION_all.deb here (VERSION defaults to pyproject's).
VERSION ?=
deb:
	./packaging/build-deb $(VERSION)

# Build, copy to the Pi over SSH, install with apt: make deploy PI=user@host
deploy: deb
	@test -n "$(PI)" || { echo "usage: make deploy PI=user@host"; exit 2; }
	./packaging/deploy "$(PI)" "$$(ls -t balupi_*_all.deb | head -1)"

# mypy's settings and the files it checks (balupi, tests, bench): pyproject.toml's [tool.mypy].
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: system-deps venv e2e-deps
	$(BIN)/python -m bench

# playwright-core for the browser tests and benchmarks (Debian's chromium, no browser download).
e2e-deps: tests/e2e/node_modules/.package-lock.json

tests/e2e/node_modules/.package-lock.json: tests/e2e/package-lock.json
	./scripts/check-node
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
.PHONY: demo test test-debian-libs lint bench system-deps venv clean deb deploy frontend frontend-check frontend-test node-deps
