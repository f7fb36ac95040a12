"""A sweep on a Dask cluster started by hand, as a cluster user would: a ``dask scheduler``
and two ``dask worker`` processes, each in its own folder with its own ``HOME`` and
``TMPDIR``, none of them told where the sweep's output folder is (it is created after
they started). One worker is killed with SIGKILL while it holds a run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import matplotlib
import pytest
from distributed import Client

from linstruct.run.sweep import plan, run_folder, run_sweep

pytestmark = pytest.mark.notebook  # its runs execute chapter notebooks: not in `make unit`

BIN = Path(sys.executable).parent
GRID = {"width": [16, 32], "epochs": [1], "n_seeds": [1]}  # two runs, the smoke profile made cheaper still
KILL_AFTER_S = 3  # how long the victim holds its run before it is killed
DEADLINE_S = 110  # for the whole cluster sweep, kill and rescheduling included


def start(command: list, folder: Path) -> subprocess.Popen:
    """Start ``command`` in ``folder`` with its own HOME and TMPDIR, in a process group of its own."""
    for sub in ("home", "tmp"):
        (folder / sub).mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("LINSTRUCT_THREADS", "OMP_NUM_THREADS")}
    env |= {
        "HOME": str(folder / "home"),
        "TMPDIR": str(folder / "tmp"),
        "MPLCONFIGDIR": matplotlib.get_configdir(),
    }  # its font cache: saves seconds per process
    with open(folder / "log.txt", "w") as log:
        return subprocess.Popen(
            [str(c) for c in command], cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process group, SIGKILL what is left after 10 s."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for process in processes:
            try:
                os.killpg(process.pid, signum)
            except ProcessLookupError:
                pass
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def wait_for(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} within {timeout_s} s"
        time.sleep(0.2)
    return value


@pytest.fixture
def cluster(tmp_path):
    """The scheduler's address and the workers' folders; every process is stopped at the end."""
    processes = []
    try:
        processes.append(
            start(
                [
                    BIN / "dask",
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    "scheduler.json",
                ],
                tmp_path / "scheduler",
            )
        )
        scheduler_file = tmp_path / "scheduler" / "scheduler.json"
        address = wait_for(
            lambda: scheduler_file.exists() and json.loads(scheduler_file.read_text())["address"],
            30,
            "the scheduler wrote no address",
        )
        workers = [tmp_path / "worker-a", tmp_path / "worker-b"]
        for folder in workers:
            processes.append(
                start(
                    [
                        BIN / "dask",
                        "worker",
                        address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--death-timeout",
                        "30",
                        "--name",
                        folder.name,
                    ],
                    folder,
                )
            )
        with Client(address, timeout="10s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address, workers
    finally:
        stop(processes)


def kill_a_worker_holding_a_run(observer: Client) -> tuple[str, tuple, float]:
    """SIGKILL the process of the first worker seen holding a run for KILL_AFTER_S; return
    its address, the runs it held and the seconds until its nanny had a new worker registered."""
    address, keys = wait_for(
        lambda: next(((w, k) for w, k in observer.processing().items() if k), None), 60, "no worker took a run"
    )
    time.sleep(KILL_AFTER_S)
    pid = observer.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(
        lambda: address not in (workers := observer.scheduler_info()["workers"]) and len(workers) == 2,
        60,
        "the killed worker was not replaced",
    )
    return address, tuple(keys), time.monotonic() - killed


def comparable(results: dict) -> dict:
    """``results.json`` without what may differ between two executions of one run."""
    parameters = {k: v for k, v in results["parameters"].items() if k != "output_dir"}
    return {k: v for k, v in results.items() if k != "runtime_s"} | {"parameters": parameters}


def test_sweep_on_a_hand_started_cluster_survives_a_killed_worker(cluster, tmp_path):
    address, workers = cluster
    out = tmp_path / "sweep"
    runs = plan("toolkit", GRID, [0], "smoke")
    grid_args = [arg for name, values in GRID.items() for arg in ("-p", name, ",".join(map(str, values)))]
    command = [
        sys.executable,
        "-m",
        "linstruct.run.cli",
        "sweep",
        "toolkit",
        *grid_args,
        "--seeds",
        "0",
        "--profile",
        "smoke",
        "--scheduler",
        address,
        "--out",
        str(out),
    ]
    (tmp_path / "client").mkdir()
    with Client(address, timeout="10s") as observer:
        started = time.monotonic()
        sweep = subprocess.Popen(
            command,
            cwd=tmp_path / "client",
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            victim, held, restart_s = kill_a_worker_holding_a_run(observer)
            output, _ = sweep.communicate(timeout=DEADLINE_S)
        finally:
            stop([sweep])
        elapsed = time.monotonic() - started
        story = observer.run_on_scheduler(lambda dask_scheduler: dask_scheduler.story(*[r.key for r in runs]))

    assert sweep.returncode == 0, output
    assert f"{len(runs)} runs ({len(runs)} run now, 0 already finished, 0 failed)" in output
    tries = {r.key: sum(step[0] == r.key and step[2] == "processing" for step in story) for r in runs}
    done = {r.key: sum(step[0] == r.key and step[2] == "memory" for step in story) for r in runs}
    print(
        f"\nkilled {victim} after it held {held} for {KILL_AFTER_S} s, replaced after {restart_s:.1f} s; "
        f"tries per run {tries}; sweep {elapsed:.0f} s"
    )
    assert all(tries[key] == 2 for key in held) and all(tries[r.key] == 1 for r in runs if r.key not in held)
    assert set(done.values()) == {1}  # every run finished exactly once
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(r.run_id for r in runs)  # nothing half-written

    cluster_results = {r.run_id: json.loads((run_folder(out, r) / "results.json").read_text()) for r in runs}
    scratch_roots = tuple(str(folder / "tmp") for folder in workers)
    for results in cluster_results.values():  # executed in a worker's scratch folder, not in the output folder
        assert results["parameters"]["output_dir"].startswith(scratch_roots) and results["threads"] == 1
    run_sweep(runs, tmp_path / "local", workers=2, progress=False)
    for run in runs:
        local = json.loads((run_folder(tmp_path / "local", run) / "results.json").read_text())
        assert comparable(cluster_results[run.run_id]) == comparable(local)
