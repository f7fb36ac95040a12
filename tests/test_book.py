"""The whole book, built in the smoke profile the way `make book-clean` builds it (the
``smoke_book`` fixture of conftest.py): every notebook executed again (forced, into a fresh
cache), then jupyter-book with warnings as errors. A failing chapter, a missing glue key or a
dead cross-reference fails this test, and so does a page that Sphinx would have to execute
itself (its code not matching the cache)."""

from pathlib import Path

import pytest

from linstruct.run.book_cache import book_notebooks

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.book, pytest.mark.xdist_group("smoke-book")]


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
    assert (smoke_book.runs / "toolkit" / "results.json").exists()
