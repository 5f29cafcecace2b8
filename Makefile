# The two commands of the quickstart: `make demo` and `make test`.
# Each creates .venv when needed, installs the project and the ZooKeeper server, then runs.

VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test docs lint typecheck unit integration sqla-suite soak system-deps clean bench

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

system-deps:
	@./scripts/ensure-system-deps.sh

demo: system-deps $(STAMP)
	$(VENV)/bin/prestoha demo

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy --strict prestoha

unit: $(STAMP)
	$(PY) -m pytest -m "not integration"

integration: system-deps $(STAMP)
	$(PY) -m pytest -m integration

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

test: system-deps $(STAMP) lint typecheck docs
	$(PY) -m pytest
	$(MAKE) sqla-suite
	$(MAKE) soak

# SQLAlchemy's dialect suite: its plugin takes over a pytest run and reads test.cfg from the
# rootdir, so it runs on its own.
sqla-suite: system-deps $(STAMP)
	$(PY) -m pytest tests/compliance/sqla_suite --rootdir=tests/compliance/sqla_suite -p no:cacheprovider -q

# The reliability soak (BENCHMARKS.md R1) for 60 s: chaos on a real cluster under a mixed
# workload; it exits non-zero when an invariant fails and prints the seed to rerun it with.
soak: system-deps $(STAMP)
	$(PY) -m benchmarks.soak --seconds 60 --no-write

bench: system-deps $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
