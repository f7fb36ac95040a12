"""Chapter 2's figures: probes and detached fractions, the accuracy/detachment trade-off, and the
explorer's mask panels."""

from __future__ import annotations

import matplotlib.pyplot as plt
import seaborn as sns
import torch

from linstruct.studies.early_separability.experiments import Study


def probe_figure(study: Study) -> plt.Figure:
    """Left: all-channel probe accuracy by block (baseline), and detached/kept-channel probes of the
    learned runs at the largest penalty; right: detached fraction by block."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    base = study.probes[study.probes["kind"] == "baseline"].assign(percent=lambda t: 100 * t["test_accuracy"])
    sns.lineplot(base, x="layer", y="percent", marker="o", errorbar="sd", ax=left, label="baseline, all channels")
    learned = study.probes[study.probes["kind"] == "learned"].assign(percent=lambda t: 100 * t["test_accuracy"])
    for subset, style in (("detached", "--"), ("kept", ":")):
        sns.lineplot(
            learned[learned["subset"] == subset],
            x="layer",
            y="percent",
            marker="s",
            errorbar="sd",
            ax=left,
            ls=style,
            label=f"masked (λ = {study.penalties[-1]:g}), {subset} channels",
        )
    left.axhline(
        100 * study.runs.loc[study.runs["kind"] == "baseline", "accuracy"].mean(),
        color="grey",
        ls="-.",
        label="baseline network",
    )
    left.set(
        title=f"{study.name}: linear probes by block", xlabel="block (0 = raw input)", ylabel="probe test accuracy (%)"
    )
    left.legend(fontsize="x-small")
    _fractions_panel(right, study)
    fig.tight_layout()
    return fig


def _fractions_panel(ax: plt.Axes, study: Study) -> None:
    learned = study.runs[study.runs["kind"] == "learned"]
    columns = sorted(c for c in learned.columns if c.startswith("f_"))
    long = learned.melt(id_vars=["seed", "lam"], value_vars=columns, var_name="block", value_name="fraction")
    long["block"] = long["block"].str[2:].astype(int) + 1
    sns.barplot(long, x="block", y="fraction", hue="lam", errorbar="sd", ax=ax, palette="crest")
    ax.set(title=f"{study.name}: detached share by masked block", xlabel="masked block", ylabel="detached fraction f_l")
    ax.legend(title="λ", fontsize="small")


def tradeoff_figure(studies: dict[str, Study]) -> plt.Figure:
    """Accuracy against overall detached fraction: learned masks, random masks at the same
    fractions, learned with the linear path zeroed; baseline as a dashed line. One panel per task."""
    fig, axes = plt.subplots(1, len(studies), figsize=(4.4 * len(studies), 3.8), squeeze=False)
    for ax, study in zip(axes[0], studies.values()):
        runs = study.runs
        learned = runs[runs["kind"] == "learned"]
        random = runs[runs["kind"] == "random"]
        ax.scatter(learned["f"], 100 * learned["accuracy"], label="learned masks", marker="o")
        ax.scatter(random["f"], 100 * random["accuracy"], label="random masks, same f_l", marker="x")
        ax.scatter(learned["f"], 100 * learned["ablated"], label="learned, linear path zeroed", marker="v")
        ax.axhline(
            100 * runs.loc[runs["kind"] == "baseline", "accuracy"].mean(),
            ls="--",
            color="grey",
            label="baseline (mean)",
        )
        ax.set(title=study.name, xlabel="detached fraction f (all masked units)", ylabel="test accuracy (%)")
    axes[0][0].legend(fontsize="x-small")
    fig.suptitle("Accuracy against detached fraction (one point per seed and λ)")
    fig.tight_layout()
    return fig


def draw_masks(studies: dict[str, Study], seed: int):
    """For the explorer: one panel per task showing which units of each masked layer detach at
    penalty ``lam`` (seed ``seed``), titled with the learned and random-mask accuracy."""

    def draw(axes, lam: float) -> None:
        for ax, study in zip(axes, studies.values()):
            runs = study.runs[(study.runs["seed"] == seed) & (study.runs["lam"] == lam)].set_index("kind")
            model = study.models[seed, lam]
            grid = torch.stack([~m[0] for m in model.hard_masks()]).float().cpu().numpy()
            ax.imshow(grid, aspect="auto", cmap="Oranges", vmin=0, vmax=1.4, interpolation="nearest")
            ax.set_yticks(range(len(grid)), [f"{l + 1}" for l in range(len(grid))])
            ax.set(
                title=f"{study.name}, λ = {lam:g}: {100 * runs.loc['learned', 'accuracy']:.1f}% "
                f"(random {100 * runs.loc['random', 'accuracy']:.1f}%)",
                xlabel="unit / channel index (dark = detached)",
                ylabel="masked layer",
            )
            ax.grid(False)

    return draw
