# Two entry points (see README): `make demo` and `make test`. Both set everything up themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test checks lint typecheck imports unit services openstack rally bench profile clean

# OpenStack's own services, for the testbed: an environment of their own (external components, as
# RabbitMQ is), pinned by openstack/constraints.txt, with wanstack's plug-ins (openstack/).
OPENSTACK_VENV  ?= .venv-openstack
OPENSTACK_STAMP := $(OPENSTACK_VENV)/.installed-stamp

# Rally (`wanstack testbed rally`): a client of the testbed's cloud, in an environment of its own, pinned
# by openstack/rally-constraints.txt (why apart from OpenStack's: that file's header). ~10 s with an
# empty uv cache here (2026-12-07), 127 packages.
RALLY_VENV  ?= .venv-rally
RALLY_STAMP := $(RALLY_VENV)/.installed-stamp

# uv installs what pip would (the same pinned versions) in a third of the time: measured on a clean
# clone here (2026-12-03), 100 s -> 32 s for this environment and 126 s -> 38 s for OpenStack's. It is
# pinned in constraints.txt and installed by pip into the package's environment first.
UV := $(BIN)/uv pip install --quiet --compile-bytecode

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt uv
	# Pinned versions come from constraints.txt (the lock); the package itself is editable.
	$(UV) --python $(BIN)/python -c constraints.txt -e ".[all,dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/wanstack compare default

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks openstack scripts
	$(BIN)/ruff format --check src tests benchmarks openstack scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# Debian's rabbitmq-server, nats-server and mariadb-server for the bench and testbed tests (no system
# service is started).
services:
	bash scripts/install-services.sh

$(OPENSTACK_STAMP): $(STAMP) openstack/constraints.txt openstack/pyproject.toml $(wildcard openstack/wanstack_openstack/*.py)
	test -x $(OPENSTACK_VENV)/bin/python || $(PYTHON) -m venv $(OPENSTACK_VENV)
	$(UV) --python $(OPENSTACK_VENV)/bin/python -c openstack/constraints.txt \
		keystone openstack-placement glance nova neutron osprofiler PyMySQL ./openstack
	touch $(OPENSTACK_STAMP)

openstack: $(OPENSTACK_STAMP)

$(RALLY_STAMP): $(STAMP) openstack/rally-constraints.txt
	test -x $(RALLY_VENV)/bin/python || $(PYTHON) -m venv --without-pip $(RALLY_VENV)
	$(UV) --python $(RALLY_VENV)/bin/python -c openstack/rally-constraints.txt rally rally-openstack
	touch $(RALLY_STAMP)

rally: $(RALLY_STAMP)

# The suite in one pytest session, every test one after the other.
unit: $(STAMP) services $(OPENSTACK_STAMP) $(RALLY_STAMP)
	$(BIN)/pytest -q

# The import layers (pyproject.toml, [tool.importlinter]; docs/architecture.md).
imports: $(STAMP)
	$(BIN)/lint-imports

checks: lint typecheck imports

# The set-up's independent steps at once (the package's environment, then lint and mypy in it; the
# Debian services; OpenStack's and Rally's environments), then the suite in two sessions
# (scripts/run-tests.sh): the tests that time one at a time, alone; then the others on every core.
test:
	$(MAKE) --jobs=3 --output-sync=target checks services $(OPENSTACK_STAMP) $(RALLY_STAMP)
	bash scripts/run-tests.sh $(BIN)

# Benchmarks print their figures (see README, Performance); they are not part of `make test`.
bench: $(STAMP)
	$(BIN)/python benchmarks/pingpong.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/migration_planner.py
	$(BIN)/python benchmarks/sweep.py

profile: $(STAMP)
	$(BIN)/python benchmarks/profile_scale.py

clean:
	rm -rf $(VENV) $(OPENSTACK_VENV) $(RALLY_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
