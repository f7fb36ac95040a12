"""Per chapter, in one profile: wall-clock time, the seeds each claim was judged over, its verdict
and effect with its 95% interval, and every baseline against its reference.

Each chapter runs through ``linstruct run`` (papermill, the code path readers use) with one torch
thread, one chapter at a time, so the times are those of an otherwise idle core; the load average
before each run is printed beside it. The figures of the README's chapter table come from here.
Run with ``make bench-chapters`` or ``python benchmarks/bench_chapters.py [CHAPTER ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from linstruct.core.parameters import PROFILES
from linstruct.studies import CHAPTERS


def run_chapter(name: str, profile: str, out: Path) -> tuple[float, dict]:
    """Run chapter ``name`` in ``profile`` into ``out``; return its seconds and its results.json."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "linstruct.run.cli", "run", name, "--profile", profile, "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "LINSTRUCT_THREADS": "1"})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"linstruct run {name} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return seconds, json.loads((out / "results.json").read_text())


def report(name: str, seconds: float, load: float, results: dict) -> list[str]:
    """The chapter's lines: time, then one line per claim and per baseline."""
    lines = [
        f"## {name}: {seconds:.0f} s (load before {load:.2f})",
        "",
        "| claim | seeds | effect [95% interval] | verdict |",
    ]
    lines.append("|---|---|---|---|")
    for claim in results["claims"]:
        if claim["effect"] is None:
            effect = "no per-seed effect"
        else:
            low, high = claim["interval"]
            effect = f"{claim['effect']:.3g} [{low:.3g}, {high:.3g}]"
        lines.append(f"| {claim['id']} | {claim['seeds'] or 1} | {effect} | {claim['verdict']} |")
    if results.get("baselines"):
        lines += ["", "| baseline | data set | accuracy (%) | target (%) |", "|---|---|---|---|"]
        for b in results["baselines"]:
            target = "control (exempt)" if b["target"] is None else f"{b['target']:g}"
            lines.append(f"| {b['name']} | {b['dataset']} | {b['accuracy']:.1f} | {target} |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter names (default: every chapter)")
    parser.add_argument("--profile", default="book", choices=PROFILES)
    args = parser.parse_args()
    names = args.chapters or list(CHAPTERS)
    unknown = sorted(set(names) - set(CHAPTERS))
    if unknown:
        raise SystemExit(f"unknown chapter(s) {', '.join(unknown)}; choose from {', '.join(CHAPTERS)}")
    total = 0.0
    with tempfile.TemporaryDirectory(prefix="linstruct-bench-chapters-") as folder:
        for name in names:
            load = os.getloadavg()[0]
            seconds, results = run_chapter(name, args.profile, Path(folder) / name)
            total += seconds
            print("\n".join(report(name, seconds, load, results)), flush=True)
    print(f"total: {total:.0f} s over {len(names)} chapter(s), profile {args.profile}, one thread each")


if __name__ == "__main__":
    main()
