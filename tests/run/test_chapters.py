"""Every chapter, executed in the smoke profile through ``linstruct run``'s code path,
then re-executed by nbval, which must reproduce every compared output."""

import subprocess
import sys
from pathlib import Path

import pytest

from linstruct.core.claims import VERDICTS
from linstruct.run.runner import run_chapter
from linstruct.studies import CHAPTERS

TESTS = Path(__file__).parents[1]
pytestmark = pytest.mark.notebook


# Under pytest-xdist (``--dist loadgroup``) both tests of a chapter run in one worker, which
# executes the chapter once.
@pytest.fixture(scope="module", params=[pytest.param(name, marks=pytest.mark.xdist_group(name)) for name in CHAPTERS])
def executed(request, tmp_path_factory):
    spec = CHAPTERS[request.param]
    out = tmp_path_factory.mktemp(spec.name)
    record = run_chapter(spec, {"profile": "smoke", "threads": 1}, out)
    return spec, out, record


def test_results_json(executed):
    spec, out, record = executed
    assert record["chapter"] == spec.name and record["profile"] == "smoke"
    assert record["parameters"]["threads"] == 1
    assert record["claims"], "a chapter must judge at least one claim"
    for claim in record["claims"]:
        assert {"id", "statement", "criterion", "measured", "verdict"} <= set(claim)
        assert claim["verdict"] in VERDICTS
    assert record["runtime_s"] > 0
    assert (out / f"{spec.name}.ipynb").exists() and (out / f"{spec.name}.html").stat().st_size > 10_000


def test_second_execution_reproduces_outputs(executed):
    spec, out, _ = executed
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
            str(out),
            "-o",
            "addopts=",
            str(out / f"{spec.name}.ipynb"),
        ],
        capture_output=True,
        text=True,
        cwd=out,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
