"""Sweeps: planning, resuming, failures, worker checks and deaths, unreachable schedulers,
the table and figure. A hand-started cluster is tested in test_sweep_cluster.py."""

import json
import os
import signal
import subprocess
import sys
import time

import dask
import distributed  # noqa: F401  loads Dask's distributed settings before dask.config.set below
import pandas as pd
import pytest

from linstruct.run import sweep
from linstruct.run.cli import main
from linstruct.run.sweep import (
    Run,
    SweepError,
    collect,
    connect,
    disconnect,
    is_finished,
    parse_grid,
    parse_seeds,
    plan,
    run_folder,
    run_sweep,
    write_run,
)
from linstruct.run.sweep_report import holding_rates, sweep_figure, tidy_table
from linstruct.run.sweep_worker import fingerprint, mismatch, worker_environment
from linstruct.studies import get_chapter

# The smoke profile made cheaper still: a sweep's machinery does not depend on how long a run trains.
CHEAP = ["-p", "epochs", "1", "-p", "n_seeds", "1", "-p", "n_train", "200"]
CHEAP_GRID = {"epochs": [1], "n_seeds": [1], "n_train": [200]}


def test_parse_seeds():
    assert parse_seeds("0-2") == [0, 1, 2]
    assert parse_seeds("5,1,1-2") == [1, 2, 5]
    for bad in ("a-b", "", "-3"):
        with pytest.raises(SweepError, match="--seeds"):
            parse_seeds(bad)


def test_grid_is_typed_and_keeps_bad_values_for_their_run():
    grid = parse_grid(get_chapter("toolkit"), [("width", "16, 32"), ("lr", "1e-3")])
    assert grid == {"width": [16, 32], "lr": [0.001]}
    assert parse_grid(get_chapter("toolkit"), [("width", "16,banana")]) == {"width": [16, "banana"]}
    with pytest.raises(SweepError, match="--seeds"):
        parse_grid(get_chapter("toolkit"), [("seed", "1,2")])


def test_plan_and_run_ids():
    runs = plan("toolkit", {"width": [16, 32], "depth": [1, 2]}, [0, 1], "smoke")
    assert len(runs) == 8 and len({r.run_id for r in runs}) == 8
    assert runs[0].params == {"depth": 1, "profile": "smoke", "seed": 0, "width": 16}
    again = Run("toolkit", tuple(sorted({"width": 16, "depth": 1, "seed": 0, "profile": "smoke"}.items())))
    assert again.run_id == runs[0].run_id  # the id depends on values, not on their order


