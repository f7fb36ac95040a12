"""``linstruct run``'s code path (papermill into a folder, an HTML copy, ``results.json``) on the
cheapest chapter in the smoke profile. Every chapter's own execution and re-execution is checked
from the smoke book build (``tests/test_book.py``)."""

import json

import pytest

from linstruct.core.claims import VERDICTS
from linstruct.run.runner import run_chapter
from linstruct.studies import CHAPTERS

pytestmark = pytest.mark.notebook


def test_run_writes_the_executed_notebook_its_html_and_results(tmp_path):
    spec = CHAPTERS["toolkit"]
    record = run_chapter(spec, {"profile": "smoke", "threads": 1, "seed": 3}, tmp_path)
    assert record == json.loads((tmp_path / "results.json").read_text())
    assert record["chapter"] == "toolkit" and record["profile"] == "smoke"
    assert record["parameters"]["threads"] == 1 and record["parameters"]["seed"] == 3
    assert all(claim["verdict"] in VERDICTS for claim in record["claims"])
    assert (tmp_path / "toolkit.ipynb").exists() and (tmp_path / "toolkit.html").stat().st_size > 10_000
