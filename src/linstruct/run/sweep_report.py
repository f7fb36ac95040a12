"""The tidy table and the figure of a finished sweep."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED
from linstruct.run.sweep import Run, run_folder

VERDICT_SCORE = {REPRODUCED: 1.0, PARTLY: 0.5, NOT_REPRODUCED: 0.0}


def tidy_table(runs: Sequence[Run], out: Path) -> pd.DataFrame:
    """One row per run and claim (one row per failed run): parameters, status, measured
    values (columns ``measured.<key>``), verdict and its score (1, 0.5, 0)."""
    rows = []
    for run in runs:
        folder = run_folder(out, run)
        base = {"run_id": run.run_id, "chapter": run.chapter, **run.params}
        results = folder / "results.json"
        if results.exists():
            record = json.loads(results.read_text())
            for claim in record["claims"]:
                rows.append(
                    base
                    | {
                        "status": "finished",
                        "error": "",
                        "runtime_s": record["runtime_s"],
                        "claim": claim["id"],
                        "verdict": claim["verdict"],
                        "score": VERDICT_SCORE[claim["verdict"]],
                    }
                    | {f"measured.{k}": v for k, v in claim["measured"].items()}
                )
        else:
            error = folder / "error.json"
            message = json.loads(error.read_text())["error"] if error.exists() else "not run"
            rows.append(base | {"status": "failed", "error": message})
    return pd.DataFrame(rows)


def holding_rates(table: pd.DataFrame) -> pd.DataFrame:
    """Per claim: finished runs, share reproduced, share at least partly reproduced."""
    done = table[table["status"] == "finished"]
    return (
        done.groupby("claim")
        .agg(
            runs=("verdict", "size"),
            reproduced=("verdict", lambda v: (v == REPRODUCED).mean()),
            at_least_partly=("verdict", lambda v: (v != NOT_REPRODUCED).mean()),
        )
        .reset_index()
    )


def sweep_figure(table: pd.DataFrame, swept: Sequence[str]) -> plt.Figure:
    """Top row: mean verdict score per claim against each swept parameter (seeds pooled);
    bottom row: each claim's first measured value, mean and spread over seeds."""
    done = table[table["status"] == "finished"]
    axes_for = list(swept) or ["seed"]
    fig, axes = plt.subplots(
        2, len(axes_for), figsize=(4.6 * len(axes_for) + 3.4, 6.4), squeeze=False, layout="constrained"
    )
    for column, name in zip(axes.T, axes_for):
        top, bottom = column
        for claim, rows in done.groupby("claim"):
            scores = rows.groupby(name)["score"].mean()
            top.plot(scores.index.astype(str), scores.values, marker="o", label=claim)
            key = next((c for c in rows.columns if c.startswith("measured.") and rows[c].notna().any()), None)
            if key:
                stats = rows.groupby(name)[key].agg(["mean", "std"]).fillna(0)
                bottom.errorbar(
                    stats.index.astype(str),
                    stats["mean"],
                    yerr=stats["std"],
                    marker="o",
                    capsize=3,
                    label=f"{claim}: {key.removeprefix('measured.')}",
                )
        top.set(
            title=f"Verdicts against {name}", xlabel=name, ylabel="verdict score (1 = reproduced)", ylim=(-0.05, 1.05)
        )
        bottom.set(title=f"Key measured value against {name}", xlabel=name, ylabel="value (mean ± sd over seeds)")
    for ax in axes[:, -1]:  # one legend per row, outside the panels
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    return fig
