"""The stacked engine on each chapter's book-profile model: one copy, 10 copies stacked and
10 copies one after another, with 1 and 2 torch threads.

Every case lives in ``benchmarks/engine/<study>.py`` as ``CASES = {name: Case(...)}``: a
function building the stacked model for given seeds, the data, and the ``fit`` settings of
the chapter (a few epochs, enough to time steady-state training). Targets, each side at its
best thread count: 10 stacked copies at most 2.5x one copy for the circle models and at
most 4x for the MNIST-1D CNNs. Run on an idle machine: ``python benchmarks/bench_engine.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import torch

from linstruct.core.reproducibility import retain_freed_memory
from linstruct.nn.fit import fit

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "engine"))  # the cases import their Case from case.py


def load_cases() -> dict:
    cases = {}
    for path in sorted(p for p in (HERE / "engine").glob("*.py") if p.name != "case.py"):
        spec = importlib.util.spec_from_file_location(f"engine_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases |= module.CASES
    return cases


def seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def time_case(case, seeds: tuple[int, ...], threads: int, repeats: int) -> tuple[float, float, float]:
    """Seconds for one copy, all copies stacked, and the copies one after another."""
    torch.set_num_threads(threads)
    data = case.data()

    def run(copies):
        fit(case.model(copies), data, progress=False, measure=False, **case.fit)

    return (
        seconds(lambda: run(seeds[:1]), repeats),
        seconds(lambda: run(seeds), repeats),
        seconds(lambda: [run((s,)) for s in seeds], 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", help="run only the cases whose name contains this text")
    args = parser.parse_args()
    retain_freed_memory()  # as every chapter does (linstruct.book.session.start_chapter)
    seeds = tuple(range(args.copies))
    print(f"torch {torch.__version__}; best of {args.repeats}; {args.copies} copies")
    k = args.copies
    print(f"| model | threads | 1 copy | {k} stacked | {k} sequential | stacked / best 1 copy |")
    print("|---|---|---|---|---|---|")
    for name, case in load_cases().items():
        if args.only and args.only not in name:
            continue
        times = {threads: time_case(case, seeds, threads, args.repeats) for threads in (1, 2)}
        best_one = min(t[0] for t in times.values())
        for threads, (one, stacked, sequential) in times.items():
            print(
                f"| {name} | {threads} | {one:.3f} s | {stacked:.3f} s | {sequential:.3f} s | "
                f"{stacked / best_one:.2f}x |"
            )


if __name__ == "__main__":
    main()
