# fercl: developer and user entry points. `make test` is the test command CI runs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fercl-installed

.PHONY: install test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# Sample photos (six faces, Tom Hanks) are read out of this wheel by 'fercl sample'; never installed.
	-$(PY) -m pip download --quiet --no-deps insightface==2.1 -d $(VENV)/share/fercl/wheels
	touch $(STAMP)

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check fercl_cli tests
	$(VENV)/bin/ruff format --check fercl_cli tests

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
