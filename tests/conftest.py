"""Shared test set-up: batch execution (no progress bars, static widgets), one temporary
folder of generated data sets for the whole run, shared by its xdist workers, the chapters'
kernels and the book build (MNIST-1D is generated once per run), and the smoke book build
that the book tests share (their modules are in one xdist group, so it is built once)."""

import os
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ["LINSTRUCT_INTERACTIVE"] = "0"


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the main process; xdist workers inherit its environment
        config.linstruct_data = tempfile.mkdtemp(prefix="linstruct-test-data-")
        os.environ["LINSTRUCT_DATA"] = config.linstruct_data


def pytest_unconfigure(config):
    if hasattr(config, "linstruct_data"):
        shutil.rmtree(config.linstruct_data, ignore_errors=True)


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
    """Every test computes with one torch thread and a seeded global generator, as every process
    beside others must (the thread policy), so exactness tests compare like with like whatever the
    worker layout; a test that changes the count leaves it as it found it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)  # random test inputs are the same in every run, so a failure can be replayed
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def smoke_book(tmp_path_factory):
    """The whole book built in the smoke profile as `make book-clean` builds it (every notebook
    executed again into a fresh cache, then jupyter-book with warnings as errors): the finished
    jupyter-book process, the build's log messages, and the folders of the HTML and the runs."""
    from linstruct.run.book_cache import build_book

    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("smoke-book")
    messages = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LINSTRUCT_RUNS_DIR", str(out / "runs"))
        patch.delenv("LINSTRUCT_PROFILE", raising=False)
        patch.delenv("LINSTRUCT_REPOSITORY_URL", raising=False)
        result = build_book(root, out, "smoke", force=True, log=messages.append, capture_output=True, timeout=1200)
    return SimpleNamespace(result=result, messages=messages, html=out / "_build" / "html", runs=out / "runs")
