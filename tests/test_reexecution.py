"""Every chapter executed again, from the smoke book build of ``tests/test_book.py`` (the
``smoke_book`` fixture of conftest.py, built once per test run by whichever worker asks first):

* through ``linstruct run``'s code path (papermill, an HTML copy, ``results.json``) with two
  torch threads, whose verdicts must be those of the one-thread build. These come first in this
  file: they need the build only at their end, so on a second pytest-xdist worker they run while
  the first worker builds;
* the executed notebook re-executed by nbval, which must reproduce every compared output.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from linstruct.core.parameters import PROFILE_ENV
from linstruct.run.book_cache import book_notebooks
from linstruct.run.runner import run_chapter
from linstruct.studies import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).parent
pytestmark = pytest.mark.book


def executed_notebook(smoke_book, chapter: str, out: Path) -> Path:
    """The notebook of ``chapter`` as the smoke build executed it (from its cache), written to ``out``."""
    from jupyter_cache import get_cache

    (cache,) = (smoke_book.html.parents[1] / "_build" / ".jupyter_cache").glob("smoke-*")  # the build's one cache
    path, read = book_notebooks(ROOT)[CHAPTERS[chapter].notebook.removesuffix(".ipynb")]
    _, notebook = get_cache(cache).merge_match_into_notebook(read)
    target = out / path.name
    nbformat.write(notebook, target)
    return target


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_verdicts_do_not_depend_on_the_thread_count(chapter, tmp_path, request):
    """The chapter again through ``linstruct run``'s code path (papermill, an HTML copy,
    ``results.json``), now with two torch threads: every verdict as in the one-thread build."""
    spec = CHAPTERS[chapter]
    record = run_chapter(spec, {"profile": "smoke", "threads": 2}, tmp_path)
    assert record["parameters"]["threads"] == 2
    assert (tmp_path / f"{spec.name}.ipynb").exists() and (tmp_path / f"{spec.name}.html").stat().st_size > 10_000
    smoke_book = request.getfixturevalue("smoke_book")  # only now: the run above needed no build
    one_thread = json.loads((smoke_book.runs / spec.name / "results.json").read_text())
    assert {c["id"]: c["verdict"] for c in record["claims"]} == {c["id"]: c["verdict"] for c in one_thread["claims"]}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_second_execution_reproduces_outputs(smoke_book, chapter, tmp_path):
    notebook = executed_notebook(smoke_book, chapter, tmp_path)
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
