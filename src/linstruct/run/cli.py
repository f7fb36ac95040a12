"""The ``linstruct`` command: list the chapters, run one, sweep one.

    linstruct list
    linstruct run CHAPTER [-p NAME VALUE ...] [--profile P] [--out DIR]
    linstruct sweep CHAPTER -p NAME V1,V2,... [-p ...] --seeds 0-9 [--profile P]
                    [--scheduler ADDRESS] [--workers N] [--out DIR]

``run`` validates every parameter before starting a kernel, executes the chapter
notebook with papermill, writes the executed notebook, an HTML rendering and
``results.json`` into DIR, and prints one verdict per claim. ``sweep`` runs a grid
on Dask (see :mod:`linstruct.run.sweep`) and writes ``runs.csv`` and ``sweep.png``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from linstruct.core.parameters import PROFILES, ChapterSpec, ParameterError
from linstruct.run.runner import run_chapter
from linstruct.studies import CHAPTERS, get_chapter


def parse_parameters(spec: ChapterSpec, pairs: list[list[str]], profile: str | None) -> dict:
    """``-p NAME VALUE`` pairs parsed and validated; raises ParameterError on bad input."""
    given = {name: spec.param(name).parse(text, spec.name) for name, text in pairs}
    if profile is not None:
        given["profile"] = profile
    config = spec.resolve(**given)  # validates the combination before any kernel starts
    if config.device != "cpu":
        from linstruct.core.reproducibility import select_device

        select_device(config.device)  # a GPU that is not there fails here, not in the notebook
    return given


def print_verdicts(record: dict) -> None:
    """Each baseline against its reference, then per claim its verdict, effect with its 95% interval and seeds."""
    print(f"{record['chapter']} ({record['profile']} profile, {record['runtime_s']:.0f} s):")
    for b in record.get("baselines", []):
        target = "exempt control" if b["target"] is None else f"target {b['target']:g}%"
        print(f"  baseline {b['name']} on {b['dataset']}: {b['accuracy']:.1f}% ({target}; {b['reference']})")
    for claim in record["claims"]:
        effect = ""
        if claim.get("effect") is not None:
            low, high = claim["interval"]
            effect = f" [effect {claim['effect']:.3g}, 95% interval {low:.3g} to {high:.3g}, {claim['seeds']} seeds]"
        print(f"  {claim['verdict']:<18} {claim['id']}: {claim['statement']}{effect}")


def cmd_list(_: argparse.Namespace) -> int:
    for spec in CHAPTERS.values():
        print(f"{spec.name}: {spec.title}  ({spec.notebook})")
        for p in spec.parameters:
            values = " / ".join(f"{spec.default(p.name, prof)}" for prof in PROFILES)
            print(f"  {p.name:<15} {p.help}; {p.allowed()}; smoke / book / full: {values}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    spec = get_chapter(args.chapter)
    given = parse_parameters(spec, args.param or [], args.profile)
    out = Path(args.out) if args.out else Path("runs") / spec.name
    from papermill.exceptions import PapermillExecutionError

    try:
        record = run_chapter(spec, given, out)
    except PapermillExecutionError as error:
        print(
            f"linstruct: chapter '{spec.name}' failed in cell {error.exec_count}: "
            f"{error.ename}: {error.evalue}\n  executed notebook: {out / (spec.name + '.ipynb')}",
            file=sys.stderr,
        )
        return 1
    print_verdicts(record)
    print(f"wrote {out}/{spec.name}.ipynb, {spec.name}.html and results.json")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from linstruct.run.sweep import SweepError, parse_grid, parse_seeds, plan, run_sweep
    from linstruct.run.sweep_report import holding_rates, sweep_figure, tidy_table

    spec = get_chapter(args.chapter)
    out = Path(args.out) if args.out else Path("sweeps") / spec.name
    try:
        grid = parse_grid(spec, args.param or [])
        runs = plan(spec.name, grid, parse_seeds(args.seeds), args.profile)
        statuses = run_sweep(runs, out, scheduler=args.scheduler, workers=args.workers)
    except SweepError as error:
        print(f"linstruct: {error}", file=sys.stderr)
        return 2
    table = tidy_table(runs, out)
    table.to_csv(out / "runs.csv", index=False)
    fig = sweep_figure(table, list(grid))
    fig.savefig(out / "sweep.png", bbox_inches="tight")
    counts = {k: sum(s["status"] == k for s in statuses) for k in ("finished", "skipped", "failed")}
    print(
        f"{spec.name} sweep: {len(runs)} runs ({counts['finished']} run now, {counts['skipped']} already "
        f"finished, {counts['failed']} failed)"
    )
    for status in statuses:
        if status["status"] == "failed":
            print(f"  failed {status['run_id']}: {status['error']}")
    if (table["status"] == "finished").any():
        print(holding_rates(table).round(3).to_string(index=False))
    print(f"wrote {out / 'runs.csv'} and {out / 'sweep.png'}")
    return 1 if counts["failed"] else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="linstruct", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="chapters and their parameters").set_defaults(func=cmd_list)
    run = commands.add_parser("run", help="execute one chapter and print its verdicts")
    run.add_argument("chapter", help=f"one of: {', '.join(CHAPTERS)}")
    run.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="set a chapter parameter (repeatable)",
    )
    run.add_argument("--profile", choices=PROFILES, help="smoke, book (default) or full")
    run.add_argument("--out", help="output folder (default runs/CHAPTER)")
    run.set_defaults(func=cmd_run)
    sweep = commands.add_parser("sweep", help="run a parameter grid over seeds on Dask, resumably")
    sweep.add_argument("chapter", help=f"one of: {', '.join(CHAPTERS)}")
    sweep.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("NAME", "V1,V2"),
        help="a parameter and its comma-separated values (repeatable)",
    )
    sweep.add_argument("--seeds", default="0", help="seeds, e.g. 0-9 or 0,3,5 (default 0)")
    sweep.add_argument("--profile", choices=PROFILES, help="profile of every run")
    sweep.add_argument("--scheduler", help="address of a running Dask scheduler (default: a local cluster)")
    sweep.add_argument("--workers", type=int, default=2, help="local cluster workers (default 2)")
    sweep.add_argument("--out", help="output folder (default sweeps/CHAPTER)")
    sweep.set_defaults(func=cmd_sweep)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ParameterError as error:
        print(f"linstruct: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
