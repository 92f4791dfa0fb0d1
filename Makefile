# Quick start: `make run` starts the bot, `make test` runs everything CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MO     := bot/locale/fa/LC_MESSAGES/messages.mo
PO     := bot/locale/fa/LC_MESSAGES/messages.po

.PHONY: install catalog catalog-update run migrate seed test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(MO): $(PO) $(STAMP)
	$(BIN)/pybabel compile -d bot/locale -D messages
	touch $(MO)

catalog: $(MO)

# After adding or changing strings: extract, merge into the catalog (no fuzzy guesses), then translate.
catalog-update: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ --no-location --sort-output \
		--project=tashakkol --copyright-holder=Tashakkol -o bot/locale/messages.pot .
	$(BIN)/pybabel update -N --no-wrap -i bot/locale/messages.pot -d bot/locale -D messages

run: install catalog
	@$(BIN)/python -m bot run

migrate: install
	$(BIN)/python -m bot migrate

seed: install
	$(BIN)/python -m bot seed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy bot db fakeapi

# The suite on SQLite, and again on PostgreSQL when TEST_DATABASE_URL is set (CI sets it).
pytest: install catalog
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest
	if [ -n "$$TEST_DATABASE_URL" ]; then $(BIN)/python -m pytest; fi

test: lint typecheck pytest

bench: install catalog
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(MO)
