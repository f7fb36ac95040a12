"""Chapter 1's figures and the hyperplane explorer's draw function.

Each ``*_figure`` returns a labelled matplotlib figure for ``linstruct.book.plotting.glue_figure``;
:func:`hyperplane_explorer` returns a draw function for ``linstruct.book.widgets.explorer``. Tensors
are brought to the CPU here, so the runs may live on any device.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from linstruct.data import Dataset
from linstruct.studies.half_space.claims import CONVERGED_MSE, HARD_GATE_MSE_MAX, R_GAIN_MIN
from linstruct.studies.half_space.experiments import EARLY_EPOCH, BetaSweep, CircleRuns, FashionRuns, label
from linstruct.studies.half_space.hyperplanes import effective_hyperplanes


def circle_figure(data: Dataset) -> plt.Figure:
    x, y = data.x_train.cpu(), data.y_train.cpu()
    theta = np.degrees(torch.atan2(x[:, 1], x[:, 0]).numpy() % (2 * np.pi))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(theta, y.numpy())
    left.axvline(180, ls="--", color="grey")
    left.set(title="Target along the circle", xlabel="angle θ (degrees)", ylabel="target y")
    points = right.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8)
    fig.colorbar(points, ax=right, label="target y")
    right.set(title="Inputs coloured by target", xlabel="x₁", ylabel="x₂", aspect="equal")
    fig.tight_layout()
    return fig


def loss_figure(circle: CircleRuns) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for key, run in circle.runs.items():
        h = run.history.groupby("step")["train_loss"]
        mid, low, high = h.median(), h.min(), h.max()
        ax.plot(mid.index, mid.values, label=label(key))
        ax.fill_between(mid.index, low.values, high.values, alpha=0.2)
    ax.axhline(CONVERGED_MSE, ls=":", color="black", label=f"MSE {CONVERGED_MSE}")
    ax.set(
        yscale="log",
        title=f"Training on the circle ({circle.runs['dlgn'].model.copies} seeds: median, band = min to max)",
        xlabel="optimiser step",
        ylabel="full-data MSE",
    )
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    return fig


def heatmap_figure(panels: dict, kind: str, epochs: int) -> plt.Figure:
    """``panels`` from ``experiments.kernel_panels``; ``kind`` 'overlap' or 'ntk'."""
    keys = ("relu", "dlgn")
    stages = (0, min(EARLY_EPOCH, epochs), epochs)
    fig, axes = plt.subplots(2, 3, figsize=(11, 7.2))
    names = {"overlap": "overlap kernel Ω̃ (hard gates)", "ntk": "empirical NTK Θ̃"}
    for row, key in zip(axes, keys):
        for ax, epoch in zip(row, stages):
            k = panels[(key, kind, epoch)]
            image = ax.imshow(k, cmap="viridis", vmin=0, vmax=np.quantile(k, 0.99))
            fig.colorbar(image, ax=ax, fraction=0.046)
            ax.axhline(len(k) / 2 - 0.5, color="white", lw=0.6)
            ax.axvline(len(k) / 2 - 0.5, color="white", lw=0.6)
            ax.set(
                title=f"{label(key)}, epoch {epoch}", xlabel="point index (by angle)", ylabel="point index (by angle)"
            )
    fig.suptitle(f"Trace-normalised {names[kind]}; first half = smooth top of the circle")
    fig.tight_layout()
    return fig


def allocation_figure(overlap: pd.DataFrame) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, colour in zip(("dlgn", "sf", "relu", "frozen"), sns.color_palette()):
        part = overlap[overlap["key"] == key]
        for i, (_, g) in enumerate(part.groupby("seed")):
            name = label(key) if i == 0 else None
            left.plot(g["epoch"], g["R_over_R0"], color=colour, marker="o", ms=3, label=name)
            right.plot(
                g["epoch"], g["bottom_mean"] / g["bottom_mean"].iloc[0], color=colour, marker="o", ms=3, label=name
            )
    left.axhline(R_GAIN_MIN, ls=":", color="black")
    for ax in (left, right):
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlim(left=0)
    left.set(
        yscale="log",
        title="Smooth-region allocation R / R₀ (one line per seed)",
        xlabel="epoch",
        ylabel="R / R₀ (top/bottom overlap ratio)",
    )
    right.set(title="Bottom (fast) block of Ω̃, relative to init", xlabel="epoch", ylabel="bottom-block mean / initial")
    left.legend(fontsize="small")
    fig.tight_layout()
    return fig


def draw_hyperplanes(ax, planes: tuple[torch.Tensor, torch.Tensor], data: Dataset, title: str) -> None:
    """The lines V x + b = 0 of one layer (``planes`` = (V (m, 2), b (m,))) over the circle data coloured
    by the target."""
    x, y = data.x_train.cpu(), data.y_train.cpu()
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=4, zorder=3)
    t = np.linspace(-2, 2, 2)
    v, b = (p.cpu().numpy() for p in planes)
    for (v1, v2), c in zip(v, b):
        if abs(v2) > abs(v1):
            ax.plot(t, -(c + v1 * t) / v2, color="black", lw=0.6, alpha=0.5)
        else:
            ax.plot(-(c + v2 * t) / v1, t, color="black", lw=0.6, alpha=0.5)
    ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal", title=title, xlabel="x₁", ylabel="x₂")


def hyperplane_figure(circle: CircleRuns, key: str = "dlgn") -> plt.Figure:
    run = circle.runs[key]
    depth = run.model.depth
    fig, axes = plt.subplots(2, depth, figsize=(2.6 * depth, 5.6), squeeze=False)
    for row, epoch in zip(axes, (0, circle.epochs)):
        planes = effective_hyperplanes(run.snapshots.at(epoch), 0)
        for layer, ax in enumerate(row):
            draw_hyperplanes(ax, planes[layer], circle.data, f"layer {layer + 1}, epoch {epoch}")
    fig.suptitle(f"{label(key)} gating hyperplanes (seed {run.model.seeds[0]})")
    fig.tight_layout()
    return fig


def entropy_figure(clusters: pd.DataFrame) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, key in zip(axes, ("dlgn", "sf")):
        part = clusters[clusters["key"] == key]
        sns.lineplot(part, x="layer", y="entropy", hue="stage", style="seed", marker="o", ax=ax, errorbar=None)
        ax.axhline(math.log(18), ls=":", color="grey")
        ax.set(
            title=f"{label(key)}: entropy of normal angles", xlabel="layer", ylabel="angle entropy (nats; max ln 18)"
        )
        ax.set_xticks(sorted(part["layer"].unique()))
        ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def beta_figure(sweep: BetaSweep) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    t = sweep.table
    sns.lineplot(t, x="beta", y="final_mse", hue="regime", marker="o", seed=0, ax=left)
    left.axhline(CONVERGED_MSE, ls=":", color="black")
    left.set(
        xscale="log",
        yscale="log",
        title="Final MSE, learned vs frozen gating",
        xlabel="gate sharpness β",
        ylabel="final full-data MSE",
    )
    sns.lineplot(t, x="beta", y="hard_gate_mse", hue="regime", marker="o", seed=0, ax=right)
    right.axhline(HARD_GATE_MSE_MAX, ls=":", color="black")
    right.set(
        xscale="log",
        yscale="log",
        title="Same models evaluated with hard gates 1[η ≥ 0]",
        xlabel="gate sharpness β",
        ylabel="hard-gate full-data MSE",
    )
    fig.tight_layout()
    return fig


def fashion_figure(fashion: FashionRuns) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    sns.barplot(fashion.table, x="learner", y="test_accuracy", errorbar="sd", ax=ax)
    sns.stripplot(fashion.table, x="learner", y="test_accuracy", color="black", size=4, ax=ax)
    low = fashion.table["test_accuracy"].min()
    ax.set(
        ylim=(max(0, low - 10), 100),
        title=f"{fashion.data.name}: test accuracy (mean ± sd over seeds)",
        xlabel="model",
        ylabel="test accuracy (%)",
    )
    fig.tight_layout()
    return fig


def hyperplane_explorer(circle: CircleRuns, key: str = "dlgn"):
    """(draw, epochs) for linstruct.book.widgets.explorer: one panel per layer at a chosen epoch."""
    run = circle.runs[key]
    epochs = sorted(run.snapshots.states)
    planes = {e: effective_hyperplanes(run.snapshots.at(e), 0) for e in epochs}
    losses = run.history[run.history["copy"] == 0].set_index("epoch")["train_loss"]

    def draw(axes, epoch):
        for layer, ax in enumerate(axes):
            draw_hyperplanes(
                ax,
                planes[epoch][layer],
                circle.data,
                f"layer {layer + 1}, epoch {epoch}\nMSE {losses.get(epoch, float('nan')):.3f}",
            )

    return draw, epochs
