# The two commands: `make demo` runs the main job, `make test` runs every test.
# Both install what they need into .venv (Python) and .bin (control plane binaries).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv lint typecheck pytest control-plane e2e-kind clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

control-plane: $(STAMP)
	bash hack/build-control-plane.sh

demo: $(STAMP)
	@if [ -x hack/build-control-plane.sh ] && [ "$${DUPCERT_DEMO_KMOCK:-}" != "1" ]; then \
		bash hack/build-control-plane.sh || echo "control plane build failed; the demo falls back to kmock"; \
	fi
	$(BIN)/dupcert demo

lint: $(STAMP)
	$(BIN)/ruff format --check operator tests
	$(BIN)/ruff check operator tests

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

# Under `make test` a missing control plane binary fails the cluster tests instead of skipping them.
test: export DUPCERT_REQUIRE_CONTROL_PLANE := 1
test: lint typecheck control-plane pytest

e2e-kind:
	bash hack/e2e-kind.sh

# Measure the design targets on the local stack (about 90 s); not part of `make test`.
# Options go in BENCH_ARGS, e.g. `make bench BENCH_ARGS=--quick` or `BENCH_ARGS=--write`.
.PHONY: bench
bench: control-plane
	$(BIN)/python hack/benchmark.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .bin .pytest_cache .mypy_cache .ruff_cache
