# Two commands on a fresh machine: `make run` and `make test`. Both create .venv and install only when
# pyproject.toml changed since the last install (stamp files), so a second start needs no network.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
ARGS ?=

.PHONY: run test check lint typecheck messages bench clean

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

test: $(STAMP_DEV) check
	$(BIN)/python -m pytest

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
