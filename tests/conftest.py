"""Shared test set-up: batch execution (no progress bars, static widgets), one temporary
folder of generated data sets for the whole run, shared by its xdist workers, the chapters'
kernels and the book build (MNIST-1D is generated once per run), and the smoke book build
that the book tests share: built once per run by whichever xdist worker asks first, under a
file lock in a folder all workers share, and read back by the others."""

import json
import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ["LINSTRUCT_INTERACTIVE"] = "0"


SHARED_ENV = "LINSTRUCT_TEST_SHARED"  # a folder every worker of one test run shares
SMOKE_BOOK_WAIT_S = 1800  # how long a worker waits for another worker's smoke build


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the main process; xdist workers inherit its environment
        config.linstruct_data = tempfile.mkdtemp(prefix="linstruct-test-data-")
        os.environ["LINSTRUCT_DATA"] = config.linstruct_data
        config.linstruct_shared = tempfile.mkdtemp(prefix="linstruct-test-shared-")
        os.environ[SHARED_ENV] = config.linstruct_shared


def pytest_unconfigure(config):
    for folder in ("linstruct_data", "linstruct_shared"):
        if hasattr(config, folder):
            shutil.rmtree(getattr(config, folder), ignore_errors=True)


def pytest_collection_modifyitems(items):
    """The book tests first (their order kept): with ``--dist loadfile`` their two files start at
    once on two workers, one building the smoke book while the other runs its two-thread
    executions, and the shorter files fill in behind them."""
    items.sort(key=lambda item: item.get_closest_marker("book") is None)


@pytest.fixture(autouse=True)
def _no_profile_from_environment(monkeypatch):
    """Tests choose their profile explicitly."""
    monkeypatch.delenv("LINSTRUCT_PROFILE", raising=False)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread_from_the_start():
    """One torch thread before any fixture trains: module-scoped fixtures are set up before the
    function-scoped one below, and two workers with torch's default threads each run many
    times slower on two cores (the thread policy)."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Every test computes with one torch thread, as every process beside others must (the thread
    policy), so exactness tests compare like with like whatever the worker layout; a test that
    changes the count leaves it as it found it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def smoke_book():
    """The whole book built in the smoke profile as `make book-clean` builds it (every notebook
    executed again into a fresh cache, then jupyter-book with warnings as errors): the finished
    jupyter-book process (returncode, stdout, stderr), the build's log messages, and the folders
    of the HTML and the runs. Built once per test run (see the module docstring)."""
    from filelock import FileLock

    from linstruct.run.book_cache import build_book

    root = Path(__file__).resolve().parents[1]
    out = Path(os.environ[SHARED_ENV]) / "smoke-book"
    out.mkdir(exist_ok=True)
    record = out / "build.json"
    with FileLock(out / "build.lock", timeout=SMOKE_BOOK_WAIT_S):
        if not record.exists():
            messages = []
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("LINSTRUCT_RUNS_DIR", str(out / "runs"))
                patch.delenv("LINSTRUCT_PROFILE", raising=False)
                patch.delenv("LINSTRUCT_REPOSITORY_URL", raising=False)
                result = build_book(
                    root, out, "smoke", force=True, log=messages.append, capture_output=True, timeout=1200
                )
            finished = {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
            record.write_text(json.dumps({"result": finished, "messages": messages}))
    built = json.loads(record.read_text())
    return SimpleNamespace(
        result=SimpleNamespace(**built["result"]),
        messages=built["messages"],
        html=out / "_build" / "html",
        runs=out / "runs",
    )
