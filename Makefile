# BaluPi: `make demo` runs the whole system on simulated hardware, `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench system-deps venv clean

demo: system-deps venv
	$(BIN)/python -m balupi.devstack.demo

test: system-deps lint
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

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache *.egg-info
