# fangkong: `make run` serves the demo, `make test` runs the whole suite.
# Both bootstrap .venv from the lock file and build the front-end assets first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
FANGKONG := $(BIN)/fangkong
VENV_STAMP := $(VENV)/.installed
ASSETS_STAMP := src/fangkong/web/static/vendor/.built
CATALOG_STAMP := var/.catalogs
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
DEMO_POPULATION ?= 20000
DEMO_DAYS ?= 7
DEMO_SEED ?= 2022
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres lint format bench bootstrap assets catalogs demo lock check-lock migrate clean

bootstrap: $(VENV_STAMP) $(ASSETS_STAMP) $(CATALOG_STAMP)

$(VENV_STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "fangkong needs Python 3.11+"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

$(ASSETS_STAMP): package.json package-lock.json scripts/build_assets.py
	npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) scripts/build_assets.py
	@touch $@

$(CATALOG_STAMP): $(VENV_STAMP) $(shell find src -name '*.po' 2>/dev/null)
	@mkdir -p var
	$(FANGKONG) compile_catalogs
	@touch $@

assets: $(ASSETS_STAMP)
catalogs: $(CATALOG_STAMP)

migrate: bootstrap
	$(FANGKONG) migrate --noinput

# The demo accounts exist before the outbreak is played, so that its notices (pushed
# lists, escalations, positives, tasks) reach them; the second run prints the logins and
# moves the site and community accounts to where the outbreak put people.
demo: migrate
	$(FANGKONG) drill city --population $(DEMO_POPULATION) --days $(DEMO_DAYS) --seed $(DEMO_SEED) --start auto
	$(FANGKONG) demo_users > /dev/null
	$(FANGKONG) drill outbreak
	$(FANGKONG) demo_users

# The web server and, beside it, one background worker (imports, exports and rounds run
# as jobs on the database backend); the worker is stopped when the server stops.
run: demo
	@echo "fangkong: serving at http://$(HOST):$(PORT)/ with a background worker"
	@$(FANGKONG) db_worker --no-reload --verbosity 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FANGKONG) runserver $(HOST):$(PORT)

lint: bootstrap
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src/fangkong
	$(BIN)/lint-imports
	$(FANGKONG) makemigrations --check --dry-run
	$(PY) scripts/check_lock.py

format: bootstrap
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-lock: $(VENV_STAMP)
	$(PY) scripts/check_lock.py

# The whole suite: lint, then every test on SQLite and, at the same time, on PostgreSQL
# (two processes on two cores; each pass's output is printed whole when it ends).
test: lint
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: bootstrap
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: bootstrap
	@if [ -n "$$FANGKONG_SKIP_POSTGRES" ]; then echo "SKIPPING PostgreSQL run (FANGKONG_SKIP_POSTGRES set)"; \
	else DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS); fi

bench: migrate
	$(FANGKONG) bench --list

# Regenerate the lock file after changing pyproject.toml dependencies.
lock: $(VENV_STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) node_modules var src/fangkong/web/static/vendor
