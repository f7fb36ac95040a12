"""Parameter sweeps over a chapter on a Dask cluster, resumable run by run.

A sweep is a grid of parameter values times a list of seeds. Each run executes the
chapter notebook with papermill (as ``linstruct run`` does). The sweep's output folder
exists only where the sweep was started: a worker executes its run in a scratch folder
of its own and returns the run's files (``results.json``, the executed notebook) to the
client, which writes them into ``OUT/runs/<run_id>/`` (a hash of chapter, parameters and
package version) atomically: the folder is built under a hidden name beside it and
renamed into place, so a folder under its run id is always complete. A folder that holds
a ``results.json`` is finished and skipped, so an interrupted sweep resumes where it
stopped. A run that fails (a bad parameter, an error in a cell) gets an ``error.json``
with its message and does not stop the others.

A run whose worker dies is rescheduled by Dask; after ``allowed-failures + 1`` worker
deaths (Dask's ``distributed.scheduler.allowed-failures``, 3 by default: 4 tries) the
run is recorded as failed with a message that says so. Every task first checks that its
worker runs the client's ``linstruct`` version and chapter notebook; a worker that does
not stops the sweep at once.

Runs go to a ``distributed.LocalCluster`` (one process per worker, one task at a time)
or to any running Dask scheduler given by address, so SLURM or Kubernetes clusters
started with dask-jobqueue or dask-kubernetes work without code changes. Each run uses
``LINSTRUCT_THREADS`` torch threads (default 1).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from linstruct import __version__
from linstruct.core.parameters import ChapterSpec, ParameterError
from linstruct.run.sweep_worker import execute, fingerprint, worker_environment
from linstruct.studies import get_chapter

CONNECT_TIMEOUT_S = 5


class SweepError(RuntimeError):
    """A sweep that cannot start or go on: bad grid, unreachable scheduler, mismatched worker."""


@dataclass(frozen=True)
class Run:
    """One point of a sweep: a chapter and its parameters (as given, seed and profile included)."""

    chapter: str
    parameters: tuple[tuple[str, object], ...]

    @property
    def params(self) -> dict:
        return dict(self.parameters)

    @property
    def run_id(self) -> str:
        """12 hex digits of a hash of chapter, parameters and package version."""
        key = json.dumps(
            {"chapter": self.chapter, "parameters": self.params, "version": __version__}, sort_keys=True, default=str
        )
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    @property
    def key(self) -> str:
        """The run's Dask task key."""
        return f"run-{self.run_id}"


def parse_seeds(text: str) -> list[int]:
    """``"0-9"``, ``"0,3,5"`` or ``"4"`` -> a sorted list of distinct seeds."""
    seeds: set[int] = set()
    try:
        for part in text.split(","):
            low, _, high = part.strip().partition("-")
            seeds.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise SweepError(f"--seeds must look like 0-9 or 0,3,5; got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise SweepError(f"--seeds must name at least one non-negative seed; got {text!r}")
    return sorted(seeds)


def parse_grid(spec: ChapterSpec, pairs: Sequence[tuple[str, str]]) -> dict[str, list]:
    """``[("width", "16,32")]`` -> ``{"width": [16, 32]}``, typed by the chapter's parameters.

    An unknown name is an error for the whole sweep; a value that does not parse is
    kept as text, so that its run fails with the parameter's message while the
    others go on.
    """
    grid = {}
    for name, values in pairs:
        if name in ("seed", "output_dir"):
            raise SweepError(f"sweep the seed with --seeds; output_dir is set per run (got -p {name})")
        param = spec.param(name)
        grid[name] = [_parse_or_keep(param, v.strip(), spec.name) for v in values.split(",")]
    return grid


def _parse_or_keep(param, text: str, chapter: str):
    try:
        return param.parse(text, chapter)
    except ParameterError:
        return text


def plan(chapter: str, grid: dict[str, list], seeds: Iterable[int], profile: str | None = None) -> list[Run]:
    """Every combination of ``grid`` values for every seed, in a deterministic order."""
    spec = get_chapter(chapter)
    names = list(grid)
    runs = []
    for values in itertools.product(*(grid[n] for n in names)):
        for seed in seeds:
            params = dict(zip(names, values)) | {"seed": seed}
            if profile is not None:
                params["profile"] = profile
            runs.append(Run(spec.name, tuple(sorted(params.items()))))
    return runs


def run_folder(out: Path, run: Run) -> Path:
    return out / "runs" / run.run_id


def is_finished(folder: Path) -> bool:
    """A run is finished when its folder holds a readable ``results.json``."""
    try:
        json.loads((folder / "results.json").read_text())
        return True
    except (OSError, ValueError):
        return False


def write_run(out: Path, run: Run, files: Mapping[str, bytes], error: str) -> Path:
    """Write the run's folder (``files``, ``params.json``, ``error.json`` if ``error``)
    atomically: built under a hidden name beside it, then renamed into place."""
    folder = run_folder(out, run)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{run.run_id}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    contents = dict(files) | {
        "params.json": json.dumps({"chapter": run.chapter, **run.params}, indent=2, default=str).encode()
    }
    if error:
        contents["error.json"] = json.dumps({"error": error}, indent=2).encode()
    for name, data in contents.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes(data)
    if folder.exists():  # an unfinished attempt: move it aside, never delete it in place
        folder.rename(staging.with_name(staging.name + "-old"))
    staging.rename(folder)
    shutil.rmtree(staging.with_name(staging.name + "-old"), ignore_errors=True)
    return folder


def collect(future, run: Run, out: Path) -> dict:
    """Write the outcome of ``run``'s future into ``out``; return its status record.

    A run whose workers all died is recorded as failed; a worker that cannot run
    the task at all (no or another linstruct) raises :class:`SweepError`.
    """
    from distributed import KilledWorker

    try:
        record = future.result()
    except KilledWorker as error:
        record = {
            "status": "failed",
            "files": {},
            "error": f"its worker died each of the {error.allowed_failures + 1} times it ran (killed, or out "
            f"of memory?); Dask's distributed.scheduler.allowed-failures = {error.allowed_failures} "
            f"lets a run survive {error.allowed_failures} worker deaths",
        }
    except Exception as error:
        raise SweepError(
            f"a worker could not run {run.key}: {type(error).__name__}: {error}; every worker needs "
            f"linstruct {__version__} installed editable from a clone of the book"
        ) from None
    if record["status"] == "incompatible":
        raise SweepError(record["error"])
    write_run(out, run, record["files"], record["error"])
    return {"run_id": run.run_id, "status": record["status"], "error": record["error"]}


def connect(scheduler: str | None, workers: int):
    """A Dask client: to ``scheduler`` if given (error within seconds if unreachable),
    else to a new LocalCluster of ``workers`` processes running one task at a time."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as error:
            raise SweepError(
                f"could not reach the Dask scheduler at {scheduler!r} within "
                f"{CONNECT_TIMEOUT_S} s ({type(error).__name__}); is it running?"
            ) from None
    if workers < 1:
        raise SweepError(f"--workers must be at least 1, got {workers}")
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        env=worker_environment(os.environ),
    )
    return Client(cluster)


def disconnect(client) -> None:
    """Close ``client`` and the local cluster it started, if any."""
    cluster = client.cluster
    client.close()
    if cluster is not None:
        cluster.close()


def run_sweep(
    runs: Sequence[Run], out: Path, *, scheduler: str | None = None, workers: int = 2, progress: bool = True
) -> list[dict]:
    """Execute every unfinished run; return one status record per run (all of ``runs``).

    Finished runs are skipped (status ``"skipped"``). The progress bar shows runs
    done, running and failed.
    """
    out.mkdir(parents=True, exist_ok=True)
    for debris in (out / "runs").glob(".*"):  # folders of a client killed while writing them
        shutil.rmtree(debris, ignore_errors=True)
    statuses = {
        r.run_id: {"run_id": r.run_id, "status": "skipped", "error": ""}
        for r in runs
        if is_finished(run_folder(out, r))
    }
    todo = [r for r in runs if r.run_id not in statuses]
    if todo:
        from distributed import as_completed
        from tqdm.auto import tqdm

        client = connect(scheduler, workers)
        try:
            slots = sum(client.nthreads().values()) or 1
            expected = {chapter: fingerprint(chapter) for chapter in {r.chapter for r in todo}}
            futures = {client.submit(execute, r, expected[r.chapter], pure=False, key=r.key): r for r in todo}
            bar = tqdm(total=len(todo), desc=f"{runs[0].chapter} sweep", unit="run", disable=not progress)
            failed = 0
            for future in as_completed(futures):
                status = collect(future, futures[future], out)
                statuses[status["run_id"]] = status
                failed += status["status"] == "failed"
                bar.update()
                bar.set_postfix(running=min(slots, len(todo) - bar.n), failed=failed)
            bar.close()
        finally:
            disconnect(client)
    return [statuses[r.run_id] for r in runs]
