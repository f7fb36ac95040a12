import random

import numpy as np
import pytest
import torch

from linstruct.core.parameters import ParameterError
from linstruct.core.reproducibility import (
    choose_threads,
    interactive,
    retain_freed_memory,
    seed_everything,
    select_device,
    set_threads,
)


def test_seed_everything_repeats_all_generators():
    seed_everything(7)
    first = (random.random(), np.random.rand(), torch.rand(3))
    seed_everything(7)
    second = (random.random(), np.random.rand(), torch.rand(3))
    assert first[0] == second[0] and first[1] == second[1] and torch.equal(first[2], second[2])
    with pytest.raises(ValueError, match="non-negative"):
        seed_everything(-1)


def test_thread_policy_order(monkeypatch):
    for variable in ("LINSTRUCT_THREADS", "OMP_NUM_THREADS", "DASK_WORKER_NAME", "PYTEST_XDIST_WORKER"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr("linstruct.core.reproducibility.available_cores", lambda: 2)
    assert choose_threads() == 2
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert choose_threads() == 1  # beside sibling workers: one thread each
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert choose_threads() == 3
    monkeypatch.setenv("LINSTRUCT_THREADS", "4")
    assert choose_threads() == 4
    assert choose_threads(1) == 1  # an explicit request wins
    monkeypatch.setenv("LINSTRUCT_THREADS", "many")
    with pytest.raises(ValueError, match="LINSTRUCT_THREADS"):
        choose_threads()


def test_set_threads_applies_to_torch():
    before = torch.get_num_threads()
    try:
        assert set_threads(1) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_device_selection():
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ParameterError, match="parameter 'device' must be one of 'cpu', 'cuda', 'auto'"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="parameter 'device' is 'cuda' but torch sees no CUDA GPU"):
            select_device("cuda")


def test_interactive_setting(monkeypatch):
    monkeypatch.setenv("LINSTRUCT_INTERACTIVE", "0")
    assert interactive() is False
    monkeypatch.setenv("LINSTRUCT_INTERACTIVE", "1")
    assert interactive() is True


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="glibc's mallopt")
def test_allocator_policy_applies_on_glibc_and_can_be_repeated():
    assert retain_freed_memory() is True
    assert retain_freed_memory() is True
