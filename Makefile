# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PWA_SOURCES := $(shell find pwa/src pwa/public -type f 2>/dev/null) pwa/index.html pwa/vite.config.js pwa/package.json

.PHONY: run test unit lint format bench install lock pwa pwa-check clean

run: install pwa  ## install everything, load the demo city if needed, serve on :8000
	$(BIN)/wangge serve --demo

test: install pwa pwa-check  ## install everything, lint, run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	@# The two databases' runs side by side (each in its own process and temp folder): much of
	@# each run waits on a server, a browser or PostgreSQL, so the pair takes little more than
	@# the longer one. PostgreSQL's output follows SQLite's.
	@tmp=$$(mktemp -d); \
	$(BIN)/pytest --durations=25 --db postgres --basetemp=$$tmp/postgres > $$tmp/postgres.log 2>&1 & pg=$$!; \
	$(BIN)/pytest --durations=25 --db sqlite --basetemp=$$tmp/sqlite; sqlite=$$?; \
	wait $$pg; postgres=$$?; \
	echo "== pytest --db postgres"; cat $$tmp/postgres.log; \
	exit $$(( sqlite || postgres ))

lint: install  ## ruff, ruff format, mypy (backend/ and geo/, as [tool.mypy] in pyproject.toml says), the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

unit: install  ## the tests that need no database, server or browser (a few seconds)
	$(BIN)/pytest --db sqlite -m "not e2e" -k "not sqlite" --ignore=tests/live -q

pwa-check: pwa/node_modules/.package-lock.json  ## the field app's own checks: ESLint, types (vue-tsc), unit tests (Vitest)
	cd pwa && npm run lint && npm run typecheck && npm run test:unit

bench: install pwa  ## run every benchmark (not part of the tests; Lighthouse needs the built app); figures land in bench/results/
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

install: $(VENV)/.installed

# The versions come from the lock file (every package, dependencies of dependencies too), so
# that a fresh machine installs what the tests last passed with; `make lock` renews it.
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements-dev.lock -e '.[dev]'
	touch $@

lock: install  ## pin every Python package anew (pip-tools), keeping today's versions where they still fit
	$(BIN)/pip install --quiet pip-tools==7.6.2
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url --no-emit-find-links \
		-o requirements-dev.lock pyproject.toml

pwa: pwa/dist/index.html

pwa/node_modules/.package-lock.json: pwa/package-lock.json
	cd pwa && npm ci --no-audit --no-fund

pwa/dist/index.html: pwa/node_modules/.package-lock.json $(PWA_SOURCES)
	cd pwa && npm run build

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist
