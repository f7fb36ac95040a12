"""Parameter sweeps over a chapter on a Dask cluster, resumable run by run.

A sweep is a grid of parameter values times a list of seeds. Each run executes the
chapter notebook with papermill (as ``linstruct run`` does) in its own folder named by
a hash of chapter, parameters and package version; a folder that already holds a
``results.json`` is finished and skipped, so an interrupted sweep resumes where it
stopped. A run that fails (a bad parameter, an error in a cell) writes ``error.json``
with its message and does not stop the others.

Runs go to a ``distributed.LocalCluster`` (one process per worker, one thread each)
or to any running Dask scheduler given by address, so SLURM or Kubernetes clusters
started with dask-jobqueue or dask-kubernetes work without code changes.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from linstruct import __version__
from linstruct.studies import get_chapter
from linstruct.core.parameters import ChapterSpec, ParameterError

WORKER_ENV = {"LINSTRUCT_THREADS": "1", "OMP_NUM_THREADS": "1", "LINSTRUCT_INTERACTIVE": "0"}
CONNECT_TIMEOUT_S = 5


class SweepError(RuntimeError):
    """A sweep that cannot start: bad grid, unreachable scheduler."""


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
        key = json.dumps({"chapter": self.chapter, "parameters": self.params, "version": __version__},
                         sort_keys=True, default=str)
        return hashlib.sha256(key.encode()).hexdigest()[:12]


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
    """A run is finished when its notebook wrote a readable ``results.json``."""
    try:
        json.loads((folder / "results.json").read_text())
        return True
    except (OSError, ValueError):
        return False


def execute(run: Run, folder: str) -> dict:
    """Execute one run into ``folder`` (on a worker); return ``{"run_id", "status", "error"}``."""
    for name, value in WORKER_ENV.items():
        os.environ.setdefault(name, value)
    from papermill.exceptions import PapermillExecutionError

    from linstruct.run.runner import run_chapter

    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    (path / "params.json").write_text(json.dumps({"chapter": run.chapter, **run.params}, indent=2, default=str))
    (path / "error.json").unlink(missing_ok=True)
    spec = get_chapter(run.chapter)
    try:
        spec.resolve(**run.params)  # a value kept as text fails here, naming its parameter
        run_chapter(spec, run.params, path, html=False)
        return {"run_id": run.run_id, "status": "finished", "error": ""}
    except ParameterError as error:
        message = str(error)
    except PapermillExecutionError as error:
        message = f"cell {error.exec_count}: {error.ename}: {error.evalue}"
    except Exception as error:  # recorded, never fatal to the sweep
        message = f"{type(error).__name__}: {error}"
    (path / "error.json").write_text(json.dumps({"error": message}, indent=2))
    return {"run_id": run.run_id, "status": "failed", "error": message}


def connect(scheduler: str | None, workers: int):
    """A Dask client: to ``scheduler`` if given (error within seconds if unreachable),
    else to a new LocalCluster of ``workers`` single-threaded processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as error:
            raise SweepError(f"could not reach the Dask scheduler at {scheduler!r} within "
                             f"{CONNECT_TIMEOUT_S} s ({type(error).__name__}); is it running?") from None
    if workers < 1:
        raise SweepError(f"--workers must be at least 1, got {workers}")
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR, env=dict(WORKER_ENV))
    return Client(cluster)


def run_sweep(runs: Sequence[Run], out: Path, *, scheduler: str | None = None, workers: int = 2,
              progress: bool = True) -> list[dict]:
    """Execute every unfinished run; return one status record per run (all of ``runs``).

    Finished runs are skipped (status ``"skipped"``). The progress bar shows runs
    done, running and failed.
    """
    out.mkdir(parents=True, exist_ok=True)
    statuses = {r.run_id: {"run_id": r.run_id, "status": "skipped", "error": ""} for r in runs
                if is_finished(run_folder(out, r))}
    todo = [r for r in runs if r.run_id not in statuses]
    if todo:
        from distributed import as_completed
        from tqdm.auto import tqdm

        client = connect(scheduler, workers)
        try:
            slots = sum(client.nthreads().values()) or 1
            futures = [client.submit(execute, r, str(run_folder(out, r)), pure=False, key=f"run-{r.run_id}")
                       for r in todo]
            bar = tqdm(total=len(todo), desc=f"{runs[0].chapter} sweep", unit="run", disable=not progress)
            failed = 0
            for future in as_completed(futures):
                status = future.result()
                statuses[status["run_id"]] = status
                failed += status["status"] == "failed"
                bar.update()
                bar.set_postfix(running=min(slots, len(todo) - bar.n), failed=failed)
            bar.close()
        finally:
            cluster = client.cluster
            client.close()
            if cluster is not None:
                cluster.close()
    return [statuses[r.run_id] for r in runs]
