# Salon: the two commands are `make run` and `make test`. Everything else is here
# so a person can run exactly what CI runs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install run test test-sqlite test-postgres lint format demo migrate clean

$(STAMP): backend/requirements.txt backend/requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r backend/requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	cd backend && $(BIN)/python manage.py migrate --noinput
	cd backend && $(BIN)/python manage.py load_demo

run: migrate
	@echo "Serving on http://127.0.0.1:$(PORT)/api/docs/ (console provider: codes and messages appear below)"
	cd backend && OTP_PROVIDER=console NOTIFICATION_PROVIDER=console DEBUG=1 \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	cd backend && $(BIN)/python -m pytest -q

lint: install
	cd backend && $(BIN)/ruff check . && $(BIN)/ruff format --check .

format: install
	cd backend && $(BIN)/ruff check --fix . && $(BIN)/ruff format .

demo: migrate
	cd backend && OTP_PROVIDER=console NOTIFICATION_PROVIDER=console $(BIN)/python manage.py demo_lifecycle

clean:
	rm -rf $(VENV) backend/db.sqlite3 backend/.pytest_cache
