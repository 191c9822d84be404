# Two entry points for a fresh machine: `make run` serves everything, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 9380
export HOST PORT

.PHONY: run test install install-dev migrate stop

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch goes first and alone: pip then takes the pinned CPU build from this machine's disk, whereas
# resolving it together with its dependents may pick a multi-GB GPU build from the index.
install: $(BIN)/python
	$(BIN)/pip install --quiet $$(grep '^torch==' requirements.txt)
	$(BIN)/pip install --quiet -r requirements.txt

# ragflow-sdk declares Python >= 3.13 but is pure Python and works on 3.11.
install-dev: install
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --ignore-requires-python ragflow-sdk==0.27.3

migrate: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

run: migrate
	$(BIN)/python manage.py runall --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest

stop:
	$(BIN)/python -m ragflow_site.embedded stop
