"""Chapter 4's figures and the spirals explorer's draw function (glued with
:func:`linstruct.book.plotting.glue_figure` in the notebook)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from linstruct.data import Dataset
from linstruct.studies.md_lsm.claims import INTERVENTIONAL_MIN
from linstruct.studies.md_lsm.experiments import TrackedRun, hidden_states_at, labels_of, last_layer_row


def curves_figure(runs: list[TrackedRun]) -> plt.Figure:
    """Top: training accuracy; bottom: OvO rho_P of each hidden layer; one column per run."""
    fig, axes = plt.subplots(2, len(runs), figsize=(4.2 * len(runs), 6.0), sharex="col", squeeze=False)
    for column, run in enumerate(runs):
        top, bottom = axes[0, column], axes[1, column]
        first = run.tracking.layer(1)
        top.plot(first["step"], 100 * first["train_accuracy"], color="black", label="train")
        top.plot(first["step"], 100 * first["test_accuracy"], color="grey", ls="--", label="test")
        top.set(title=f"{run.activation}: accuracy", ylabel="accuracy (%)")
        top.legend(fontsize="small")
        for layer in range(1, run.tracking.depth + 1):
            h = run.tracking.layer(layer)
            bottom.plot(h["step"], h["rho"], label=f"layer {layer}")
        bottom.set(
            title=rf"{run.activation}: OvO mean $\rho_P$", xlabel="SGD step", ylabel=r"$\rho_P$ (fraction of pairs)"
        )
        bottom.legend(fontsize="small")
        top.set_xlabel("SGD step")
    fig.tight_layout()
    return fig


def changes_figure(runs: list[TrackedRun], table: pd.DataFrame) -> plt.Figure:
    """Per-interval change of rho_L against change of training accuracy, coloured by step."""
    fig, axes = plt.subplots(1, len(runs), figsize=(4.4 * len(runs), 3.8), squeeze=False)
    for ax, run in zip(axes[0], runs):
        h = run.last
        d_acc, d_rho = np.diff(h["train_accuracy"]), np.diff(h["rho"])
        points = ax.scatter(100 * d_acc, d_rho, c=h["step"].iloc[1:], cmap="viridis", s=14)
        ax.axhline(0, color="black", lw=0.6)
        ax.axvline(0, color="black", lw=0.6)
        row = last_layer_row(table, run)
        ax.set(
            title=rf"{run.activation}, layer {run.tracking.depth}: $\phi$ = {row['phi']:.2f}, "
            rf"detrended $r_s$ = {row['detrended_spearman']:.2f}",
            xlabel="change of training accuracy (points)",
            ylabel=r"change of $\rho_P$",
        )
        fig.colorbar(points, ax=ax, label="SGD step")
    fig.tight_layout()
    return fig


def interventions_figure(runs: list[TrackedRun], inter: pd.DataFrame) -> plt.Figure:
    """Left: candidate steps at the latest interventional checkpoint; right: Spearman per layer and step."""
    run = next(r for r in runs if len(r.tracking.interventions))
    frame = run.tracking.interventions
    step = frame["step"].max()
    last = frame[(frame["step"] == step) & (frame["layer"] == run.tracking.depth)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.scatter(last["d_rho"], 100 * last["d_accuracy"], s=18)
    left.set(
        title=f"{run.activation}: {len(last)} alternative steps from step {step}",
        xlabel=rf"change of $\rho_P$, layer {run.tracking.depth}",
        ylabel="change of training accuracy (points)",
    )
    for (activation, layer), group in inter.groupby(["activation", "layer"]):
        right.plot(group["step"], group["spearman"], marker="o", label=f"{activation}, layer {layer}")
    right.axhline(INTERVENTIONAL_MIN, color="grey", ls=":", label=f"criterion {INTERVENTIONAL_MIN:g}")
    right.set(
        title=r"Interventional Spearman($\Delta\rho_P$, $\Delta$accuracy)",
        xlabel="SGD step of the saved state",
        ylabel="Spearman correlation",
    )
    right.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def layers_figure(runs: list[TrackedRun], input_rho: float) -> plt.Figure:
    """Final OvO rho_P by layer (0 = input) for every activation, and at initialisation (dotted)."""
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for run in runs:
        start = run.tracking.history[run.tracking.history["step"] == 0].sort_values("layer")["rho"]
        layers = np.arange(run.tracking.depth + 1)
        (line,) = ax.plot(layers, [input_rho, *run.tracking.final_rho()], marker="o", label=f"{run.activation}, end")
        ax.plot(layers, [input_rho, *start], ls=":", color=line.get_color(), label=f"{run.activation}, start")
    ax.set(title="Separability by layer", xlabel="layer (0 = input)", ylabel=r"OvO mean $\rho_P$")
    ax.set_xticks(layers)
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    return fig


def widths_figure(widths: pd.DataFrame) -> plt.Figure:
    """rho_L against width for the trained tanh nets: in-sample, held-out, shuffled, shuffled held-out."""
    samples = ("all", "small")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, sample in zip(axes, samples):
        part = widths[(widths["stage"] == "trained") & (widths["sample"] == sample)]
        for column, style in (("in_sample", "-"), ("heldout", "--"), ("shuffled", "-"), ("shuffled_heldout", "--")):
            ax.plot(part["width"], part[column], ls=style, marker="o", label=column.replace("_", " "))
        per_pair = int(part["per_pair"].iloc[0])
        ax.axvline(per_pair, color="grey", ls=":", label=f"width = per-pair sample ({per_pair})")
        ax.set_xscale("log", base=2)
        ax.set(
            title=f"Last hidden layer, {per_pair} points per class pair",
            xlabel="width (units)",
            ylabel=r"OvO mean $\rho_P$",
        )
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def pairs_figure(run: TrackedRun, num_classes: int) -> plt.Figure:
    """K x K pairwise rho_P of the last hidden layer at the start, middle and end of training."""
    steps = run.last["step"].to_numpy()
    picks = [0, len(steps) // 2, len(steps) - 1]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    layer = run.tracking.depth - 1
    for ax, index in zip(axes, picks):
        matrix = np.full((num_classes, num_classes), np.nan)
        for (i, j), value in zip(run.tracking.pairs, run.tracking.pair_rho[index, layer]):
            matrix[i, j] = matrix[j, i] = value
        image = ax.imshow(matrix, vmin=0.5, vmax=1.0, cmap="magma")
        ax.set(title=f"{run.activation}, step {steps[index]}", xlabel="class j", ylabel="class i")
        ax.set_xticks(range(num_classes))
        ax.set_yticks(range(num_classes))
        ax.grid(False)
    fig.colorbar(image, ax=axes, label=r"$\rho_P(i, j)$")
    return fig


def spiral_drawer(run: TrackedRun, data: Dataset, *, width: int, seed: int):
    """``draw(axes, checkpoint)`` for the explorer: each hidden layer of the spirals net in its 2-D
    discriminant projection, coloured by class, with that layer's OvO rho_P in the title."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    steps = run.last["step"].to_numpy()
    labels = labels_of(data)

    def draw(axes, index: int) -> None:
        states = hidden_states_at(run, data, index, width=width, seed=seed)
        for layer, (ax, h) in enumerate(zip(axes, states), start=1):
            projected = LinearDiscriminantAnalysis(n_components=2).fit_transform(h.cpu().double().numpy(), labels)
            ax.scatter(projected[:, 0], projected[:, 1], c=labels, cmap="viridis", s=5)
            rho = run.tracking.layer(layer)["rho"].iloc[index]
            ax.set(
                title=rf"step {steps[index]}, layer {layer}: $\rho_P$ = {rho:.3f}",
                xlabel="discriminant 1",
                ylabel="discriminant 2",
            )

    return draw
