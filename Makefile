# Everything a fresh machine needs, from a plain Python 3.11+.
#   make demo   set up, then run the main job end to end on the bundled breast-cancer example
#   make test   set up, then run the test suite

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.mlspec-installed
DEMO   ?= build/demo
DIST   ?= dist

NODE_TOOLS := .ci/node/node_modules/.installed

.PHONY: demo test lint typecheck schema golden bench wheel clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# The demo's workspace is always $(DEMO)/.mlspec, whatever MLSPEC_CACHE_DIR says in your shell.
demo: export MLSPEC_CACHE_DIR =
demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/mlspec init $(DEMO) --example breast-cancer
	$(BIN)/mlspec validate -f $(DEMO)/mlspec.yaml
	$(BIN)/mlspec compile -f $(DEMO)/mlspec.yaml --out $(DEMO)
	$(BIN)/mlspec run -f $(DEMO)/mlspec.yaml
	@echo
	@echo "== a second run: every stage is up to date, nothing is recomputed"
	$(BIN)/mlspec run -f $(DEMO)/mlspec.yaml
	@echo
	$(BIN)/mlspec status -f $(DEMO)/mlspec.yaml
	@echo
	@echo "Where everything went:"
	@echo "  CI pipelines  $(DEMO)/.github/workflows/mlspec.yml, $(DEMO)/.gitlab-ci.yml (mlspec compile)"
	@echo "  lock file     $(DEMO)/mlspec.lock  (commit it, like dvc.lock: fingerprints, digests, metrics)"
	@echo "  outputs       $(DEMO)/.mlspec/stages/<kind>/<name>/"
	@echo "  data profiles $(DEMO)/.mlspec/stages/data/*/profile.json"
	@echo "  suite results $(DEMO)/.mlspec/stages/validate/*/summary.md"
	@echo "  models        $(DEMO)/.mlspec/stages/train/*/model.skops"
	@echo "  metrics       $(DEMO)/.mlspec/stages/evaluate/metrics.json (plots: evaluate/plots/)"
	@echo "  why reruns    $(BIN)/mlspec plan -f $(DEMO)/mlspec.yaml"

# gitlab-ci-local and action-validator (npm), and rsync, which gitlab-ci-local uses to copy job directories;
# Debian's headless chromium, which opens the HTML report in tests/report/test_html_browser.py; Debian's
# openssh-server, whose sshd the store's SFTP tests start on loopback (tests/store/conftest.py).
$(NODE_TOOLS): .ci/node/package.json .ci/node/package-lock.json
	cd .ci/node && npm ci --no-audit --no-fund
	command -v rsync >/dev/null || (apt-get update -qq && apt-get install -y -qq rsync)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	test -x /usr/sbin/sshd || (apt-get update -qq && apt-get install -y -qq openssh-server)
	touch $@

test: $(STAMP) $(NODE_TOOLS)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check mlspec tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

# Regenerate the checked-in JSON Schema after changing mlspec/spec.py.
schema: $(STAMP)
	$(BIN)/mlspec schema -o schemas/mlspec.schema.json

# Regenerate tests/golden/ after a deliberate change to the generated CI files.
golden: $(STAMP)
	$(BIN)/python -m tests.golden

# The wheel of this work tree, $(DIST)/mlspec_ci-VERSION-py3-none-any.whl, built offline by hatchling (a dev
# dependency), as tests/e2e builds the one its CI jobs install. Point MLSPEC_INSTALL at it (or at a copy on an
# index or URL you control) to pin exactly this build in CI.
wheel: $(STAMP)
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation --no-index -q -w $(DIST) .
	@ls $(DIST)/mlspec_ci-*.whl

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_validate.py
	$(BIN)/python benchmarks/bench_run.py
	$(BIN)/python benchmarks/bench_serve.py
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_runcache.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
