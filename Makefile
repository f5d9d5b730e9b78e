# The two commands of the README: `make demo` (the main job) and `make test` (CI runs this).
# Both set up everything they need on a fresh machine: a virtual environment in .venv with
# torch pinned to this machine's local CPU build (installed first, so nothing pulls CUDA
# wheels), the project in editable mode, and Neo4j's Cypher analyser from npm for the lint.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.fraudring-installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml tests/cypher_lint/package-lock.json graphgnn/api/web/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	npm ci --silent --no-audit --no-fund --prefix tests/cypher_lint
	# The workbench's graph library, bundled into the package: no CDN at run time.
	npm ci --silent --no-audit --no-fund --prefix graphgnn/api/web
	mkdir -p graphgnn/api/static/vendor
	cp graphgnn/api/web/node_modules/cytoscape/dist/cytoscape.min.js graphgnn/api/static/vendor/
	touch $(STAMP)

demo: setup
	$(BIN)/fraudring demo

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check graph_build graphgnn tests experiments
	$(BIN)/pytest -q tests/test_cypher_lint.py

bench: setup
	$(BIN)/python experiments/bench_build.py

clean:
	-$(BIN)/fraudring db stop
	rm -rf $(VENV) tests/cypher_lint/node_modules graphgnn/api/web/node_modules graphgnn/api/static/vendor
