"""The whole book, built in the smoke profile with warnings as errors: a failing chapter,
a missing glue key or a dead cross-reference fails this test."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.book


def test_book_builds_in_smoke_profile(tmp_path):
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book) if jupyter_book.exists() else shutil.which("jupyter-book"),
               "build", str(ROOT), "--all", "-W", "-n", "--keep-going", "--path-output", str(tmp_path)]
    env = {**os.environ, "LINSTRUCT_PROFILE": "smoke", "LINSTRUCT_THREADS": "1",
           "LINSTRUCT_RUNS_DIR": str(tmp_path / "runs"), "LINSTRUCT_INTERACTIVE": "0"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    html = tmp_path / "_build" / "html"
    scorecard = (html / "book" / "scorecard.html").read_text()
    assert "probe_matches_network" in scorecard and "verdict" in scorecard
    chapter = (html / "notebooks" / "00_toolkit.html").read_text()
    assert "Fig. 1" in chapter or "Figure 1" in chapter
    assert (tmp_path / "runs" / "toolkit" / "results.json").exists()
