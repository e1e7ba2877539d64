# The one command line for people and CI. `make synth` and `make test` set up what they need.
SHELL := /bin/bash
VENV := .venv
# Node 22 from the pinned npm package, then the venv: jsii refuses the machine's Node 20.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
PYTHON := $(VENV)/bin/python
PYTEST_ARGS ?=
# A release manifest (release.json, docs/pipeline.md): `make synth RELEASE=release.json` pins every
# environment to its digest, as the pipeline's synth does. Without it the placeholder digest is
# synthesized, which can never be deployed.
RELEASE ?=

.PHONY: postgres lambda-wheels synth rehearse preflight test property-test snapshot-check lint workflow-lint typecheck security bench bench-breakdown snapshot-update budgets evidence diagrams delivery-report clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade "pip==26.3"
	$(PYTHON) -m pip install --quiet --group dev
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: $(VENV)/.installed node_modules/.installed

# checkov pins its own boto3 and cannot share the app's venv; it gets one of its own.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: pyproject.toml
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade "pip==26.3"
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --group checkov
	touch $@

## Refresh the PostgreSQL driver wheels of the Lambda layer (then update the hashes in its requirements.txt).
lambda-wheels: deps
	$(PYTHON) -m pip download --quiet --only-binary :all: --no-deps --dest lambdas/layers/postgres/wheels \
		$$(grep -oE '^[A-Za-z0-9_.-]+==[^ ]+' lambdas/layers/postgres/requirements.txt)
	sha256sum lambdas/layers/postgres/wheels/*.whl

## Synthesize every stack into cdk.out (cdk-nag, the region lock and our rules gate it), then
## print which of those checks ran over which templates and passed.
synth: deps
	cdk synth --quiet $(if $(RELEASE),--context release=$(RELEASE))
	$(PYTHON) -m tools.checks_summary cdk.out

## Release rehearsal: synthesize from a manifest as the pipeline does (RELEASE=..., default: a
## generated one) and show what ships: the pinned digest per stage, what a next release changes, the gate, the record.
rehearse: deps
	$(PYTHON) -m tools.rehearse $(if $(RELEASE),--release $(RELEASE))

## Before a first deploy: read-only checks of the environment's and the pipeline's accounts (ENV=dev|staging|prod),
## listing every missing prerequisite with the command that fixes it. RELEASE=release.json (the release to deploy),
## PROFILE / PIPELINE_PROFILE (AWS CLI profiles of the two accounts), CONTEXT='-c account.prod=... -c ...'
## (the values `cdk deploy` gets). Exit 1: something is missing; 2: no credentials (it says how to get them).
PREFLIGHT_ENV = $(if $(filter command line,$(origin ENV)),$(ENV),)
preflight: deps
	$(PYTHON) -m tools.preflight --env '$(PREFLIGHT_ENV)' $(if $(RELEASE),--release $(RELEASE)) \
		$(if $(PROFILE),--profile $(PROFILE)) $(if $(PIPELINE_PROFILE),--pipeline-profile $(PIPELINE_PROFILE)) $(CONTEXT)

## The PostgreSQL server the Lambda tests start on 127.0.0.1 (Debian's package, installed if missing).
postgres:
	bash scripts/ensure_postgres.sh

## The whole test suite with the coverage gate (threshold in pyproject.toml).
test: deps postgres
	$(PYTHON) -m pytest -n 2 --cov --cov-report=term $(PYTEST_ARGS)

## Hypothesis tests only (the "ci" profile when CI is set, see tests/conftest.py).
property-test: deps
	$(PYTHON) -m pytest -m hypothesis --hypothesis-show-statistics -q $(PYTEST_ARGS)

## Templates against the committed snapshots, never updating them (CI's check).
snapshot-check: deps
	$(PYTHON) -m pytest tests/stacks/test_snapshots.py -q

snapshot-update: deps
	$(PYTHON) -m pytest tests/stacks/test_snapshots.py --snapshot-update

lint: deps
	ruff check .
	ruff format --check .
	hadolint service/Dockerfile

## actionlint and zizmor on .github/workflows (actionlint: `pip install --group workflow-lint`).
workflow-lint: deps
	$(PYTHON) -m pip install --quiet --group workflow-lint
	actionlint
	zizmor --offline --persona pedantic .github/workflows

typecheck: deps
	mypy cashtrace_constructs stacks lambdas tools service app.py

## Property 3: bandit, pip-audit, detect-secrets, cfn-lint, checkov and the AWS Control Tower
## proactive controls over cdk.out, judged by security/policy.yaml (failing severity and every
## justified exception). cdk-nag runs in synth. `.ci/run` runs this after `make test`.
security: deps $(CHECKOV_VENV)/.installed synth
	$(PYTHON) -m scripts.security_scan --canary --checkov $(CHECKOV_VENV)/bin/checkov
	$(PYTHON) -m scripts.security_scan --checkov $(CHECKOV_VENV)/bin/checkov

## Times full synth against a one-bucket app with the same toolchain, and the test suite.
bench: deps
	$(PYTHON) scripts/benchmark.py

## Where the full synth's time goes: import, build and synth, with and without the pipeline, nag, the validator.
bench-breakdown: deps
	$(PYTHON) scripts/bench/breakdown.py

## Worst-case rollback and scale-out seconds per environment (the Property 5 / 9 timing model).
budgets: deps
	CDK_VALIDATION=false $(PYTHON) -m tools.budgets

## Evidence of each environment (`make evidence ENV=prod`; default all): cdk.out/evidence/<env>.md, .json,
## .junit.xml, from cdk.out when it is fresh, else from one synth. Exit 1 when the evidence shows a failure.
## ENV counts only from the command line: some shells export an unrelated ENV.
EVIDENCE_ENVIRONMENTS = $(if $(filter command line,$(origin ENV)),$(ENV),dev staging prod)
evidence: deps
	$(PYTHON) -m tools.evidence $(foreach env,$(EVIDENCE_ENVIRONMENTS),--env $(env))

## Regenerates docs/diagrams/<env>.md and the README's diagrams from the synthesized app.
diagrams: deps
	$(PYTHON) -m tools.evidence.docs

## Deployment frequency, lead time, change failure rate and time to restore from the deployment record
## (credentials of the pipeline account; TABLE=<name> or found in the CashTrace-Pipeline stack; DAYS=30).
delivery-report: deps
	$(PYTHON) -m tools.delivery_report $(if $(TABLE),--table $(TABLE)) $(if $(DAYS),--days $(DAYS))

clean:
	rm -rf cdk.out .pytest_cache .coverage
