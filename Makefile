# Salon: the two commands are `make run` and `make test`. Everything else is here
# so a person can run exactly what CI runs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# The PostgreSQL pass of `make test` (pytest-django creates and drops test_salon).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/salon
CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0


.PHONY: fuzz deploy-check test-browser browser faketime pgbouncer test-pgbouncer
.PHONY: install run test test-sqlite test-postgres lint format demo migrate clean worker beat bench

$(STAMP): backend/requirements.txt backend/requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r backend/requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	cd backend && $(BIN)/python manage.py migrate --noinput
	cd backend && $(BIN)/python manage.py load_demo

# Web server, worker and beat in one terminal, on the embedded defaults (SQLite, the
# folder broker, the console provider); every setting can still come from the
# environment. Ctrl-C stops all three. Output is also kept in backend/.run/make-run.log.
run: migrate
	cd backend && $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	cd backend && PORT=$(PORT) $(BIN)/python scripts/run_embedded.py

# libfaketime (Debian): the live tests move the clock of the processes they start.
faketime:
	@ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1 || apt-get install -y -q libfaketime \
		|| (apt-get update -q && apt-get install -y -q libfaketime)

# PgBouncer (Debian's, 1.18): the live test of the API behind it and `make test-pgbouncer`.
pgbouncer:
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || apt-get install -y -q pgbouncer \
		|| (apt-get update -q && apt-get install -y -q pgbouncer)

# SQLite always; PostgreSQL (with the Redis and worker tests) where it answers.
# SALON_REQUIRE_SERVICES=1 (CI) makes a missing PostgreSQL or Redis a failure.
test: test-sqlite test-postgres

test-sqlite: install
	@echo "== tests on SQLite"
	cd backend && DATABASE_URL= $(BIN)/python -m pytest -q

test-postgres: install
	@if $(BIN)/python backend/scripts/postgres_answers.py "$(TEST_DATABASE_URL)"; then \
		$(MAKE) --no-print-directory faketime pgbouncer; \
		echo "== tests on PostgreSQL ($(TEST_DATABASE_URL))"; \
		cd backend && DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/python -m pytest -q; \
	elif [ "$$SALON_REQUIRE_SERVICES" = "1" ]; then \
		echo "PostgreSQL does not answer at $(TEST_DATABASE_URL) and SALON_REQUIRE_SERVICES=1"; exit 1; \
	else \
		echo "== PostgreSQL does not answer at $(TEST_DATABASE_URL): skipping the PostgreSQL pass"; \
	fi

# The PostgreSQL suite again, every connection (tests, gunicorn, workers, manage.py)
# through a PgBouncer of its own in transaction pooling mode (scripts/test_pgbouncer.py).
test-pgbouncer: install
	@if $(BIN)/python backend/scripts/postgres_answers.py "$(TEST_DATABASE_URL)"; then \
		$(MAKE) --no-print-directory faketime pgbouncer; \
		echo "== tests on PostgreSQL through PgBouncer ($(TEST_DATABASE_URL))"; \
		cd backend && $(BIN)/python scripts/test_pgbouncer.py "$(TEST_DATABASE_URL)"; \
	elif [ "$$SALON_REQUIRE_SERVICES" = "1" ]; then \
		echo "PostgreSQL does not answer at $(TEST_DATABASE_URL) and SALON_REQUIRE_SERVICES=1"; exit 1; \
	else \
		echo "== PostgreSQL does not answer at $(TEST_DATABASE_URL): skipping the PgBouncer pass"; \
	fi

# A Celery worker and the beat scheduler (the periodic sweep) for a production-like setup.
worker: install
	cd backend && CELERY_BROKER_URL="$(CELERY_BROKER_URL)" $(BIN)/celery -A salon_api worker --pool prefork --concurrency $${WORKER_CONCURRENCY:-16} -l info

beat: install
	cd backend && CELERY_BROKER_URL="$(CELERY_BROKER_URL)" $(BIN)/celery -A salon_api beat -l info

lint: install
	cd backend && $(BIN)/ruff check . ../bench && $(BIN)/ruff format --check . ../bench

format: install
	cd backend && $(BIN)/ruff check --fix . ../bench && $(BIN)/ruff format . ../bench

demo: migrate
	cd backend && $(BIN)/python manage.py demo_lifecycle

# Benchmarks (PostgreSQL, Redis, gunicorn, Celery, wrk): bench/api.py writes its table
# and chart into docs/performance.md; the others print theirs (copied there by hand).
bench: install
	@command -v wrk >/dev/null || apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk)
	@$(MAKE) --no-print-directory pgbouncer
	$(BIN)/python bench/api.py
	$(BIN)/python bench/sql_vs_orm.py
	$(BIN)/python bench/worker.py
	$(BIN)/python bench/reminders.py
	$(BIN)/python bench/ratelimit.py
	$(BIN)/python bench/delivery.py
	$(BIN)/python bench/export.py

# Django's deployment checklist with production settings (issue #6); production needs
# METRICS_TOKEN too (check salon.E001).
deploy-check: install
	cd backend && DJANGO_ENV=production DEBUG=0 ALLOWED_HOSTS=api.salon.example \
		SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		METRICS_TOKEN="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32))')" \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# The manager's admin in headless Chromium (Playwright driving Debian's chromium:
# Playwright cannot download its own browsers here). Screenshots: backend/.run/screenshots/.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)

test-browser: install browser
	cd backend && DATABASE_URL= CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -s browser_tests

# Schemathesis against the served OpenAPI schema, logged in (issue #6).
fuzz: install
	cd backend && $(BIN)/python scripts/fuzz.py

clean:
	rm -rf $(VENV) backend/db.sqlite3 backend/.pytest_cache backend/.run backend/staticfiles
