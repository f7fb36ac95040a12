"""The worker side of a sweep: check the worker, execute one run in a scratch folder.

A task runs :func:`execute` on a Dask worker. Nothing is written where the sweep was
started: the run's files travel back to the client in the returned record (see
:mod:`linstruct.run.sweep`).
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from linstruct import __version__
from linstruct.core.parameters import ParameterError
from linstruct.studies import get_chapter

if TYPE_CHECKING:
    from linstruct.run.sweep import Run


def worker_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables a run needs: batch mode and ``LINSTRUCT_THREADS`` (default 1) threads,
    with ``OMP_NUM_THREADS`` following it unless set."""
    threads = environ.get("LINSTRUCT_THREADS", "1")
    return {
        "LINSTRUCT_THREADS": threads,
        "OMP_NUM_THREADS": environ.get("OMP_NUM_THREADS", threads),
        "LINSTRUCT_INTERACTIVE": "0",
    }


def fingerprint(chapter: str) -> dict:
    """What a worker must share with the client: the package version and the chapter
    notebook's SHA-256 (``None`` if this process cannot find the notebook)."""
    from linstruct.run.runner import notebook_path

    try:
        notebook = hashlib.sha256(notebook_path(get_chapter(chapter)).read_bytes()).hexdigest()
    except ParameterError:
        notebook = None
    return {"linstruct": __version__, "notebook": notebook}


def mismatch(found: dict, expected: dict, chapter: str) -> str:
    """Why a worker with ``found`` cannot run for a client with ``expected`` ("" if it can)."""
    where = f"worker {socket.gethostname()} (pid {os.getpid()})"
    if found["linstruct"] != expected["linstruct"]:
        return (
            f"{where} has linstruct {found['linstruct']} but the sweep was started with "
            f"{expected['linstruct']}; install the same version on every worker"
        )
    if found["notebook"] is None:
        return f"{where} has no notebook of chapter '{chapter}'; install linstruct editable from a clone of the book"
    if found["notebook"] != expected["notebook"]:
        return (
            f"{where} has a different notebook of chapter '{chapter}' than the machine that started "
            "the sweep; update its clone of the book"
        )
    return ""


def execute(run: Run, expected: dict) -> dict:
    """On a worker: check it matches the client, execute ``run`` in a scratch folder and
    return ``{"run_id", "status" ("finished", "failed", "incompatible"), "error", "files"}``,
    ``files`` mapping each file the run wrote (relative path) to its bytes."""
    record = {
        "run_id": run.run_id,
        "status": "incompatible",
        "files": {},
        "error": mismatch(fingerprint(run.chapter), expected, run.chapter),
    }
    if record["error"]:
        return record
    os.environ.update(worker_environment(os.environ))
    with tempfile.TemporaryDirectory(prefix=f"linstruct-{run.run_id}-") as scratch:
        folder = Path(scratch)
        record["error"] = _execute_into(run, folder)
        record["status"] = "failed" if record["error"] else "finished"
        record["files"] = {
            str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not (record["error"] and p.name == "results.json")
        }
    return record


def _execute_into(run: Run, folder: Path) -> str:
    """Execute ``run`` with papermill into ``folder``; return its error message, "" on success."""
    from papermill.exceptions import PapermillExecutionError

    from linstruct.run.runner import run_chapter

    spec = get_chapter(run.chapter)
    try:
        spec.resolve(**run.params)  # a value kept as text fails here, naming its parameter
        run_chapter(spec, run.params, folder, html=False)
        return ""
    except ParameterError as error:
        return str(error)
    except PapermillExecutionError as error:
        return f"cell {error.exec_count}: {error.ename}: {error.evalue}"
    except Exception as error:  # recorded, never fatal to the sweep
        return f"{type(error).__name__}: {error}"
