"""Fixtures of the data tests: fake dataset files written to a temporary folder."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest


def write_cifar10_batches(folder: Path, n_per_batch: int = 4, seed: int = 0) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Write a fake cifar-10-batches-py/ under ``folder``: (data (n, 3072) uint8, labels) per batch name."""
    rng = np.random.default_rng(seed)
    batches_dir = folder / "cifar-10-batches-py"
    batches_dir.mkdir(parents=True)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n_per_batch).tolist()
        with (batches_dir / name).open("wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": name.encode()}, f)
        written[name] = (data, labels)
    return written


@pytest.fixture
def cifar10_batches():
    """:func:`write_cifar10_batches`, for tests that build fake CIFAR-10 folders."""
    return write_cifar10_batches
