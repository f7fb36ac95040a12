"""Readers and writers for the on-disk formats of MNIST-style and CIFAR-10 data, and a safe downloader."""

from __future__ import annotations

import gzip
import http.client
import math
import os
import pickle
import shutil
import struct
import tarfile
import tempfile
import urllib.request
from pathlib import Path, PurePosixPath

import numpy as np

from linstruct.data.base import DatasetUnavailable

GZIP_MAGIC = b"\x1f\x8b"
IDX_UBYTE = 0x08
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"


def read_idx(path: str | Path) -> np.ndarray:
    """The uint8 array stored in an IDX file (the MNIST format), shaped by its header.

    Gzip compression is recognised by its magic bytes, whatever the file name.
    Raises ValueError for a file that is not IDX, not unsigned bytes, or truncated.
    """
    path = Path(path)
    with path.open("rb") as f:
        compressed = f.read(2) == GZIP_MAGIC
    with gzip.open(path, "rb") if compressed else path.open("rb") as f:
        data = bytearray(f.read())
    if len(data) < 4 or data[:2] != b"\0\0":
        raise ValueError(f"{path}: not an IDX file (the magic number must start with two zero bytes)")
    if data[2] != IDX_UBYTE:
        raise ValueError(f"{path}: IDX type code 0x{data[2]:02x}; only unsigned bytes (0x08) are supported")
    ndim = data[3]
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise ValueError(f"{path}: IDX header truncated")
    shape = struct.unpack(f">{ndim}I", data[4:offset])
    if len(data) - offset != math.prod(shape):
        raise ValueError(f"{path}: IDX shape {shape} needs {math.prod(shape)} data bytes, found {len(data) - offset}")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(shape)


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file, gzip-compressed if ``path`` ends in .gz."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"write_idx stores uint8 arrays only, got {array.dtype}")
    header = struct.pack(">BBBB", 0, 0, IDX_UBYTE, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path = Path(path)
    with gzip.open(path, "wb") if path.suffix == ".gz" else path.open("wb") as f:
        f.write(header + np.ascontiguousarray(array).tobytes())


def find_cifar10_batches(folder: str | Path) -> Path | None:
    """The folder holding the CIFAR-10 python batches: ``folder`` itself or its
    ``cifar-10-batches-py`` subfolder, whichever has all six files; None if neither."""
    folder = Path(folder)
    names = (*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH)
    for candidate in (folder, folder / CIFAR10_FOLDER):
        if all((candidate / name).is_file() for name in names):
            return candidate
    return None


def read_cifar10(folder: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test) from the CIFAR-10 python batches in ``folder``
    (or its ``cifar-10-batches-py`` subfolder).

    Images (N, 3, 32, 32) uint8, labels (N,) int64; N = 50000 and 10000 for the
    real data. The batches are pickles: read only files you trust.
    """
    batches = find_cifar10_batches(folder)
    if batches is None:
        raise FileNotFoundError(
            f"no CIFAR-10 batches ({', '.join(CIFAR10_TRAIN_BATCHES)}, {CIFAR10_TEST_BATCH}) "
            f"in {folder} or {Path(folder) / CIFAR10_FOLDER}"
        )
    train = [_read_cifar10_batch(batches / name) for name in CIFAR10_TRAIN_BATCHES]
    x_test, y_test = _read_cifar10_batch(batches / CIFAR10_TEST_BATCH)
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test


def _read_cifar10_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of one pickled CIFAR-10 batch."""
    with path.open("rb") as f:
        batch = pickle.load(f, encoding="bytes")
    images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if len(images) != len(labels):
        raise ValueError(f"{path}: {len(images)} images but {len(labels)} labels")
    return images, labels


def extract_tar(archive: str | Path, dest: str | Path) -> None:
    """Extract the regular files and folders of a tar archive into ``dest``.

    Links, devices, absolute names and names that would land outside ``dest``
    are skipped.
    """
    dest = Path(dest).resolve()
    with tarfile.open(archive) as tar:
        safe = [member for member in tar.getmembers() if _is_safe_member(member, dest)]
        # tarfile's own "data" filter (Python >= 3.12, backported) checks again.
        options = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(dest, members=safe, **options)


def _is_safe_member(member: tarfile.TarInfo, dest: Path) -> bool:
    """Whether ``member`` is a plain file or folder that extracts inside ``dest``."""
    if not (member.isfile() or member.isdir()) or PurePosixPath(member.name).is_absolute():
        return False
    return (dest / member.name).resolve().is_relative_to(dest)


def download(url: str, dest: str | Path, timeout: float = 15) -> Path:
    """Fetch ``url`` into ``dest`` and return ``dest``.

    The data go to a temporary file in the same folder, renamed to ``dest`` once
    complete, so ``dest`` never holds a partial file. Any network or HTTP error,
    or no answer within ``timeout`` seconds, raises DatasetUnavailable.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial: Path | None = None
    try:
        with (
            urllib.request.urlopen(url, timeout=timeout) as response,
            tempfile.NamedTemporaryFile(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False) as out,
        ):
            partial = Path(out.name)
            shutil.copyfileobj(response, out)
        os.replace(partial, dest)
    except (OSError, http.client.HTTPException) as err:
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise DatasetUnavailable(
            f"could not download {url} to {dest} ({err})",
            "Check the network connection, or fetch the file by other means and put it there.",
        ) from err
    return dest
