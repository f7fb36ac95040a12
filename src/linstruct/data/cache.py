"""Generated data sets kept on disk, made once and reused by chapters, tests and sweeps.

Folder: ``$LINSTRUCT_DATA/generated`` when ``LINSTRUCT_DATA`` is set, else
``~/.cache/linstruct/generated`` (:func:`generated_dir`). One entry is one file
``<kind>-<key>.npz``: ``key`` is a hash of the generation arguments, so different
arguments never share a file. The file holds the arrays, the arguments and a sha256
checksum of the arrays' names, dtypes, shapes and bytes. It is written to a temporary
file in the same folder and renamed, so no reader ever sees half a file; a file that
cannot be read, was made from other arguments or fails its checksum is generated again
and replaced, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from linstruct.data.images import cache_dir

DATA_ENV = "LINSTRUCT_DATA"
_CHECKSUM = "__sha256__"
_ARGUMENTS = "__arguments__"
# What a damaged .npz raises on reading: a truncated zip, a bad header, a missing member.
_UNREADABLE = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)

Arrays = dict[str, np.ndarray]


def generated_dir() -> Path:
    """The folder of generated data sets (see the module docstring)."""
    root = os.environ.get(DATA_ENV)
    return Path(root) / "generated" if root else cache_dir("generated")


def entry_path(kind: str, arguments: Mapping[str, Any]) -> Path:
    """The file of data set ``kind`` generated with ``arguments`` (JSON-serialisable values)."""
    key = hashlib.sha256(_canonical(kind, arguments).encode()).hexdigest()[:16]
    return generated_dir() / f"{kind}-{key}.npz"


def cached_arrays(kind: str, arguments: Mapping[str, Any], generate: Callable[[], Arrays]) -> Arrays:
    """The arrays of data set ``kind`` made with ``arguments``: read from disk, or made by
    ``generate()`` and stored for next time.

    ``arguments`` must determine the result of ``generate`` (include the generator's
    version). A folder that cannot be written only costs the reuse.
    """
    path = entry_path(kind, arguments)
    arrays = read_entry(path, _canonical(kind, arguments))
    if arrays is None:
        arrays = generate()
        try:
            write_entry(path, arrays, _canonical(kind, arguments))
        except OSError:
            pass
    return arrays


def read_entry(path: Path, arguments: str) -> Arrays | None:
    """The arrays stored in ``path`` if it exists, is complete, was made from ``arguments``
    (canonical JSON) and matches its checksum; otherwise None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except _UNREADABLE:
        return None
    checksum = arrays.pop(_CHECKSUM, None)
    made_from = arrays.pop(_ARGUMENTS, None)
    if checksum is None or made_from is None or str(made_from) != arguments or str(checksum) != _checksum(arrays):
        return None
    return arrays


def write_entry(path: Path, arrays: Arrays, arguments: str) -> None:
    """Store ``arrays`` with ``arguments`` and their checksum in ``path``, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.stem}.", suffix=".part", delete=False) as out:
        partial = Path(out.name)
        try:
            np.savez(out, **arrays, **{_CHECKSUM: np.array(_checksum(arrays)), _ARGUMENTS: np.array(arguments)})
        except BaseException:
            out.close()
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, path)


def _canonical(kind: str, arguments: Mapping[str, Any]) -> str:
    """The kind and arguments as one canonical JSON string (sorted keys)."""
    return json.dumps({"kind": kind, **arguments}, sort_keys=True)


def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """sha256 over every array's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()
