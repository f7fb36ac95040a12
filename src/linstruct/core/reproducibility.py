"""Seeding, the CPU thread and allocator policies and device selection.

Thread policy. On a 2-core machine one training process is fastest with one torch
thread per core, but two processes that each use every core fight over them (their
OpenMP threads measured 300x slower here). :func:`choose_threads` therefore decides
deliberately: an explicit request wins, then ``LINSTRUCT_THREADS``, then
``OMP_NUM_THREADS``, then one thread whenever the process runs beside others (a Dask
worker, a pytest-xdist worker), otherwise one thread per available core.

Allocator policy. Every training step frees and reallocates the same few-megabyte
activations; glibc by default hands such blocks back to the operating system on free,
so every step pays fresh page faults. :func:`retain_freed_memory` keeps them for reuse
(10 stacked copies of chapter 3's CNN: 12.8 ms a step before, 10.7 ms after).
"""

from __future__ import annotations

import ctypes
import os
import random
import sys

import numpy as np
import torch

DEVICES = ("cpu", "cuda", "auto")
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
RETAINED_BYTES = 1 << 30  # freed memory kept for reuse before any is returned to the system
MMAP_BYTES = 1 << 25  # blocks served from the reusable heap (glibc's largest allowed threshold)
INTERACTIVE_ENV = "LINSTRUCT_INTERACTIVE"


def interactive() -> bool:
    """Whether a person is watching: progress bars and live widgets only then.

    ``LINSTRUCT_INTERACTIVE=0`` (set by the book build, the tests, ``linstruct run``
    and ``linstruct sweep``) means batch execution, ``=1`` forces interactive;
    otherwise a Jupyter kernel or a terminal counts as interactive.
    """
    setting = os.environ.get(INTERACTIVE_ENV, "").strip()
    if setting in ("0", "1"):
        return setting == "1"
    return "ipykernel" in sys.modules or sys.stderr.isatty()


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def runs_beside_others() -> bool:
    """True inside a process that shares the machine with sibling workers."""
    return bool(os.environ.get("DASK_WORKER_NAME") or os.environ.get("PYTEST_XDIST_WORKER"))


def choose_threads(requested: int | None = None) -> int:
    """The number of torch CPU threads this process should use (see the module docstring)."""
    if requested is not None:
        if requested < 1:
            raise ValueError(f"threads must be at least 1, got {requested}")
        return requested
    for variable in ("LINSTRUCT_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                return max(1, int(value))
            except ValueError:
                raise ValueError(f"{variable} must be a positive integer, got {value!r}") from None
    if runs_beside_others():
        return 1
    return available_cores()


def retain_freed_memory() -> bool:
    """Apply the allocator policy (see the module docstring); False where the C library is not glibc."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return False
    return bool(mallopt(M_TRIM_THRESHOLD, RETAINED_BYTES)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_BYTES))


def set_threads(requested: int | None = None) -> int:
    """Apply :func:`choose_threads` to torch and return the count now in force."""
    threads = choose_threads(requested)
    torch.set_num_threads(threads)
    return threads


def select_device(name: str = "cpu") -> torch.device:
    """``"cpu"``, ``"cuda"`` (an error naming the ``device`` parameter if torch sees no GPU) or
    ``"auto"`` (CUDA when available)."""
    from linstruct.core.parameters import ParameterError

    if name not in DEVICES:
        raise ParameterError(f"parameter 'device' must be one of {', '.join(map(repr, DEVICES))}; got {name!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ParameterError(
            "parameter 'device' is 'cuda' but torch sees no CUDA GPU on this machine; "
            "use 'cpu', or 'auto' to take a GPU only when there is one"
        )
    return torch.device(name)
