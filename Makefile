# CD3P: two commands.
#   make run    install what is missing, start the services, load the Detroit demo data, serve the portal
#   make test   the same set-up against separate test databases, then the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
VAR ?= var
export CD3P_VAR := $(abspath $(VAR))
export CD3P_VENV := $(abspath $(VENV))
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# pytest arguments, e.g. `make test PYTEST_ARGS="tests/catalog/test_search.py -k facets"`
PYTEST_ARGS ?= tests
# Parallel test processes (pytest-xdist; the slowest tests first), each on an environment of its own
# (scripts/portal.sh test-gwN: databases, Solr core, Redis database, worker, web server).
# TEST_WORKERS=0 runs the suite in one process on the `test` environment.
TEST_WORKERS ?= 2
export CD3P_TEST_WORKERS := $(TEST_WORKERS)
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist worksteal)
TEST_ENVS := $(foreach i,$(shell seq 0 $$(($(TEST_WORKERS) - 1))),test-gw$(i))

# The indicator benchmark's generated city (benchmarks/gen_city.py), served by the `bench`
# environment of scripts/portal.sh on port 5002; results are kept in $(BENCH_OUT).
BENCH_TRACTS ?= 5000
BENCH_REPEAT ?= 30
BENCH_CITY ?= $(VAR)/bench-city
BENCH_OUT ?= $(VAR)/bench
# The impact benchmark (benchmarks/bench_impact.py): requests per measurement, and a bound on its run.
BENCH_IMPACT_REPEAT ?= 20
BENCH_IMPACT_TIMEOUT ?= 1800
# The catalog at scale (benchmarks/bench_scale.py): 10,000 generated datasets in CD3P (environment
# `scale`) and in plain CKAN with ckanext-scheming (`plain`); calls per measurement, and a bound on
# the whole run (the first run also generates both catalogs, about half an hour on this machine).
BENCH_SCALE_REPEAT ?= 50
BENCH_SCALE_TIMEOUT ?= 3600
export CD3P_BENCH_DATA_DIR := $(abspath $(BENCH_CITY))

.PHONY: help run test install i18n services stop status lint bench bench-indicators bench-impact bench-query \
        bench-scale bench-scale-cores bench-http

help:
	@echo "make run     start everything and serve the portal on http://127.0.0.1:5000"
	@echo "make test    set up the test environment and run the whole suite"
	@echo "make stop    stop every process the project started"
	@echo "make status  show what is running"
	@echo "make bench   benchmarks (DataStore load vs raw COPY; the agreement gate and a logged-in page vs CKAN alone;"
	@echo "             Spanish and Arabic pages vs English, the DCAT-US catalog vs the search it wraps;"
	@echo "             indicators on the demo data and on a generated city of $(BENCH_TRACTS) tracts;"
	@echo "             programme impact over 1,000,000 outcome rows against one SQL GROUP BY)"
	@echo "make bench-indicators   only the indicator part of make bench"
	@echo "make bench-impact       only the programme-impact part of make bench"
	@echo "make bench-query        only the analysis part of make bench (a query over 1,000,000 rows vs SQL)"
	@echo "make bench-scale        only the catalog at scale: 10,000 datasets in 100 organizations, CD3P vs plain"
	@echo "                        CKAN (search, show, write, index rebuild; SQL statements per call)"
	@echo "make bench-http         only the load run: 20 visitors for 120 s, CD3P (10,000 datasets) vs plain CKAN,"
	@echo "                        each on uWSGI as docker/ serves it (req/s, p50/p95/p99 per endpoint, errors)"
	@echo "make lint    ruff"
	@echo "make i18n    extract the messages again and merge them into the Spanish and Arabic catalogs"

