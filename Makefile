# Two commands are all the set-up there is: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench clean

$(BIN)/binderops: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "binderops needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/binderops
	$(BIN)/binderops run

test: $(BIN)/binderops
	@if command -v terraform >/dev/null; then \
		terraform fmt -check -recursive terraform && echo "terraform fmt: ok"; \
	elif [ "$$BINDEROPS_REQUIRE_TOOLS" = 1 ]; then \
		echo "terraform is not installed (BINDEROPS_REQUIRE_TOOLS=1)"; exit 1; \
	else \
		echo "skipping terraform fmt: terraform is not installed"; \
	fi
	$(BIN)/python -m pytest

bench: $(BIN)/binderops
	$(BIN)/python bench/backfill.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/costs.py
	$(BIN)/python bench/webhook.py

clean:
	rm -rf $(VENV) .binderops
