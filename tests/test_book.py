"""The whole book in the smoke profile, the way `make book-clean` builds it, and every chapter
checked from that one execution: each notebook executed (forced, into a fresh cache), then
jupyter-book with warnings as errors; each chapter's ``results.json`` read back; each executed
chapter re-executed by nbval, which must reproduce every compared output; and each chapter run
once more through ``linstruct run`` with two threads, whose verdicts must be the same.

A failing chapter, a missing glue key or a dead cross-reference fails the build test, and so
does a page that Sphinx would have to execute itself (its code not matching the cache). Every
test here shares the one build, so they all run in one pytest-xdist worker (``make test`` uses
``--dist loadfile``).
"""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from linstruct.core.claims import VERDICTS
from linstruct.core.parameters import PROFILE_ENV
from linstruct.run.book_cache import book_notebooks, build_book
from linstruct.studies import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).parent
pytestmark = pytest.mark.book


class SmokeBook:
    def __init__(self, folder: Path, result: subprocess.CompletedProcess, messages: list[str]):
        self.folder, self.result, self.messages = folder, result, messages
        self.html = folder / "_build" / "html"
        self.runs = folder / "runs"

    def executed(self, chapter: str, out: Path) -> Path:
        """The notebook of ``chapter`` as the build executed it (from its cache), written to ``out``."""
        from jupyter_cache import get_cache

        (folder,) = (self.folder / "_build" / ".jupyter_cache").glob("smoke-*")  # the build's one cache
        path, read = book_notebooks(ROOT)[CHAPTERS[chapter].notebook.removesuffix(".ipynb")]
        _, notebook = get_cache(folder).merge_match_into_notebook(read)
        target = out / path.name
        nbformat.write(notebook, target)
        return target


@pytest.fixture(scope="module")
def smoke_book(tmp_path_factory) -> SmokeBook:
    folder = tmp_path_factory.mktemp("smoke_book")
    messages = []
    previous = os.environ.get("LINSTRUCT_RUNS_DIR")
    os.environ["LINSTRUCT_RUNS_DIR"] = str(folder / "runs")
    try:
        result = build_book(ROOT, folder, "smoke", force=True, log=messages.append, capture_output=True, timeout=1200)
    finally:
        if previous is None:
            os.environ.pop("LINSTRUCT_RUNS_DIR")
        else:
            os.environ["LINSTRUCT_RUNS_DIR"] = previous
    return SmokeBook(folder, result, messages)


def test_book_builds_in_smoke_profile(smoke_book):
    result = smoke_book.result
    assert result.returncode == 0, (
        "\n".join(smoke_book.messages)[-3000:] + result.stdout[-6000:] + result.stderr[-3000:]
    )
    executable = book_notebooks(ROOT)
    assert sum("executed in" in m for m in smoke_book.messages) == len(executable) == 6
    assert result.stdout.count("Using cached notebook") == len(executable)
    assert "Executing notebook" not in result.stdout
    scorecard = (smoke_book.html / "book" / "scorecard.html").read_text()
    assert "probe_matches_network" in scorecard and "verdict" in scorecard
    chapter = (smoke_book.html / "notebooks" / "00_toolkit.html").read_text()
    assert "Fig. 1" in chapter or "Figure 1" in chapter


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_results_json(smoke_book, chapter):
    import json

    spec = CHAPTERS[chapter]
    record = json.loads((smoke_book.runs / spec.name / "results.json").read_text())
    assert record["chapter"] == spec.name and record["profile"] == "smoke"
    assert record["claims"], "a chapter must judge at least one claim"
    for claim in record["claims"]:
        assert {"id", "statement", "criterion", "measured", "verdict"} <= set(claim)
        assert claim["verdict"] in VERDICTS
    assert record["runtime_s"] > 0


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_second_execution_reproduces_outputs(smoke_book, chapter, tmp_path):
    notebook = smoke_book.executed(chapter, tmp_path)
    env = {**os.environ, PROFILE_ENV: "smoke", "LINSTRUCT_THREADS": "1", "LINSTRUCT_RUNS_DIR": str(tmp_path / "runs")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "--nbval-sanitize-with",
            str(TESTS / "nbval_sanitize.cfg"),
            "-q",
            "--rootdir",
            str(tmp_path),
            "-o",
            "addopts=",
            str(notebook),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_verdicts_do_not_depend_on_the_thread_count(smoke_book, chapter, tmp_path):
    """The chapter again through ``linstruct run``'s code path (papermill, an HTML copy,
    ``results.json``), now with two torch threads: every verdict as in the one-thread build."""
    import json

    from linstruct.run.runner import run_chapter

    spec = CHAPTERS[chapter]
    record = run_chapter(spec, {"profile": "smoke", "threads": 2}, tmp_path)
    assert record["parameters"]["threads"] == 2
    assert (tmp_path / f"{spec.name}.ipynb").exists() and (tmp_path / f"{spec.name}.html").stat().st_size > 10_000
    one_thread = json.loads((smoke_book.runs / spec.name / "results.json").read_text())
    assert {c["id"]: c["verdict"] for c in record["claims"]} == {c["id"]: c["verdict"] for c in one_thread["claims"]}