def test_unreachable_scheduler_fails_within_seconds():
    started = time.perf_counter()
    with pytest.raises(SweepError, match="could not reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
        connect("tcp://127.0.0.1:9", 1)
    assert time.perf_counter() - started < 15


@pytest.mark.notebook  # executes chapter notebooks: not in `make unit`
def test_two_by_two_grid_on_two_local_workers(tmp_path, capsys):
    args = [
        "sweep",
        "toolkit",
        "-p",
        "width",
        "16,32",
        "-p",
        "depth",
        "1,2",
        *CHEAP,
        "--seeds",
        "0",
        "--profile",
        "smoke",
        "--workers",
        "2",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    assert "4 runs (4 run now, 0 already finished, 0 failed)" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "runs.csv")
    assert len(table) == 4 and set(table["status"]) == {"finished"}
    assert {"width", "depth", "seed", "claim", "verdict", "measured.gap_points_main"} <= set(table.columns)
    assert sorted(zip(table["width"], table["depth"])) == [(16, 1), (16, 2), (32, 1), (32, 2)]
    assert (tmp_path / "sweep.png").stat().st_size > 10_000
    # a second run does no work
    assert main(args) == 0
    assert "4 runs (0 run now, 4 already finished, 0 failed)" in capsys.readouterr().out


@pytest.mark.notebook  # executes chapter notebooks: not in `make unit`
def test_bad_value_fails_its_run_only(tmp_path):
    grid = parse_grid(get_chapter("toolkit"), [("width", "banana,16")]) | CHEAP_GRID
    runs = plan("toolkit", grid, [0], "smoke")
    statuses = {s["run_id"]: s for s in run_sweep(runs, tmp_path, workers=1, progress=False)}
    bad, good = runs
    assert statuses[bad.run_id]["status"] == "failed"
    assert "parameter 'width' must be an integer from 4 to 1024; got 'banana'" in statuses[bad.run_id]["error"]
    assert statuses[good.run_id]["status"] == "finished"
    table = tidy_table(runs, tmp_path)
    assert list(table["status"]) == ["failed", "finished"]
    assert "banana" in table["error"].iloc[0]


@pytest.mark.notebook  # executes chapter notebooks: not in `make unit`
def test_killed_sweep_resumes_with_only_the_missing_runs(tmp_path):
    command = [
        sys.executable,
        "-m",
        "linstruct.run.cli",
        "sweep",
        "toolkit",
        "-p",
        "width",
        "16,32",
        *CHEAP,
        "--seeds",
        "0-1",
        "--profile",
        "smoke",
        "--workers",
        "1",
        "--out",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    runs = plan("toolkit", {"width": [16, 32]} | CHEAP_GRID, [0, 1], "smoke")
    deadline = time.time() + 300
    while not any((run_folder(tmp_path, r) / "results.json").exists() for r in runs):
        assert time.time() < deadline and process.poll() is None, "the sweep finished no run before the deadline"
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = [r for r in runs if (run_folder(tmp_path, r) / "results.json").exists()]
    assert 1 <= len(finished) < len(runs)
    stamps = {r.run_id: (run_folder(tmp_path, r) / "results.json").stat().st_mtime_ns for r in finished}
    statuses = run_sweep(runs, tmp_path, workers=1, progress=False)
    assert [s["status"] for s in statuses].count("skipped") == len(finished)
    assert [s["status"] for s in statuses].count("finished") == len(runs) - len(finished)
    for r in finished:
        assert (run_folder(tmp_path, r) / "results.json").stat().st_mtime_ns == stamps[r.run_id]


def test_table_and_figure_from_written_results(tmp_path):
    runs = plan("toolkit", {"width": [16, 32]} | CHEAP_GRID, [0, 1], "smoke")
    for i, run in enumerate(runs):
        folder = run_folder(tmp_path, run)
        folder.mkdir(parents=True)
        verdict = "reproduced" if i % 2 else "not reproduced"
        claim = {"id": "c", "statement": "s", "criterion": "k", "measured": {"gap": float(i)}, "verdict": verdict}
        (folder / "results.json").write_text(json.dumps({"claims": [claim], "runtime_s": 1.0}))
    table = tidy_table(runs, tmp_path)
    assert list(table["score"]) == [0.0, 1.0, 0.0, 1.0]
    rates = holding_rates(table)
    assert rates.loc[0, "reproduced"] == 0.5 and rates.loc[0, "runs"] == 4
    fig = sweep_figure(table, ["width"])
    assert [ax.get_xlabel() for ax in fig.axes] == ["width", "width"]


def test_worker_environment_defaults_to_one_thread_and_keeps_what_is_given():
    assert worker_environment({}) == {"LINSTRUCT_THREADS": "1", "OMP_NUM_THREADS": "1", "LINSTRUCT_INTERACTIVE": "0"}
    assert worker_environment({"LINSTRUCT_THREADS": "4"})["OMP_NUM_THREADS"] == "4"
    assert worker_environment({"LINSTRUCT_THREADS": "4", "OMP_NUM_THREADS": "2"})["OMP_NUM_THREADS"] == "2"


def test_mismatch_names_what_differs():
    ours = fingerprint("toolkit")
    assert len(ours["notebook"]) == 64 and mismatch(ours, ours, "toolkit") == ""
    assert "has linstruct 0.0.1 but the sweep was started with" in mismatch(
        ours | {"linstruct": "0.0.1"}, ours, "toolkit"
    )
    assert "has no notebook of chapter 'toolkit'" in mismatch(ours | {"notebook": None}, ours, "toolkit")
    assert "a different notebook of chapter 'toolkit'" in mismatch(ours | {"notebook": "0" * 64}, ours, "toolkit")


def test_a_worker_with_another_version_stops_the_sweep_before_any_run(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "fingerprint", lambda chapter: fingerprint(chapter) | {"linstruct": "9.9.9"})
    runs = plan("toolkit", {"width": [16, 32]}, [0], "smoke")
    with pytest.raises(SweepError, match=r"worker .* has linstruct 0\.1\.0 but the sweep was started with 9\.9\.9"):
        run_sweep(runs, tmp_path, workers=1, progress=False)
    assert not (tmp_path / "runs").exists()


def test_a_run_that_keeps_killing_its_worker_is_recorded_as_failed(tmp_path):
    run = plan("toolkit", {"width": [16]}, [0], "smoke")[0]
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        client = connect(None, 1)  # the local scheduler reads the setting when it starts
    try:
        status = collect(client.submit(os._exit, 1, key=run.key), run, tmp_path)
    finally:
        disconnect(client)
    assert status["status"] == "failed"
    assert "its worker died each of the 2 times it ran" in status["error"]
    assert "distributed.scheduler.allowed-failures = 1" in status["error"]
    folder = run_folder(tmp_path, run)
    assert not is_finished(folder) and json.loads((folder / "error.json").read_text())["error"] == status["error"]
    assert tidy_table([run], tmp_path)["error"].iloc[0] == status["error"]


def test_run_folder_is_replaced_whole_and_leaves_nothing_beside_it(tmp_path):
    run = plan("toolkit", {"width": [16]}, [0], "smoke")[0]
    write_run(tmp_path, run, {"toolkit.ipynb": b"{}"}, "cell 3: ValueError: boom")
    folder = write_run(tmp_path, run, {"results.json": b'{"claims": []}', "toolkit.ipynb": b"{}"}, "")
    assert sorted(p.name for p in folder.iterdir()) == ["params.json", "results.json", "toolkit.ipynb"]
    assert json.loads((folder / "params.json").read_text()) == {"chapter": "toolkit", **run.params}
    assert is_finished(folder) and [p.name for p in (tmp_path / "runs").iterdir()] == [run.run_id]
    debris = tmp_path / "runs" / f".{run.run_id}-0123abcd"  # left by a sweep killed while writing a folder
    debris.mkdir()
    (debris / "results.json").write_text("{}")
    assert run_sweep([], tmp_path) == [] and not debris.exists() and is_finished(folder)
