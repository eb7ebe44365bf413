# Two commands are all the set-up there is: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

$(BIN)/binderops: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/binderops
	$(BIN)/binderops run

test: $(BIN)/binderops
	terraform fmt -check -recursive terraform
	$(BIN)/python -m pytest

bench: $(BIN)/binderops
	$(BIN)/python bench/backfill.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .binderops
