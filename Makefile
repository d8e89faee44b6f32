# Two entry points (see README): `make demo` and `make test`. Both set everything up themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit services bench profile clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# Pinned versions come from constraints.txt (the lock); the package itself is editable.
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/wanstack compare default

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks)

typecheck: $(STAMP)
	$(BIN)/mypy

# Debian's rabbitmq-server for the bench tests (no system service is started).
services:
	bash scripts/install-services.sh

unit: $(STAMP) services
	$(BIN)/pytest -q

test: lint typecheck unit

# Benchmarks print their figures (see README, Performance); they are not part of `make test`.
bench: $(STAMP)
	$(BIN)/python benchmarks/pingpong.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/migration_planner.py

profile: $(STAMP)
	$(BIN)/python benchmarks/profile_scale.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
