# The one command line for people and CI. `make synth` and `make test` set up what they need.
SHELL := /bin/bash
VENV := .venv
# Node 22 from the pinned npm package, then the venv: jsii refuses the machine's Node 20.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: synth test lint typecheck security bench snapshot-update budgets clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade "pip==26.3"
	$(PYTHON) -m pip install --quiet --group dev
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: $(VENV)/.installed node_modules/.installed

## Synthesize every stack into cdk.out (cdk-nag, the region lock and our rules gate it).
synth: deps
	cdk synth --quiet

## The whole test suite with the coverage gate (threshold in pyproject.toml).
test: deps
	$(PYTHON) -m pytest --cov --cov-report=term $(PYTEST_ARGS)

snapshot-update: deps
	$(PYTHON) -m pytest tests/stacks/test_snapshots.py --snapshot-update

lint: deps
	ruff check .
	ruff format --check .

typecheck: deps
	mypy cashtrace_constructs stacks lambdas app.py

security: deps
	bandit -q -r cashtrace_constructs stacks lambdas app.py

## Times full synth against a one-bucket app with the same toolchain, and the test suite.
bench: deps
	$(PYTHON) scripts/benchmark.py

## Worst-case rollback and scale-out seconds per environment (the Property 5 / 9 timing model).
budgets: deps
	CDK_VALIDATION=false $(PYTHON) -m stacks.budgets

clean:
	rm -rf cdk.out .pytest_cache .coverage