# Virtualenv with the pinned stack; reinstalled only when a requirements file or setup.py changes.
$(STAMP): requirements.txt requirements-dev.txt setup.py
	@command -v $(PYTHON) >/dev/null || { echo "ERROR: $(PYTHON) not found (install Python 3.11)"; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	@[ -n "$$(command -v pg_config)" ] || scripts/services.sh packages
	$(BIN)/pip install -q --upgrade pip==25.1.1 setuptools==80.9.0 wheel==0.45.1
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

# Our translations (Spanish, Arabic): the .po files are committed, their compiled .mo files are not.
I18N := ckanext-cd3p/ckanext/cd3p/i18n
PO := $(wildcard $(I18N)/*/LC_MESSAGES/ckanext-cd3p.po)
MO := $(PO:.po=.mo)

%.mo: %.po $(STAMP)
	$(BIN)/python -W ignore -m babel.messages.frontend -q compile -D ckanext-cd3p -i $< -o $@

install: $(STAMP) $(MO)

# After changing what people read: extract every message again and merge it into each catalog
# (then translate what `make test` reports as missing; tests/common/test_i18n.py).
i18n: $(STAMP)
	$(BIN)/python setup.py -q extract_messages
	$(BIN)/python setup.py -q update_catalog
	@$(MAKE) --no-print-directory $(MO)

services: install
	scripts/services.sh up

run: services
	scripts/portal.sh setup development
	scripts/portal.sh restart development
	$(BIN)/ckan -c $(VAR)/etc/development.ini cd3p demo load
	@scripts/portal.sh welcome

test: services
	scripts/portal.sh setup test $(TEST_ENVS)
	scripts/portal.sh restart test $(TEST_ENVS)
	$(BIN)/python -m pytest --ckan-ini=$(VAR)/etc/test.ini $(XDIST) --durations=10 $(PYTEST_ARGS)

stop:
	-scripts/portal.sh stop
	-scripts/services.sh down

status:
	-scripts/services.sh status
	-scripts/portal.sh status

# Upload-to-DataStore time against raw COPY of the same files, on the development portal; the
# agreement gate; then the indicator benchmark. (bench-scale-cores first: see bench-scale.)
bench: bench-scale-cores services
	scripts/portal.sh setup development
	scripts/portal.sh start development
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_gate.py
	$(BIN)/python benchmarks/bench_pages.py
	$(BIN)/ckan -c $(VAR)/etc/development.ini cd3p demo load
	$(BIN)/python benchmarks/bench_catalog.py --json $(BENCH_OUT)/catalog-development.json
	@$(MAKE) --no-print-directory bench-indicators
	@$(MAKE) --no-print-directory bench-impact
	@$(MAKE) --no-print-directory bench-query
	@$(MAKE) --no-print-directory bench-scale
	@$(MAKE) --no-print-directory bench-http

# The indicator API and pages on the development portal (demo data), then on a generated city of
# $(BENCH_TRACTS) tracts: generated once into $(BENCH_CITY), loaded into the bench environment's own
# databases, measured on port 5002; the bench web server and worker are stopped again at the end
# (its databases stay, so the next run only checks them). Both tables are printed side by side.
bench-indicators: services
	scripts/portal.sh setup development
	scripts/portal.sh start development
	$(BIN)/ckan -c $(VAR)/etc/development.ini cd3p demo load
	$(BIN)/python benchmarks/bench_indicators.py --env development --repeat $(BENCH_REPEAT) \
	    --json $(BENCH_OUT)/indicators-development.json
	$(BIN)/python benchmarks/gen_city.py $(BENCH_CITY) --tracts $(BENCH_TRACTS)
	TIMEFORMAT='bench: setup (databases, migrations, sysadmin) took %0R s'; time scripts/portal.sh setup bench
	TIMEFORMAT='bench: demo load of the generated city took %0R s'; \
	scripts/portal.sh start bench \
	    && time $(BIN)/ckan -c $(VAR)/etc/bench.ini cd3p demo load \
	    && $(BIN)/python benchmarks/bench_indicators.py --env bench --repeat $(BENCH_REPEAT) \
	        --json $(BENCH_OUT)/indicators-bench.json; \
	rc=$$?; scripts/portal.sh stop bench; exit $$rc
	@echo
	@$(BIN)/python benchmarks/bench_indicators.py \
	    --report $(BENCH_OUT)/indicators-development.json $(BENCH_OUT)/indicators-bench.json

# Programme impact (issue 15) on the generated city of bench-indicators: 100 generated programmes
# (Action API) and 1,000,000 outcome rows (COPY into cd3p_outcome), made once in the bench
# environment's database; then cd3p_impact_show cold and warm against one SQL GROUP BY over the same
# rows, and /impact against /dataset. The bench web server is restarted first (it serves the work
# tree's code) and stopped with its worker at the end; the run is bounded by BENCH_IMPACT_TIMEOUT s.
bench-impact: services
	$(BIN)/python benchmarks/gen_city.py $(BENCH_CITY) --tracts $(BENCH_TRACTS)
	scripts/portal.sh setup bench
	scripts/portal.sh restart bench \
	    && $(BIN)/ckan -c $(VAR)/etc/bench.ini cd3p demo load \
	    && timeout $(BENCH_IMPACT_TIMEOUT) $(BIN)/python benchmarks/bench_impact.py --tracts $(BENCH_TRACTS) \
	        --repeat $(BENCH_IMPACT_REPEAT) --json $(BENCH_OUT)/impact-bench.json; \
	rc=$$?; scripts/portal.sh stop bench; exit $$rc

# The analysis workspace (issue 17): a group-by-tract over a 1,000,000-row DataStore table through
# cd3p_query_run against the same GROUP BY in SQL, in the bench environment (the table is made once).
bench-query: services
	scripts/portal.sh setup bench
	scripts/portal.sh restart bench \
	    && timeout $(BENCH_IMPACT_TIMEOUT) $(BIN)/python benchmarks/bench_query.py \
	        --repeat $(BENCH_IMPACT_REPEAT) --json $(BENCH_OUT)/query-bench.json; \
	rc=$$?; scripts/portal.sh stop bench; exit $$rc

# The catalog at scale (issue 20): a generated catalog of 10,000 datasets in 100 organizations, made
# once in the `scale` (CD3P) and `plain` (CKAN with ckanext-scheming alone) environments and only
# checked on later runs (benchmarks/gen_catalog.py); then, in one process per site, in process (no web
# server or worker is started), package_search, package_show and package_patch as anonymous, a
# member and a sysadmin, and a full search-index rebuild of each; ours/plain against the issue's
# targets, SQL statements per call; the table is printed and kept in $(BENCH_OUT)/scale.json.
# bench-scale-cores adds the two Solr cores to a Solr already running without them (core admin API):
# scripts/solr.sh start would otherwise restart Solr, under whatever tests use it.
bench-scale-cores: install
	$(BIN)/python benchmarks/bench_scale.py cores

bench-scale: bench-scale-cores services
	scripts/portal.sh setup scale plain
	timeout $(BENCH_SCALE_TIMEOUT) $(BIN)/python benchmarks/bench_scale.py --repeat $(BENCH_SCALE_REPEAT) \
	    --json $(BENCH_OUT)/scale.json

# The portal under load (issue 20): the `scale` environment (CD3P: the 10,000 generated datasets of
# bench-scale, and the Detroit demo data for the equity pages) and the `plain` one (the same catalog in
# CKAN with ckanext-scheming alone), each served as production serves it (uWSGI, the image's 2
# processes: config/uwsgi/cd3p.ini); Locust (its own virtualenv, $(LOCUST_VENV)) runs BENCH_HTTP_USERS
# visitors for BENCH_HTTP_SECONDS against each in turn, from this machine to 127.0.0.1 only. Requests
# per second, p50/p95/p99 per endpoint and the errors are printed and kept in $(BENCH_OUT)/http.json;
# the web servers and workers are stopped at the end.
BENCH_HTTP_USERS ?= 20
BENCH_HTTP_SECONDS ?= 120
LOCUST_VENV ?= $(VAR)/locust

$(LOCUST_VENV)/.installed: benchmarks/requirements-locust.txt
	@[ -x $(LOCUST_VENV)/bin/python ] || $(PYTHON) -m venv $(LOCUST_VENV)
	$(LOCUST_VENV)/bin/pip install -q -r benchmarks/requirements-locust.txt
	@touch $@

bench-http: bench-scale-cores services $(LOCUST_VENV)/.installed
	scripts/portal.sh setup scale plain
	$(BIN)/python benchmarks/bench_scale.py generate
	scripts/portal.sh restart scale \
	    && scripts/portal.sh restart plain \
	    && $(BIN)/ckan -c $(VAR)/etc/scale.ini cd3p demo load \
	    && timeout $$(( 2 * $(BENCH_HTTP_SECONDS) + 600 )) $(BIN)/python benchmarks/bench_http.py \
	        --target cd3p=http://127.0.0.1:5003 --target plain=http://127.0.0.1:5004 \
	        --users $(BENCH_HTTP_USERS) --seconds $(BENCH_HTTP_SECONDS) --locust $(LOCUST_VENV)/bin/locust \
	        --json $(BENCH_OUT)/http.json; \
	rc=$$?; scripts/portal.sh stop scale; scripts/portal.sh stop plain; exit $$rc

lint: install
	$(BIN)/ruff check ckanext-cd3p tests benchmarks docker
	$(BIN)/ruff format --check ckanext-cd3p tests benchmarks docker
