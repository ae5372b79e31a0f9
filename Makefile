# fercl: developer and user entry points. `make test` is the test command CI runs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.fercl-installed

.PHONY: install test test-fast lint bench bench-gpu demo ablation clean

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

# The inner loop: everything but the end-to-end runs marked slow (make test still runs them all).
test-fast: install
	$(PY) -m pytest -q -m "not slow"

lint: install
	$(VENV)/bin/ruff check fercl_cli tests
	$(VENV)/bin/ruff format --check fercl_cli tests

# CPU benchmarks on a generated sample corpus; rewrites their sections of docs/benchmarks.md.
bench: install
	$(VENV)/bin/fercl bench all --write docs/benchmarks.md

# GPU pretraining speed with the machine's own python3 (torch, h5py, numpy; no fercl install needed).
BENCH_GPU_OUT ?= build/bench-gpu
bench-gpu:
	PYTHONPATH=. python3 -m fercl_cli.bench.gpu --out $(BENCH_GPU_OUT)

# The whole chain on generated sample data, in ./fercl-demo (reruns reuse finished stages).
demo: install
	$(VENV)/bin/fercl demo

# The paper's claim tested at small scale: the testbed profile (factorised corpus, small CNN), 6 configurations
# x 3 seeds, floors and a supervised ceiling, computed verdict; rewrites the ablation section of
# docs/benchmarks.md. About 30 min to prepare the testbed, then about 66 min on 2 CPU cores.
ABLATION_DIR ?= fercl-demo
ablation: install
	$(VENV)/bin/fercl demo --profile testbed --ablation --dir $(ABLATION_DIR) --write docs/benchmarks.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
