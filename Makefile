# npctrial - two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# the suite runs on every core (pytest-xdist; each worker has its own test database; one file per
# worker, so that a module-scoped fixture such as a cohort report is built once)
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: run test test-sqlite test-postgres bench lint demo clean messages

$(PY):
	$(PYTHON) -m venv $(VENV) || (bash scripts/install-system-deps.sh && $(PYTHON) -m venv $(VENV))

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,lint]'
	touch $(STAMP)

## run: create .venv, install, migrate SQLite, load the demo study, serve http://127.0.0.1:8000
run: $(STAMP)
	$(VENV)/bin/npctrial serve --demo --host 127.0.0.1 --port 8000

## test: install what the tests need (PostgreSQL, Chromium), run every test on SQLite, then the web tests on PostgreSQL
test: $(STAMP)
	bash scripts/install-system-deps.sh
	$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite: $(STAMP)
	$(PY) -m pytest -p no:cacheprovider -q -n $(TEST_WORKERS) --dist loadfile --durations=15

test-postgres: $(STAMP)
	bash scripts/with-postgres.sh $(PY) -m pytest -p no:cacheprovider -q -n $(TEST_WORKERS) --dist loadfile --durations=10 tests/web

## bench: cold-call speed ratios against lifelines, statsmodels and the Rust survival package (benchmarks/run.py --help)
bench: $(STAMP)
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) benchmarks/run.py

## messages: refresh the translation catalogues from the sources and compile them (.mo files are committed)
messages: $(STAMP)
	cd src/npctrial/web && DJANGO_SETTINGS_MODULE=npctrial.web.settings $(CURDIR)/$(PY) -m django makemessages -l zh_Hans --no-location --no-obsolete --no-wrap -i "migrations/*"
	cd src/npctrial/web && DJANGO_SETTINGS_MODULE=npctrial.web.settings $(CURDIR)/$(PY) -m django compilemessages -l zh_Hans
	cd src/npctrial && xgettext --language=Python --from-code=UTF-8 --no-location --sort-output -k -k_ -kN_ -ktr -kt \
	  --package-name=npctrial -o locale/npctrial.pot cohort/report_language.py cohort/report_html.py cohort/report_pdf.py \
	  cohort/report_xlsx.py cohort/figures.py cohort/pipeline.py cohort/report_builder.py cohort/methods.py
	cd src/npctrial && msgmerge -q --no-wrap --no-fuzzy-matching --no-location --sort-output --update locale/zh_Hans/LC_MESSAGES/npctrial.po locale/npctrial.pot \
	  && msgfmt --check -o locale/zh_Hans/LC_MESSAGES/npctrial.mo locale/zh_Hans/LC_MESSAGES/npctrial.po && rm locale/npctrial.pot
	cd src/npctrial && xgettext --language=Python --from-code=UTF-8 --no-location --sort-output -k -kmessage:1c,2 -k_error:1c,2 \
	  --package-name=npctrial -o locale/npctrial-messages.pot messages.py domain/*.py
	cd src/npctrial && msgmerge -q --no-wrap --no-fuzzy-matching --no-location --sort-output --update \
	  locale/zh_Hans/LC_MESSAGES/npctrial-messages.po locale/npctrial-messages.pot \
	  && msgfmt --check -o locale/zh_Hans/LC_MESSAGES/npctrial-messages.mo locale/zh_Hans/LC_MESSAGES/npctrial-messages.po \
	  && rm locale/npctrial-messages.pot

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src

clean:
	rm -rf $(VENV) var build *.egg-info
