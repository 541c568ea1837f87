# The commands people type.  `make report` and `make test` set everything up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PROJECT ?= .
JOBS   ?= 2

.PHONY: report test lint typecheck bench ingest status clean browser pdflibs help

help:
	@echo "make report     run the main job on the example project (findings chapters in outputs/)"
	@echo "make test       run the whole test suite (installs test dependencies and Chromium if missing)"
	@echo "make lint       ruff;  make typecheck: mypy;  make bench: benchmarks, results into docs/"

$(VENV)/.base: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip>=24"
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[test]"
	touch $@

ingest: $(VENV)/.base
	$(BIN)/qualkit ingest --project $(PROJECT)

status: $(VENV)/.base
	$(BIN)/qualkit status --project $(PROJECT)

report: $(VENV)/.base pdflibs
	$(BIN)/qualkit report --project $(PROJECT) --jobs $(JOBS)

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Chromium is missing: sudo apt-get install chromium (needed by the JupyterLab browser test)"; exit 1; fi; }

test: $(VENV)/.test browser pdflibs
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# bericht.pdf is printed by WeasyPrint, which needs Debian's pango (and harfbuzz-subset for small fonts)
pdflibs:
	@{ ldconfig -p | grep -q libpango-1.0 && ldconfig -p | grep -q libharfbuzz-subset; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; \
	  else echo "pango is missing: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core (needed for bericht.pdf)"; exit 1; fi; }

lint: $(VENV)/.test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

typecheck: $(VENV)/.test
	$(BIN)/mypy

bench: $(VENV)/.test
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .qualkit outputs/run-* .pytest_cache
