# Kopir: `make run` serves the portal with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# The suite runs on every core (pytest-xdist); PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= -n auto
# npm installs the front-end tools here (git ignores build/): Sass and esbuild for `make assets`,
# Lighthouse for `make lighthouse`. Neither is needed by `make run` or `make test`.
ASSETS_BUILD     := build/assets
LIGHTHOUSE_BUILD := build/lighthouse
export FLASK_APP := wsgi

.PHONY: run test bench lighthouse assets lint translations translations-update system-deps db seed clean

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
	$(BIN)/pybabel extract -F portal/babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --no-location --sort-output --project Kopir -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --ignore-obsolete --no-fuzzy-matching

db: $(VENV)/.installed instance/config.py
	$(BIN)/flask db upgrade

seed: db
	@echo "Demo accounts:"
	@# Demo letters and e-mail link to where `make run` serves (BASE_URL wins when set).
	@$(BIN)/flask portal seed-demo --port $(PORT)

# The web server and a task-queue worker (deploy/Procfile) on the embedded SQLite queue in
# instance/; Ctrl-C stops both (the worker finishes the letter in hand first).
run: DEBIAN_SET = run
run: system-deps $(VENV)/.installed instance/config.py translations seed
	@echo "Kopir is at http://127.0.0.1:$(PORT)  (mail goes to instance/outbox/)"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile deploy/Procfile --app-root . \
	  start --port $(PORT)

test: DEBIAN_SET = test
test: system-deps $(VENV)/.installed-test instance/config.py translations
	$(BIN)/ruff check portal tests benchmarks
	@# The folder is named even when a test fails: that is when its pictures matter most.
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	echo "Screenshots of the browser tests: $(CURDIR)/test-artifacts/screenshots/"; \
	exit $$status

# The Python benchmarks first: the last step, Lighthouse, needs npm to install it once.
bench: DEBIAN_SET = test
bench: system-deps $(VENV)/.installed-test translations
	$(BIN)/python benchmarks/bench_pages.py
	$(BIN)/python benchmarks/bench_letters.py
	$(BIN)/python benchmarks/bench_exports.py
	$(BIN)/python benchmarks/bench_deadline.py $(DEADLINE_ARGS)
	$(MAKE) --no-print-directory lighthouse

# Lighthouse's phone preset on the main pages under gunicorn (benchmarks/bench_lighthouse.py),
# with the Lighthouse pinned in benchmarks/package.json, installed by npm into build/lighthouse/.
# LIGHTHOUSE_ARGS="--runs 3" takes the median of three runs per page.
$(LIGHTHOUSE_BUILD)/.installed: benchmarks/package.json benchmarks/package-lock.json
	mkdir -p $(LIGHTHOUSE_BUILD)
	cp benchmarks/package.json benchmarks/package-lock.json $(LIGHTHOUSE_BUILD)/
	cd $(LIGHTHOUSE_BUILD) && npm ci --no-audit --no-fund
	touch $@

lighthouse: DEBIAN_SET = test
lighthouse: system-deps $(VENV)/.installed translations $(LIGHTHOUSE_BUILD)/.installed
	$(BIN)/python benchmarks/bench_lighthouse.py $(LIGHTHOUSE_ARGS)

# Bootstrap built from its Sass and JavaScript sources with only what the portal uses
# (static/src/), into static/vendor/. It needs npm and the network; its output is committed, so
# `make run` and `make test` never do. Run it after changing anything under static/src/.
assets: $(VENV)/.installed
	mkdir -p $(ASSETS_BUILD) static/vendor
	cp static/src/package.json static/src/package-lock.json $(ASSETS_BUILD)/
	cd $(ASSETS_BUILD) && npm ci --no-audit --no-fund
	$(ASSETS_BUILD)/node_modules/.bin/sass --style=compressed --no-source-map --quiet-deps \
	  --silence-deprecation=import --load-path=$(ASSETS_BUILD)/node_modules \
	  static/src/kopir-bootstrap.scss static/vendor/bootstrap.min.css
	NODE_PATH=$(ASSETS_BUILD)/node_modules $(ASSETS_BUILD)/node_modules/.bin/esbuild \
	  static/src/kopir-bootstrap.js --bundle --minify --format=iife --global-name=bootstrap \
	  --target=es2019 --legal-comments=eof --outfile=static/vendor/bootstrap.min.js
	@# Every class of the complete Bootstrap: a test checks that the templates use none we left out.
	$(BIN)/python -c "import sys; from portal.assets import css_classes; \
	  print(*sorted(css_classes(open(sys.argv[1], encoding='utf-8').read())), sep='\n')" \
	  $(ASSETS_BUILD)/node_modules/bootstrap/dist/css/bootstrap.css > static/src/bootstrap-classes.txt

lint: $(VENV)/.installed-test
	$(BIN)/ruff check portal tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
