# Two commands set everything up on a fresh machine (see README.md):
#   make run   — virtualenv, install, migrate, seed the demo, start web + worker + beat
#   make test  — virtualenv, install, run the whole test suite
#   make screenshots — the browser tests, writing docs/screenshots/*.png
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000

.PHONY: run test screenshots install assets messages lint check clean bench-pages

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/activate assets
	$(BIN)/pip install --quiet -e ".[test]"
	$(MAKE) messages

assets:
	npm ci --no-audit --no-fund --loglevel=error

messages:
	cd $(CURDIR) && $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

# The product as users see it: DEBUG off (its own 404/500 pages), static files collected and
# served by the app (WhiteNoise), a dozen demo cases, a quiet console; the URL and the demo
# logins are printed last. E-mail goes to files in var/mail (no SMTP server needed).
DEMO_ENV := DEBUG=0 DEMO=1 EMAIL_URL=filemail://$(CURDIR)/var/mail
run: install
	$(DEMO_ENV) $(PY) manage.py migrate --no-input -v 0
	$(DEMO_ENV) $(PY) manage.py collectstatic --no-input -v 0
	$(DEMO_ENV) $(PY) manage.py seed_demo --with-cases
	$(DEMO_ENV) WEB_PORT=$(PORT) PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

test: install
	bash scripts/test.sh

# Regenerate docs/screenshots/*.png from the browser tests (a plain test run never writes them).
screenshots: install
	SCREENSHOTS=1 bash scripts/test.sh -m browser
	SCREENSHOTS=1 bash scripts/test.sh tests/test_documents.py -k every_kind_as_pdf

lint: $(BIN)/activate
	$(BIN)/ruff check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) node_modules staticfiles var

# The page benchmark (issue 12): N incidents, query counts, p50/p95 against gunicorn; see
# docs/benchmarks.md. PostgreSQL only (DATABASE_URL names the server); templates are reused.
N ?= 100000
bench-pages: $(BIN)/activate
	nice -n 10 $(PY) benchmarks/pages_benchmark.py --n $(N) $(BENCH_ARGS)
