# Two commands are all the set-up there is: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# checkov pins dozens of packages of its own: it gets a venv of its own, beside ours.
CHECKOV := .venv-checkov/bin/checkov
CHECKOV_VERSION := 3.3.30

.PHONY: run test bench clean lock checkov

$(BIN)/binderops: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "binderops needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(CHECKOV): Makefile
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

# The static scan of terraform/: every skipped check is justified in place (#checkov:skip=ID: why).
# Offline: no guideline download (--skip-download, BC_SKIP_MAPPING), no update check. The
# suite runs this target and holds it to no connection beyond the loopback.
checkov: $(CHECKOV)
	BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE \
		$(CHECKOV) --directory terraform --framework terraform --quiet --compact --skip-download

run: $(BIN)/binderops
	$(BIN)/binderops run

# checkov runs inside the suite (tests/test_terraform.py), where its network use is checked.
test: $(BIN)/binderops $(CHECKOV)
	@if command -v terraform >/dev/null; then \
		terraform fmt -check -recursive terraform && echo "terraform fmt: ok"; \
	elif [ "$$BINDEROPS_REQUIRE_TOOLS" = 1 ]; then \
		echo "terraform is not installed (BINDEROPS_REQUIRE_TOOLS=1)"; exit 1; \
	else \
		echo "skipping terraform fmt: terraform is not installed"; \
	fi
	$(BIN)/ruff format --check --quiet . && $(BIN)/ruff check --quiet . && echo "ruff: ok"
	$(BIN)/python -m pytest

bench: $(BIN)/binderops
	$(BIN)/python bench/archive.py
	$(BIN)/python bench/parquet_months.py
	$(BIN)/python bench/backfill.py
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/costs.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/probes.py

# The deployed functions' dependencies, every transitive one pinned with its hashes. Run after
# changing the `functions` extra in pyproject.toml; `make test` fails until the lock agrees.
lock: $(BIN)/binderops
	$(BIN)/uv pip compile pyproject.toml --extra functions --generate-hashes --quiet \
		--python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
		--custom-compile-command "make lock" -o functions/requirements.txt

clean:
	rm -rf $(VENV) .venv-checkov .binderops
