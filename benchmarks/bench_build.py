"""Wall-clock times of the two commands, cold and warm, in fresh clones of this repository.

Steps, each timed with the load average before it (the numbers only mean something on an
otherwise idle machine):

1. ``make book`` in a fresh clone (sets up .venv, executes every chapter, builds the HTML);
2. ``make book`` again, nothing changed;
3. ``make book`` after a prose edit in chapter 1 (a sentence added to a Markdown cell);
4. ``make book`` after a code edit in chapter 0 (a comment added to a code cell): checks that
   exactly that chapter is executed again;
5. ``make unit`` in that clone;
6. ``make test`` in a second fresh clone (set-up included).

``--sequential-vs-parallel PROFILE`` instead times executing every notebook of the book in
PROFILE (forced, no HTML) one at a time against all cores at once. The clones are of the
committed HEAD. Run with ``make bench-build`` or ``python benchmarks/bench_build.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PROSE_CHAPTER = "notebooks/01_half_space_features.ipynb"
CODE_CHAPTER = "notebooks/00_toolkit.ipynb"


def timed(name: str, command: list[str], cwd: Path, results: list[dict], env: dict | None = None) -> str:
    """Run ``command`` in ``cwd``, record its seconds, exit status and the load average before
    and after it; return its output (a failure is reported and recorded, not fatal)."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    results.append(
        {
            "step": name,
            "seconds": round(seconds, 1),
            "status": done.returncode,
            "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2),
        }
    )
    status = "" if done.returncode == 0 else f"   FAILED ({done.returncode})"
    print(
        f"{name:<28} {seconds:7.1f} s   (load average {load:.2f} before, "
        f"{results[-1]['load_after']:.2f} after){status}",
        flush=True,
    )
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", flush=True)
    return done.stdout + done.stderr


def clone(into: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(into)], check=True)
    return into


def edit_first_cell(path: Path, cell_type: str, addition: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if c.cell_type == cell_type and c.source.strip())
    cell.source += addition
    nbformat.write(notebook, path)


def executed_notebooks(output: str) -> list[str]:
    """The notebooks linstruct.run.book_cache reports as executed, from its log."""
    return re.findall(r"^(\S+): executed in", output, flags=re.MULTILINE)


def book_and_test(work: Path) -> list[dict]:
    """Steps 1-6 of the module docstring, with an empty folder of generated data (a cold start)."""
    results: list[dict] = []
    env = {**os.environ, "LINSTRUCT_DATA": str(work / "data")}
    env.pop("LINSTRUCT_PROFILE", None)
    book = clone(work / "book")
    timed("make book (cold)", ["make", "book"], book, results, env)
    timed("make book (warm)", ["make", "book"], book, results, env)
    edit_first_cell(book / PROSE_CHAPTER, "markdown", "\n\nA sentence added by the benchmark.")
    prose = timed("make book (prose edit)", ["make", "book"], book, results, env)
    edit_first_cell(book / CODE_CHAPTER, "code", "\n# a comment added by the benchmark")
    code = timed("make book (code edit)", ["make", "book"], book, results, env)
    results[-2]["executed"], results[-1]["executed"] = executed_notebooks(prose), executed_notebooks(code)
    print(f"executed after the prose edit: {results[-2]['executed']}, after the code edit: {results[-1]['executed']}")
    timed("make unit", ["make", "unit"], book, results, env)
    timed("make test (fresh clone)", ["make", "test"], clone(work / "test"), results, env)
    return results


def sequential_vs_parallel(profile: str) -> list[dict]:
    results: list[dict] = []
    command = [sys.executable, "-m", "linstruct.run.book_cache", "--profile", profile, "--force"]
    with tempfile.TemporaryDirectory(prefix="linstruct-bench-") as out:
        for jobs in (1, os.cpu_count() or 1):
            label = f"{profile}: {jobs} at once"
            output = timed(label, [*command, "--jobs", str(jobs), "--path-output", out], ROOT, results)
            results[-1]["notebooks"] = dict(re.findall(r"^(\S+): executed in ([\d.]+) s", output, re.MULTILINE))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequential-vs-parallel", metavar="PROFILE", choices=("smoke", "book"))
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", type=Path, help="clone into this (new) folder and keep it, to look at the build")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if args.sequential_vs_parallel:
        results = sequential_vs_parallel(args.sequential_vs_parallel)
    elif args.keep:
        args.keep.mkdir(parents=True)
        results = book_and_test(args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="linstruct-bench-") as work:
            results = book_and_test(Path(work))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
