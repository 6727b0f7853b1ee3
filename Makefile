# The only set-up a new machine needs: `make run` serves the app, `make test` runs the suite.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# KEEP_TEST_CLUSTERS=1 leaves the run's throwaway clusters running for debugging (the next run
# removes them); otherwise the suite stops everything it started and the check below proves it.
KEEP_TEST_CLUSTERS ?=
# pytest, then the check that the run left no cluster or process behind (fails loudly if it did).
define run_suite
	@status=0; $(BIN)/pytest $(1) $(if $(KEEP_TEST_CLUSTERS),--keep-test-clusters) $(PYTEST_ARGS) \
	  || status=$$?; \
	if [ -z "$(KEEP_TEST_CLUSTERS)" ]; then $(BIN)/python -m tests.hygiene check || status=1; fi; \
	exit $$status
endef

.PHONY: help run test lint bench system venv web clean pgrouting faults load

help:
	@echo "make run    install what is missing, start the managed PostGIS, load the demo, serve :8000"
	@echo "make test   the same set-up, then the whole test suite against a throwaway PostGIS"
	@echo "make lint   ruff and mypy"
	@echo "make bench  benchmarks (each prints one JSON line)"
	@echo "make faults database outage under load, importer fuzz"
	@echo "make load   30 s load mix (tiles/items/edits) against a throwaway service"

# System packages from Debian, installed only when missing (root, or the command is printed).
system:
	@missing=""; \
	ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || missing="$$missing postgresql-15 postgresql-15-postgis-3"; \
	command -v ogrinfo >/dev/null 2>&1 || missing="$$missing gdal-bin"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium fonts-noto-cjk"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing="$$missing fonts-noto-cjk"; \
	/sbin/ldconfig -p | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx-light"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 || missing="$$missing qgis python3-qgis"; \
	$(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing system packages; run: sudo apt-get install -y$$missing"; exit 1; fi; \
	  echo "installing$$missing"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BIN)/gis-service: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: system $(BIN)/gis-service

# The web maps' browser assets, pinned in gis_service/web/package-lock.json (served by the app).
WEB := gis_service/web
$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json | system
	npm ci --prefix $(WEB) --no-audit --no-fund
	touch $@

web: $(WEB)/node_modules/.package-lock.json

run: venv web
	$(BIN)/gis-service serve

lint: venv
	$(BIN)/ruff check gis_service tests benchmarks
	$(BIN)/mypy gis_service

test: venv web lint
	$(call run_suite,-q -n 2)

# pgRouting is only needed by one benchmark: installed here, not by `make system`.
pgrouting:
	@ls /usr/share/postgresql/*/extension/pgrouting.control >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" != 0 ]; then echo "pgRouting missing; run: sudo apt-get install -y postgresql-15-pgrouting"; exit 1; fi; \
	  echo "installing postgresql-15-pgrouting"; apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15-pgrouting; }

# every script of benchmarks/ but the helpers they share
BENCHMARKS = $(sort $(filter-out benchmarks/common.py benchmarks/http_load.py,$(wildcard benchmarks/*.py)))

bench: venv pgrouting
	@set -e; for script in $(BENCHMARKS); do echo "== $$script" >&2; $(BIN)/python $$script; done

faults: venv
	$(call run_suite,-q -m faults tests)

load: venv
	$(BIN)/python benchmarks/load.py

clean:
	-$(BIN)/gis-service db stop
	rm -rf $(VENV) .make
