"""Chapter 3's figures and its explorer: frontiers, APL, cores and the sparsification dynamics.

Every function takes :class:`~.experiments.Study` objects and returns a matplotlib figure
(glue it with :func:`linstruct.book.plotting.glue_figure`) or, for the explorer, a draw
function and its states (for :func:`linstruct.book.widgets.explorer`).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from linstruct.studies.nonlinear_advantage import claims
from linstruct.studies.nonlinear_advantage.experiments import GRID, Study, apl_frontier, gap_stats, knee

COLORS = {"early": "C3", "early-long": "C1", "mid": "C2", "late": "C0"}
EXPLORER_CONDITIONS = ("early", "early-long", "late")  # the static book shows these at the middle lambda


def _frontier_band(ax, study: Study, condition: str, label: str) -> None:
    curves = np.array([study.frontier(condition, s) for s in study.seeds]) * 100
    mean = curves.mean(0)
    se = curves.std(0, ddof=1) / math.sqrt(len(curves)) if len(curves) > 1 else np.zeros_like(mean)
    x = np.maximum(GRID, 1e-3)
    ax.plot(x, mean, color=COLORS[condition], label=label)
    ax.fill_between(x, mean - se, mean + se, color=COLORS[condition], alpha=0.2)
    rows = study.rows(condition)
    ax.scatter(np.maximum(rows.rho, 1e-3), 100 * rows.accuracy, s=12, color=COLORS[condition], alpha=0.7)


def frontier_figure(hard: Study, easy: Study) -> plt.Figure:
    """Accuracy against rho per condition (both tasks) and the frontier gaps with the control."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, study, name in ((axes[0], hard, "MNIST-1D, CNN"), (axes[1], easy, "digits, MLP")):
        for condition in study.conditions:
            _frontier_band(ax, study, condition, condition)
        ax.axhline(100 * study.references.dense_at_t.mean(), ls="--", color="k", lw=1, label="dense (T epochs)")
        ax.axhline(100 * study.references.linear.mean(), ls=":", color="k", lw=1, label="fully linear")
        ax.set(
            xscale="log",
            xlim=(0.01, 1.05),
            title=f"{name}: frontiers (mean ± SE over seeds)",
            xlabel=r"share of nonlinear units $\rho$ (log)",
            ylabel="test accuracy (%)",
        )
    axes[0].legend(fontsize="small")
    ax = axes[2]
    for study, marker, name in ((hard, "o", "MNIST-1D"), (easy, "s", "digits")):
        for other, color in (("early", COLORS["early"]), ("early-long", COLORS["early-long"])):
            stats = gap_stats(study, other, GRID[1:])
            ax.plot(
                stats.index,
                stats["mean"],
                color=color,
                ls="-" if marker == "o" else "--",
                label=f"{name}: late − {other}",
            )
            ax.fill_between(
                stats.index, stats["mean"] - stats["se"], stats["mean"] + stats["se"], color=color, alpha=0.15
            )
    ax.axhline(0, color="k", lw=0.8)
    for r in claims.RHO_STARS:
        ax.axvline(r, color="grey", lw=0.6, ls=":")
    ax.set(
        xscale="log",
        xlim=(0.01, 1.0),
        title="Frontier gap with the epoch-matched control",
        xlabel=r"share of nonlinear units $\rho$ (log)",
        ylabel="accuracy gap (points)",
    )
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def apl_figure(hard: Study, easy: Study) -> plt.Figure:
    """Accuracy against APL (binarised runs) with the late frontier and its knee."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    for ax, study, name in ((axes[0], hard, "MNIST-1D, CNN"), (axes[1], easy, "digits, MLP")):
        for condition in study.conditions:
            rows = study.rows(condition)
            ax.scatter(rows.apl, 100 * rows.accuracy, s=14, color=COLORS[condition], label=condition)
        curves = np.array([apl_frontier(study, s)[1] for s in study.seeds]) * 100
        grid = apl_frontier(study, study.seeds[0])[0]
        ax.plot(grid, curves.mean(0), color=COLORS["late"], lw=1.5, label="late frontier (mean)")
        ref = study.references
        floor = 100 * (ref.linear + claims.KNEE_SPAN_SHARE * (ref.dense_at_t - ref.linear)).mean()
        k = knee(grid, curves.mean(0), floor)
        ax.axvline(k, color="grey", ls="--", lw=1, label=f"knee ≈ {k:.2f}")
        ax.set(
            title=f"{name}: accuracy against effective depth",
            xlabel="average path length APL (layers)",
            ylabel="test accuracy (%)",
        )
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def core_figure(hard: Study, easy: Study) -> plt.Figure:
    """Per-layer share of nonlinear units after late sparsification: one line per lambda and seed."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    styles = ["-", "--", ":", "-."]
    for ax, study, name in ((axes[0], hard, "MNIST-1D, CNN"), (axes[1], easy, "digits, MLP")):
        layers = np.arange(1, study.depth + 1)
        rows = study.rows("late")
        for i, lam in enumerate(study.task.lambdas):
            for j, seed in enumerate(study.seeds):
                r = rows[(rows.lam == lam) & (rows.seed == seed)].iloc[0]
                ax.plot(
                    layers,
                    [r[f"p{l}"] for l in layers],
                    color=f"C{i}",
                    ls=styles[j % 4],
                    marker="o",
                    label=rf"$\lambda$={lam:g}" if j == 0 else None,
                )
        ax.set(
            title=f"{name}: core profile (late runs; line style = seed)",
            xlabel="layer",
            ylabel=r"share of nonlinear units $p_l$",
            xticks=layers,
            ylim=(-0.03, 1.03),
        )
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def dynamics_figure(hard: Study, seed: int | None = None) -> plt.Figure:
    """rho during sparsification for each condition and lambda (one seed)."""
    seed = hard.seeds[0] if seed is None else seed
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    styles = {"early-long": "-", "mid": ":", "late": "--"}
    for i, lam in enumerate(hard.task.lambdas):
        for condition, ls in styles.items():
            if (condition, lam, seed) in hard.histories:
                h = hard.histories[condition, lam, seed]
                ax.plot(h.epoch, h.rho, color=f"C{i}", ls=ls, label=rf"{condition}, $\lambda$={lam:g}")
    ax.axvline(hard.task.sparsify, color="grey", lw=0.8)
    ax.set(
        title=f"MNIST-1D: share of nonlinear units under the prior (seed {seed})",
        xlabel="epochs since the prior switched on",
        ylabel=r"share of nonlinear units $\rho$",
    )
    ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def draw_core(study: Study, seed: int):
    """A ``draw(axes, (condition, lam))`` for the explorer: the binary layer x channel core map."""

    def draw(axes, value) -> None:
        condition, lam = value
        masks = study.masks[condition, lam, seed]
        width = max(len(m) for m in masks)
        grid = np.full((len(masks), width), np.nan)
        for l, m in enumerate(masks):
            grid[l, : len(m)] = m.cpu().numpy()
        row = study.runs[
            (study.runs.condition == condition) & (study.runs.lam == lam) & (study.runs.seed == seed)
        ].iloc[0]
        ax = axes[0]
        ax.imshow(grid, cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        ax.set(
            title=rf"{condition}, $\lambda$={lam:g}: $\rho$={row.rho:.2f}, acc {100 * row.accuracy:.1f}%",
            xlabel="channel",
            ylabel="layer",
            yticks=range(len(masks)),
            yticklabels=[str(l + 1) for l in range(len(masks))],
        )
        ax.grid(False)

    return draw


def core_explorer_states(study: Study) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """The explorer's states: every (condition, lambda) of ``study``, and the few the static book shows
    (:data:`EXPLORER_CONDITIONS` that were run, at the middle lambda of the grid)."""
    states = [(c, lam) for c in study.conditions for lam in study.task.lambdas]
    middle = study.task.lambdas[(len(study.task.lambdas) - 1) // 2]
    return states, [(c, middle) for c in EXPLORER_CONDITIONS if c in study.conditions]
