# The two commands of the README: `make run` (the whole platform, locally, no Docker) and
# `make test` (the whole suite against real RabbitMQ, SecantusDB and nanio). Both install what they need.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := libs/common libs/devstack services/intake services/evidence services/routing services/notification
STAMP := $(VENV)/.installed
SOURCES := $(foreach p,$(PACKAGES),$(p)/pyproject.toml) requirements/test.txt

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): $(SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(foreach p,$(PACKAGES),-e $(p)) -r requirements/test.txt
	touch $(STAMP)

run: install
	$(BIN)/python -m devstack.run

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench.submit_to_webhook
	$(BIN)/python -m bench.evidence_upload
	$(BIN)/python -m bench.scrubbing

clean:
	rm -rf $(VENV) .testdata .pytest_cache
