# Two commands matter to a newcomer: `make chat` and `make test`. Both set up .venv on first use and
# re-install only when pyproject.toml changes, so the second run starts at once.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: chat test install run lint format check eval model diagram clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.11")'
	@$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	@echo "Installing the advisor into $(VENV) (first run only)..." >&2
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,redis]' >&2
	@touch $(STAMP)

chat: $(STAMP)  ## talk to the advisor in the terminal
	@$(PY) -m bot chat

install: $(STAMP)  ## just set up .venv

run: $(STAMP)  ## the Slack app (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN or SLACK_SIGNING_SECRET)
	@$(PY) -m bot serve

test: lint $(STAMP)  ## ruff, mypy and the whole pytest suite (starts Redis if it is down)
	@bash .ci/redis-up >/dev/null
	@$(PY) -m pytest

lint: $(STAMP)
	@$(PY) -m ruff check bot tests
	@$(PY) -m ruff format --check bot tests
	@$(PY) -m mypy

format: $(STAMP)
	@$(PY) -m ruff format bot tests
	@$(PY) -m ruff check --fix bot tests

check: $(STAMP)  ## validate knowledge/
	@$(PY) -m bot check

diagram: $(STAMP)  ## regenerate the dialog diagram in README.md from knowledge/dialog.yaml
	@$(PY) -m bot check --diagram README.md

eval: $(STAMP)  ## matcher accuracy on the labelled questions (the test split among them)
	@$(PY) -m bot eval tests/data/corpus/test.yaml tests/data/corpus/dev.yaml tests/data/questions_holdout.yaml

model: $(STAMP)  ## retrain the matcher from knowledge/ (after any edit there)
	@$(PY) -m bot train

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
