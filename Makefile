# Two commands: `make dev` runs the whole app against the Smartflo sandbox; `make test` runs
# every test. Both install what they need first (into .venv and node_modules).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
WEB_PORT ?= 8000
SANDBOX_PORT ?= 8900

# Development defaults: the sandbox plays Smartflo, and calls back into the app with these
# dev-only secrets; it starts with a week of demo call records, which the first sync (Sync now on
# the records page, or beat within 5 minutes) brings in whole. The two tokens can be overridden from the environment (not from .env: these
# variables are set before the app reads .env).
DEV_ENV := DEBUG=1 SECURE_SSL_REDIRECT=0 WEB_PORT=$(WEB_PORT) SANDBOX_PORT=$(SANDBOX_PORT) \
	MASKING_API_TOKEN=$${MASKING_API_TOKEN:-dev-masking-token} \
	SMARTFLO_WEBHOOK_TOKEN=$${SMARTFLO_WEBHOOK_TOKEN:-dev-webhook-token} \
	SANDBOX_WEBHOOK_URL=http://127.0.0.1:$(WEB_PORT)/api/v1/webhooks/smartflo/ \
	SANDBOX_WEBHOOK_TOKEN=$${SMARTFLO_WEBHOOK_TOKEN:-dev-webhook-token} \
	SANDBOX_DIALPLAN_URL=http://127.0.0.1:$(WEB_PORT)/api/v1/masking/resolve/ \
	SANDBOX_DIALPLAN_TOKEN=$${MASKING_API_TOKEN:-dev-masking-token} \
	SANDBOX_RECORDS=$${SANDBOX_RECORDS:-400} \
	CDR_SYNC_INITIAL_LOOKBACK_SECONDS=$${CDR_SYNC_INITIAL_LOOKBACK_SECONDS:-604800} \
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH

.PHONY: dev test install lint format bench clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
	touch $@

dev: install
	@mkdir -p var
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo
	@echo
	@echo "  Contact center:  http://127.0.0.1:$(WEB_PORT)/   (admin: http://127.0.0.1:$(WEB_PORT)/admin/)"
	@echo "  Smartflo sandbox: http://127.0.0.1:$(SANDBOX_PORT)/v1  (control: /_control/state)"
	@echo "  Sign in with one of the logins above. Ctrl-C stops everything."
	@echo
	$(DEV_ENV) $(VENV)/bin/honcho start -f Procfile

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Every benchmark in bench/ once, then one table of ratios against their targets (needs
# PostgreSQL on 127.0.0.1; about 6 minutes). BENCH_ARGS=--quick checks the plumbing in ~2.
bench: install
	$(PY) bench/run_all.py $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .ruff_cache
