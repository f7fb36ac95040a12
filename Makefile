# Two commands do everything: `make book` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
# Batch execution: no progress bars, static widgets (outputs must not differ between runs).
export LINSTRUCT_INTERACTIVE := 0
# Byte-code written once, on first import, into one folder of .venv: where the environment sets
# PYTHONDONTWRITEBYTECODE=1, every process (each notebook kernel, test worker, papermill run)
# otherwise compiles torch, pandas and matplotlib again, seconds of CPU per process.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache

.PHONY: setup book book-clean test unit lint bench bench-build bench-engine bench-chapters lock clean

# --no-compile: Python compiles only the modules it imports, when first imported (pip would compile
# every file of every package: about 40 s of CPU of a 90 s set-up here).
setup: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile \
		-c requirements/constraints.txt -e ".[test]"
	touch $(STAMP)

# Execute the chapters (book profile, or $$LINSTRUCT_PROFILE) that are not in the execution
# cache, several at once, and build _build/html from the cache. The cache is kept per profile,
# package code and installed versions (_build/.jupyter_cache/<profile>-<hash>): prose edits
# execute nothing, a code cell edit executes its notebook, a package change executes everything.
book: setup
	$(BIN)/python -m linstruct.run.book_cache .

# The same, executing every chapter again whatever the cache holds.
book-clean: setup
	$(BIN)/python -m linstruct.run.book_cache . --force

# Unit tests, and the whole book built in the smoke profile (forced), each chapter then checked
# from that build (results.json, nbval re-execution), on one pytest-xdist worker per core.
# --dist loadfile keeps a test file on one worker (tests/test_book.py shares one build); loadgroup's
# xdist_group marks are silently ignored under pytest 9.2 (pytest-xdist issue 1386).
test: setup
	$(BIN)/python -m pytest -n auto --dist loadfile

# Unit tests only: the inner loop (about a minute).
unit: setup
	$(BIN)/python -m pytest -m "not notebook and not book" -n auto

# The linter and the formatter's check (also run by the tests).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench-build: setup
	$(BIN)/python benchmarks/bench_build.py

bench: setup
	$(BIN)/python benchmarks/bench_training.py

# Every chapter in the book profile, one at a time on one thread: time, seeds, verdicts, baselines.
bench-chapters: setup
	$(BIN)/python benchmarks/bench_chapters.py

bench-engine: setup
	$(BIN)/python benchmarks/bench_engine.py

# Refresh the pinned versions after changing pyproject.toml.
lock: setup
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^linstruct' | sed 's/+cpu$$//' > requirements/constraints.txt

clean:
	rm -rf _build runs sweeps
