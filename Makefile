# Two commands matter: `make run` and `make test`. Both set up what they need first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP  := node_modules/.installed
BUILD_STAMP := sdk/dist/.built
WEB_SOURCES := $(shell find sdk demo_bank/web agent_console/web \( -name '*.js' -o -name '*.json' \) -not -path '*/dist/*' 2>/dev/null) build.mjs

.PHONY: setup system-deps system-deps-test run test test-fast lint bench clean

system-deps:
	bash scripts/system-deps.sh

system-deps-test:
	bash scripts/system-deps.sh test

# The venv is rebuilt whenever the pins or the package metadata change.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The front-end bundles (rrweb, socket.io-client and our sources), rebuilt when a source changes.
$(BUILD_STAMP): $(NODE_STAMP) $(WEB_SOURCES)
	node build.mjs
	touch $@

setup: system-deps $(STAMP) $(BUILD_STAMP)

run: setup
	$(BIN)/assist serve --port $${PORT:-8080}

test: system-deps-test setup
	$(BIN)/python -m pytest

# The gates CI runs before the tests (.ci/run): ruff and mypy (pyproject.toml), then ESLint on
# the front-end sources (eslint.config.mjs; the bundles in dist/ are esbuild's, not ours).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	node_modules/.bin/eslint --max-warnings 0 sdk demo_bank/web agent_console/web build.mjs eslint.config.mjs

# The fast tier: pure code only (domain, protocol, masking rule, voice text); no browser,
# server or speech model, so it needs no Debian packages beyond Node.js. Under a minute.
test-fast: setup
	$(BIN)/python -m pytest -m fast -q

bench: system-deps-test setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules sdk/dist agent_console/dist var .pytest_cache .hypothesis .mypy_cache .ruff_cache
