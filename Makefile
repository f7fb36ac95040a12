# Two commands do everything: `make book` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
# Batch execution: no progress bars, static widgets (outputs must not differ between runs).
export LINSTRUCT_INTERACTIVE := 0

.PHONY: setup book test bench lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-c requirements/constraints.txt -e ".[test]"
	touch $(STAMP)

# Execute every chapter with its default (book) parameters and build _build/html.
book: setup
	$(BIN)/jupyter-book build . --all -W -n --keep-going

# Unit tests, every chapter in the smoke profile (papermill + nbval), and the
# whole book built in the smoke profile.
test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/bench_training.py

# Refresh the pinned versions after changing pyproject.toml.
lock: setup
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^linstruct' | sed 's/+cpu$$//' > requirements/constraints.txt

clean:
	rm -rf _build runs sweeps
