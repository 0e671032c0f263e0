# Two commands for a newcomer, no servers needed:
#   make demo   creates .venv, installs, migrates, seeds a demo hospital, plans its day, serves on :8000
#   make test   installs the dev extra and runs the suite (set DATABASE_URL/REDIS_URL for PostgreSQL/Redis)
# Installs happen again only when pyproject.toml changes (stamp files in .venv).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo test lint migration-check migration-initial assets translations

demo: $(VENV)/.installed assets
	$(BIN)/doorstep demo --port $(PORT)

test: $(VENV)/.installed-dev assets
	$(BIN)/pytest $(PYTEST_ARGS)

# The map library of the dispatcher's board, from the npm registry (pinned in package-lock.json),
# copied into admin/static/vendor/ (committed, so a pip install needs no node). Again only when
# package-lock.json changes (the stamp lives in node_modules/, which is not committed).
VENDOR := admin/static/vendor
assets: node_modules/.doorstep-assets

node_modules/.doorstep-assets: package.json package-lock.json
	npm ci --no-audit --no-fund
	rm -rf $(VENDOR)/leaflet
	mkdir -p $(VENDOR)/leaflet/images
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/LICENSE $(VENDOR)/leaflet/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/leaflet/images/
	touch $@

# The desk pages' texts (Flask-Babel): extract them from admin/ (babel.cfg), merge them into each
# catalogue under admin/translations/ and compile the .mo files, which are committed (see admin/i18n.py).
# Then fill in the new msgstr entries of admin/translations/zh/LC_MESSAGES/messages.po and run it again.
# A new language: $(BIN)/pybabel init -i admin/translations/messages.pot -d admin/translations -l CODE
TRANSLATIONS := admin/translations
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output \
	  --project=Doorstep --copyright-holder="Doorstep contributors" -o $(TRANSLATIONS)/messages.pot admin
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --ignore-obsolete \
	  --ignore-pot-creation-date --no-fuzzy-matching
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

# Do the migrations build exactly the models? (on a throwaway SQLite file)
migration-check: $(VENV)/.installed
	$(BIN)/doorstep db check

# Before the first release only: rewrite the initial revision from the current models.
# Later changes get a new revision instead: $(BIN)/doorstep db revision -m "what changed"
migration-initial: $(VENV)/.installed
	rm -f doorstep/migrations/versions/0001_*.py
	$(BIN)/doorstep db revision -m "initial schema" --rev-id 0001
	$(BIN)/doorstep db check

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Doorstep needs Python 3.11 or newer: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed
