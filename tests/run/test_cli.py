import subprocess
import sys
import time

import pytest
import torch

from linstruct.run.cli import main


def linstruct(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "linstruct.run.cli", *args], capture_output=True, text=True, timeout=timeout
    )


def test_list_shows_chapters_parameters_and_profile_values(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "toolkit: The toolkit in two minutes" in out
    assert "width" in out and "32 / 128 / 256" in out


def test_bad_parameter_fails_fast_naming_it(tmp_path):
    started = time.perf_counter()
    result = linstruct("run", "toolkit", "-p", "width", "banana", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "parameter 'width' must be an integer from 4 to 1024; got 'banana'" in result.stderr
    assert time.perf_counter() - started < 30
    assert not any(tmp_path.iterdir())  # nothing was executed


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_missing_gpu_fails_fast_naming_device(tmp_path):
    started = time.perf_counter()
    result = linstruct("run", "toolkit", "-p", "device", "cuda", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "parameter 'device' is 'cuda' but torch sees no CUDA GPU" in result.stderr
    assert time.perf_counter() - started < 30
    assert not any(tmp_path.iterdir())


def test_unknown_parameter_and_chapter(capsys):
    assert main(["run", "toolkit", "-p", "widht", "3"]) == 2
    assert "has no parameter 'widht'" in capsys.readouterr().err
    assert main(["run", "chapter-nine"]) == 2
    assert "the chapters are: toolkit" in capsys.readouterr().err
