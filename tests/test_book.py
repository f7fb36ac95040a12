"""The whole book in the smoke profile, the way `make book-clean` builds it (the ``smoke_book``
fixture of conftest.py), and every chapter checked from that one execution: each notebook
executed (forced, into a fresh cache), then jupyter-book with warnings as errors; each chapter's
``results.json`` read back; each executed chapter re-executed by nbval, which must reproduce
every compared output; each chapter run once more through ``linstruct run`` with two threads,
whose verdicts must be the same; and the built pages as a reader without a network sees them:
every page opened in headless Chromium with the network cut off (linstruct.run.page_check)
typesets its maths and sends no request off the machine, no page links to the placeholder
repository, every chapter shows its settings and HTML result tables.

A failing chapter, a missing glue key or a dead cross-reference fails the build test, and so
does a page that Sphinx would have to execute itself (its code not matching the cache). Every
test here shares the one build, so they live in one file: ``make test`` (``--dist loadfile``)
runs a file in one pytest-xdist worker.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from linstruct.core.claims import VERDICTS
from linstruct.core.parameters import PROFILE_ENV
from linstruct.run.book_cache import book_notebooks
from linstruct.run.page_check import book_pages, check_pages, find_chromium, report_lines
from linstruct.run.runner import run_chapter
from linstruct.studies import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).parent
pytestmark = pytest.mark.book
PLACEHOLDER = "github.com/linstruct/linstruct"  # the address _config.yml once had; it does not exist
NOTEBOOKS = [Path(spec.notebook).stem for spec in CHAPTERS.values()]


def executed_notebook(smoke_book, chapter: str, out: Path) -> Path:
    """The notebook of ``chapter`` as the smoke build executed it (from its cache), written to ``out``."""
    from jupyter_cache import get_cache

    (cache,) = (smoke_book.html.parents[1] / "_build" / ".jupyter_cache").glob("smoke-*")  # the build's one cache
    path, read = book_notebooks(ROOT)[CHAPTERS[chapter].notebook.removesuffix(".ipynb")]
    _, notebook = get_cache(cache).merge_match_into_notebook(read)
    target = out / path.name
    nbformat.write(notebook, target)
    return target


@pytest.fixture(scope="module")
def html(smoke_book):
    assert smoke_book.result.returncode == 0, smoke_book.result.stdout[-3000:]
    return smoke_book.html


def test_book_builds_in_smoke_profile(smoke_book):
    result, messages = smoke_book.result, smoke_book.messages
    assert result.returncode == 0, "\n".join(messages)[-3000:] + result.stdout[-6000:] + result.stderr[-3000:]
    executable = book_notebooks(ROOT)
    assert sum("executed in" in m for m in messages) == len(executable) == 6
    assert result.stdout.count("Using cached notebook") == len(executable)
    assert "Executing notebook" not in result.stdout
    scorecard = (smoke_book.html / "book" / "scorecard.html").read_text()
    assert "probe_matches_network" in scorecard and "verdict" in scorecard
    chapter = (smoke_book.html / "notebooks" / "00_toolkit.html").read_text()
    assert "Fig. 1" in chapter or "Figure 1" in chapter


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_results_json(smoke_book, chapter):
    spec = CHAPTERS[chapter]
    record = json.loads((smoke_book.runs / spec.name / "results.json").read_text())
    assert record["chapter"] == spec.name and record["profile"] == "smoke"
    assert record["claims"], "a chapter must judge at least one claim"
    for claim in record["claims"]:
        assert {"id", "statement", "criterion", "measured", "verdict", "effect", "interval", "seeds"} <= set(claim)
        assert claim["verdict"] in VERDICTS
    assert all({"name", "dataset", "accuracy", "target", "reference"} == set(b) for b in record["baselines"])
    assert record["runtime_s"] > 0


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


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_verdicts_do_not_depend_on_the_thread_count(smoke_book, chapter, tmp_path):
    """The chapter again through ``linstruct run``'s code path (papermill, an HTML copy,
    ``results.json``), now with two torch threads: every verdict as in the one-thread build."""
    spec = CHAPTERS[chapter]
    record = run_chapter(spec, {"profile": "smoke", "threads": 2}, tmp_path)
    assert record["parameters"]["threads"] == 2
    assert (tmp_path / f"{spec.name}.ipynb").exists() and (tmp_path / f"{spec.name}.html").stat().st_size > 10_000
    one_thread = json.loads((smoke_book.runs / spec.name / "results.json").read_text())
    assert {c["id"]: c["verdict"] for c in record["claims"]} == {c["id"]: c["verdict"] for c in one_thread["claims"]}


@pytest.mark.skipif(find_chromium() is None, reason="needs the Debian package chromium (.ci/run installs it)")
def test_every_page_typesets_its_maths_offline_and_stays_on_the_machine(html):
    reports = check_pages(html)
    assert len(reports) == len(book_pages(html)) >= 10
    assert not [r for r in reports if r.problems()], "\n".join(report_lines(reports))
    maths = {r.page: r.maths for r in reports}
    for chapter in NOTEBOOKS[1:]:  # chapters 1 to 4 write maths; the check must have seen it
        assert maths[f"notebooks/{chapter}.html"] >= 5, maths


def test_pages_load_scripts_fonts_and_styles_from_the_build(html):
    mathjax = html / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file()
    assert len(list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))) >= 20
    for page in book_pages(html):
        text = page.read_text(encoding="utf8")
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', text)
        assert remote == [], f"{page.name} loads {remote}"
    assert 'src="../_static/mathjax/tex-chtml.js' in (html / "notebooks" / "01_half_space_features.html").read_text()


def test_no_page_links_to_the_placeholder_repository_or_launches_without_one(html):
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf8")
        assert PLACEHOLDER not in text, page
        assert "mybinder.org" not in text and "colab.research.google.com" not in text, page
        assert "repository-button" not in text and "issues" not in re.findall(r'href="([^"]*)"', text), page


def test_chapters_show_their_settings_and_html_result_tables(html):
    for chapter in NOTEBOOKS:
        text = (html / "notebooks" / f"{chapter}.html").read_text(encoding="utf8")
        assert "<caption>Settings of this run: profile smoke, every value resolved</caption>" in text, chapter
        assert text.count('<table class="linstruct-table">') >= 2, chapter  # settings and results
        assert re.search(r'class="[^"]*tag_parameters[^"]*tag_hide-input', text), chapter  # folded
