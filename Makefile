# Kopir: `make run` serves the portal with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The suite runs on every core (pytest-xdist); PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= -n auto
export FLASK_APP := wsgi

.PHONY: run test bench lint translations translations-update system-deps db seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# Debian packages the portal and its tests use; installed when we can, explained when we cannot.
system-deps:
	@sh .ci/debian-packages $(DEBIAN_SET)

# A secret key made once per checkout and kept in instance/, which git ignores.
instance/config.py:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print('SECRET_KEY = ' + repr(secrets.token_hex(32)))" > $@

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d portal/translations >/dev/null

translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F portal/babel.cfg -k _l -k lazy_gettext --no-location --sort-output --project Kopir -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --ignore-obsolete --no-fuzzy-matching

db: $(VENV)/.installed instance/config.py
	$(BIN)/flask db upgrade

seed: db
	@echo "Demo accounts:"
	@$(BIN)/flask portal seed-demo

run: DEBIAN_SET = run
run: system-deps $(VENV)/.installed instance/config.py translations seed
	@echo "Kopir is at http://127.0.0.1:$(PORT)  (mail goes to instance/outbox/)"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: DEBIAN_SET = test
test: system-deps $(VENV)/.installed-test instance/config.py translations
	$(BIN)/ruff check portal tests benchmarks
	@# The folder is named even when a test fails: that is when its pictures matter most.
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	echo "Screenshots of the browser tests: $(CURDIR)/test-artifacts/screenshots/"; \
	exit $$status

bench: DEBIAN_SET = run
bench: system-deps $(VENV)/.installed-test translations
	$(BIN)/python benchmarks/bench_pages.py
	$(BIN)/python benchmarks/bench_letters.py
	$(BIN)/python benchmarks/bench_exports.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check portal tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
