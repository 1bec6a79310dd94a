# The two commands of the README: `make run` (the whole platform, locally, no Docker) and
# `make test` (the checkers, then the whole suite against real RabbitMQ, SecantusDB and nanio). Both install what
# they need, from the lock of the whole dependency tree (uv.lock; `make lock` regenerates it).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
PACKAGES := libs/common libs/devstack services/intake services/evidence services/routing services/notification
STAMP := $(VENV)/.installed
SOURCES := pyproject.toml uv.lock requirements/uv.txt $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
# uv uses the interpreter of .venv (never one it downloads) and copies files out of its cache, which may lie on
# another file system.
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

# The browser tests drive Debian's Chromium (never a browser Playwright downloads) with axe-core from npm;
# CJK fonts make the screenshots readable.
CHROMIUM := /usr/bin/chromium
CJK_FONT := fonts-wqy-microhei
WEB_TESTS := tests/web
AXE_STAMP := $(WEB_TESTS)/node_modules/.installed

.PHONY: install lock lock-upgrade lint format run test bench clean browser broker client

install: $(STAMP)

# Every package (editable) and every dependency group at the versions of uv.lock; --locked fails rather than
# resolve anew when a pyproject.toml no longer matches the lock (run `make lock`). --inexact leaves what a
# developer added by hand (and pip) in place.
$(STAMP): $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/uv.txt
	$(UV) sync --locked --inexact --all-packages --all-extras --all-groups
	touch $(STAMP)

# `make lock` brings uv.lock in line with the pyproject files, keeping every locked version they still allow;
# `make lock-upgrade` resolves the whole tree anew (the newest versions their bounds allow).
lock lock-upgrade:
	test -x $(UV) || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); $(BIN)/python -m pip install --quiet -r requirements/uv.txt; }
	$(UV) lock $(if $(filter lock-upgrade,$@),--upgrade)

# The gate CI runs before the tests: lint, format, types, declared dependencies. Every checker runs, so one
# run shows all there is to fix; it fails if any found something.
lint: install
	@status=0; \
	echo "ruff check"; $(BIN)/ruff check . || status=1; \
	echo "ruff format --check"; $(BIN)/ruff format --check . || status=1; \
	echo "mypy"; $(BIN)/mypy || status=1; \
	for p in $(PACKAGES); do echo "deptry $$p"; (cd $$p && $(CURDIR)/$(BIN)/deptry src) || status=1; done; \
	exit $$status

# Rewrites what the checkers can fix by themselves.
format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The typed Python client of the company API (clients/python/company-client), generated anew from intake's OpenAPI.
client: install
	$(BIN)/python clients/python/generate.py

run: install broker
	$(BIN)/python -m devstack.run

test: lint broker browser $(AXE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Chromium (and a CJK font for the screenshots) from Debian's packages when missing, as root (as CI runs here).
browser:
	@missing=""; [ -x $(CHROMIUM) ] || missing="chromium"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing $(CJK_FONT)"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing$$missing for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif [ ! -x $(CHROMIUM) ]; then \
	    echo "The browser tests need Debian's chromium at $(CHROMIUM): run 'apt-get install chromium' as root" >&2; exit 1; \
	  else \
	    echo "warning: no CJK font, the screenshots will show boxes for Chinese text (apt-get install $(CJK_FONT))" >&2; \
	  fi; \
	fi

# RabbitMQ from Debian's packages when missing, as root (as CI runs here); devstack starts the installed server
# (rabbitmq-server -detached) when nothing answers. A broker elsewhere (AMQP_URL naming another host) needs nothing here.
RABBITMQ_SERVER := /usr/sbin/rabbitmq-server

broker:
	@case "$${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/}" in \
	  *@127.0.0.1:*|*@127.0.0.1/*|*@localhost:*|*@localhost/*) ;; \
	  *) exit 0 ;; \
	esac; \
	if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x $(RABBITMQ_SERVER) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing rabbitmq-server for the broker"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null; \
	  else \
	    echo "RabbitMQ must answer at 127.0.0.1:5672: run 'apt-get install rabbitmq-server' as root (Debian's package), or set AMQP_URL to a running broker" >&2; exit 1; \
	  fi; \
	fi

$(AXE_STAMP): $(WEB_TESTS)/package.json $(WEB_TESTS)/package-lock.json
	@command -v npm >/dev/null || { echo "The browser tests need npm (Node.js) to install axe-core" >&2; exit 1; }
	npm ci --prefix $(WEB_TESTS) --no-audit --no-fund --loglevel=error
	touch $(AXE_STAMP)

bench: install
	$(BIN)/python -m bench.submit_to_webhook
	$(BIN)/python -m bench.evidence_upload
	$(BIN)/python -m bench.scrubbing
	$(BIN)/python -m bench.public_scale
	$(BIN)/python -m bench.public_reads
	$(BIN)/python -m bench.backup_restore
	$(BIN)/python -m bench.erasure

clean:
	rm -rf $(VENV) .testdata .pytest_cache $(WEB_TESTS)/node_modules
