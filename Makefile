# One task runner: CI calls these targets unchanged.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CONFIG ?= config/talentwatch.toml

.PHONY: run once test lint typecheck bench eval clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed          ## the daemon, on the default config, until Ctrl-C
	$(PY) main.py run --config $(CONFIG)

once: $(VENV)/.installed         ## one cycle: poll, classify, alert, deliver
	$(PY) main.py once --config $(CONFIG)

test: $(VENV)/.installed         ## the whole suite
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

eval: $(VENV)/.installed         ## scores on the development set, then on the articles written apart from it
	$(PY) main.py classify --input ../shared/eval/dev.jsonl --output /tmp/talentwatch-dev.jsonl
	$(PY) ../shared/eval/score.py ../shared/eval/dev.jsonl /tmp/talentwatch-dev.jsonl
	$(PY) main.py classify --input tests/data/classify/written.jsonl --output /tmp/talentwatch-written.jsonl
	$(PY) ../shared/eval/score.py --orgs ../shared/eval/orgs.toml --orgs tests/data/classify/written-orgs.toml \
		tests/data/classify/written.jsonl /tmp/talentwatch-written.jsonl

bench: $(VENV)/.installed        ## speed and memory figures (not a test)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
