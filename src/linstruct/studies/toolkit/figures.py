"""Chapter 0's figures: training curves and probes by layer, and the explorer's layer-by-layer panels."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import seaborn as sns
import torch

from linstruct.studies.toolkit.experiments import ProbedNetworks


def training_and_probes(results: Sequence[ProbedNetworks]) -> plt.Figure:
    """Left: test accuracy over epochs; right: probe test accuracy by layer; mean and sd over seeds."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for r, colour in zip(results, sns.color_palette()):
        history = r.history.assign(percent=100 * r.history["test_accuracy"])
        sns.lineplot(history, x="epoch", y="percent", errorbar="sd", ax=left, color=colour, label=r.data.name)
        probes = r.probes.assign(percent=100 * r.probes["test_accuracy"])
        sns.lineplot(
            probes,
            x="layer",
            y="percent",
            errorbar="sd",
            marker="o",
            ax=right,
            color=colour,
            label=f"{r.data.name}: probe",
        )
        right.axhline(100 * r.network_accuracy.mean(), ls="--", color=colour, label=f"{r.data.name}: network")
    n_seeds = results[0].model.copies
    left.set(title=f"Training ({n_seeds} seeds, mean ± sd)", xlabel="epoch", ylabel="test accuracy (%)")
    right.set(title="Linear probes by layer", xlabel="layer (0 = input)", ylabel="probe test accuracy (%)")
    right.set_xticks(sorted(results[0].probes["layer"].unique()))
    right.legend(fontsize="small")
    fig.tight_layout()
    return fig


def draw_layer(results: Sequence[ProbedNetworks], projections: Sequence[Sequence[torch.Tensor]]):
    """A drawing function for the explorer: one panel per dataset showing layer ``layer`` of the first
    seed's network (``projections[d]``: dataset d's per-layer (n, 2) projections)."""

    def draw(axes, layer: int) -> None:
        for ax, r, layers in zip(axes, results, projections):
            labels = r.data.y_test[: len(layers[layer])]
            ax.scatter(layers[layer][:, 0], layers[layer][:, 1], c=labels, cmap="tab10", s=6)
            probe = r.probes[(r.probes["layer"] == layer) & (r.probes["seed"] == r.model.seeds[0])]
            ax.set(
                title=f"{r.data.name}, layer {layer}: probe {100 * probe['test_accuracy'].item():.0f}%",
                xlabel="principal component 1",
                ylabel="principal component 2",
            )

    return draw
