"""Chapter 2, "Early separability": learnable masks that detach linearly separable features.

[Reconstructed] protocol (He et al., ICME 2022; only the abstract could be read; see
``linstruct.studies.early_separability.masks``). Per task and seed: an unmasked baseline; one variant-A masked run per
penalty lambda (masks frozen for a warm-up, then trained in their own Adam group); and, for
each masked run, a control with *random* fixed masks at the same per-layer fractions,
trained from scratch for the same epochs. Every masked run is measured with its linear path
ablated, physically pruned, and (MNIST-1D) probed per layer on all, detached and kept channels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

import linstruct.studies.early_separability.masks as mk
from linstruct.core.claims import Check, Claim, fraction_holding
from linstruct.data import Dataset, load_dataset
from linstruct.studies.early_separability.spec import SPEC, GRIDS, SHARE_TOP, SYNTHETIC_LINEAR_DIMS
from linstruct.nn.probes import layer_probe_accuracies, probe_accuracy
from linstruct.nn.training import evaluate, loss_for



def lambdas_of(config) -> list[float]:
    return [float(v) for v in config.lambdas.split(",")]


def seeds_of(config) -> list[int]:
    return list(range(config.seed, config.seed + config.n_seeds))


@dataclass
class Task:
    """A dataset with the maskable network and epochs used on it; ``role`` keys the glue."""

    role: str
    data: Dataset
    build: Callable[[], mk.MaskableNet]
    epochs: int
    probe: bool = False  # per-layer and subset probes (MNIST-1D)


def tasks(config) -> list[Task]:
    """MNIST-1D (CNN), the linear-plus-shells task and digits (MLPs), optionally Fashion-MNIST."""
    options = dict(mask_init=config.mask_init, estimator=config.estimator)
    mnist1d = load_dataset("mnist1d", n_train=config.n_train)
    shells = load_dataset("shells", n_train=config.n_train)
    digits = load_dataset("digits", n_train=config.n_train)

    def mlp(data: Dataset) -> Callable[[], mk.MaskableNet]:
        return lambda: mk.MaskableMLP(data.in_features, config.mlp_width, 3, data.num_classes, **options)

    out = [Task("mnist1d", mnist1d, lambda: mk.MaskableCNN1d(config.cnn_channels, 10, **options),
                config.cnn_epochs, probe=True),
           Task("shells", shells, mlp(shells), config.mlp_epochs),
           Task("digits", digits, mlp(digits), config.mlp_epochs)]
    if config.fashion:
        fashion = load_dataset("fashion-mnist", n_train=config.n_train, n_test=2000, fallback="digits")
        if not fashion.note:
            out.append(Task("fashion", fashion, mlp(fashion), config.mlp_epochs))
    return out


def accuracy(model: torch.nn.Module, data: Dataset) -> float:
    return evaluate(model, data.x_test, data.y_test, loss_for("classification"))["accuracy"]


@dataclass
class Study:
    """All runs on one task: ``runs`` has one row per (seed, kind, lam); ``probes`` one row per
    probed (seed, block, subset); ``models`` the learned masked models by (seed, lam)."""

    task: Task
    runs: pd.DataFrame
    probes: pd.DataFrame
    models: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.task.data.name


def _train(task: Task, config, seed: int, lam: float, fixed=None) -> mk.MaskableNet:
    torch.manual_seed(seed)
    model = task.build()
    if fixed is not None:
        model.fix_masks(fixed)
    recipe = mk.MaskRecipe(epochs=task.epochs, lr=config.lr, mask_lr=config.mask_lr, lam=lam,
                           warmup=config.warmup, batch_size=config.batch_size,
                           learn_masks=lam > 0 and fixed is None)
    return mk.train_masked(model, task.data, recipe, seed=seed)


def _row(model: mk.MaskableNet, task: Task, seed: int, kind: str, lam: float) -> dict:
    row = {"seed": seed, "kind": kind, "lam": lam, "accuracy": accuracy(model, task.data),
           "f": model.detached_fraction()}
    row.update({f"f_{l}": f for l, f in enumerate(model.detached_fractions())})
    return row


def _measure_learned(model: mk.MaskableNet, task: Task) -> dict:
    """Linear-path ablation (all blocks and each block), pruning and, for the shells task,
    the layer-1 weight share on the linear input dimensions."""
    data = task.data
    out = {"ablated": accuracy(mk.ablate_linear_path(model), data)}
    out.update({f"ablated_{l}": accuracy(mk.ablate_linear_path(model, [l]), data)
                for l in range(len(model.masks))})
    pruned = mk.prune(model)
    with torch.no_grad():
        out["max_logit_diff"] = float((pruned(data.x_test) - model(data.x_test)).abs().max())
    out["pruned_accuracy"] = accuracy(pruned, data)
    out["weights"], out["weights_pruned"] = mk.count_weights(model), mk.count_weights(pruned)
    out["weights_predicted_saving"] = mk.predicted_weight_saving(model)
    out["trunk_saving"] = mk.trunk_weight_saving(model)
    out["macs"], out["macs_pruned"] = mk.count_macs(model, data.x_test), mk.count_macs(pruned, data.x_test)
    out["macs_predicted_saving"] = mk.predicted_mac_saving(model, data.x_test)
    if task.role == "shells":
        out.update(layer_one_shares(model))
    return out


def layer_one_shares(model: mk.MaskableNet) -> dict:
    """F1b: share of layer-1 input-weight energy on the linear dims, for kept units (mean) and for
    the ``SHARE_TOP`` detached units with the largest classifier columns (median)."""
    share = mk.weight_share(model.blocks[0].weight.detach(), slice(0, SYNTHETIC_LINEAR_DIMS))
    keep = model.hard_masks()[0]
    usage = model.head.weight.detach()[:, model.head_segments()[0]].norm(dim=0)
    detached = torch.nonzero(~keep).squeeze(1)
    top = detached[usage[detached].argsort(descending=True)[:SHARE_TOP]]
    return {"share_kept": float(share[keep].mean()) if keep.any() else float("nan"),
            "share_detached_top": float(share[top].median()) if len(top) else float("nan")}


def _probe(model: mk.MaskableNet, task: Task, seed: int, kind: str) -> list[dict]:
    """All-channel probes of every block (and the input), or subset probes of the masked blocks."""
    data = task.data
    if kind == "baseline":
        table = layer_probe_accuracies(model, data)
        return [dict(r, seed=seed, kind=kind, subset="all") for r in table.to_dict("records")]
    with torch.no_grad():
        states = list(zip(model.hidden_states(data.x_train), model.hidden_states(data.x_test)))
    rows = []
    for block, keep in enumerate(model.hard_masks()):
        train_f, test_f = states[block]
        for subset, index in (("all", torch.arange(len(keep))), ("detached", torch.nonzero(~keep).squeeze(1)),
                              ("kept", torch.nonzero(keep).squeeze(1))):
            if len(index):
                acc = probe_accuracy(train_f[:, index], data.y_train, test_f[:, index], data.y_test,
                                     data.num_classes)
                rows.append({"layer": block + 1, "test_accuracy": acc, "seed": seed, "kind": kind,
                             "subset": subset, "channels": len(index)})
    return rows


def run_study(task: Task, config) -> Study:
    """Baseline, learned masks per lambda and random masks at the learned fractions, per seed."""
    rows, probes, models = [], [], {}
    for seed in seeds_of(config):
        baseline = _train(task, config, seed, 0.0)
        rows.append(_row(baseline, task, seed, "baseline", 0.0))
        if task.probe:
            probes += _probe(baseline, task, seed, "baseline")
        for lam in lambdas_of(config):
            learned = _train(task, config, seed, lam)
            rows.append(_row(learned, task, seed, "learned", lam) | _measure_learned(learned, task))
            models[seed, lam] = learned
            if task.probe and lam == max(lambdas_of(config)):
                probes += _probe(learned, task, seed, "learned")
            fixed = mk.random_masks_like(learned.hard_masks(), seed=1000 + seed)
            random = _train(task, config, seed, 0.0, fixed=fixed)
            rows.append(_row(random, task, seed, "random", lam))
    return Study(task, pd.DataFrame(rows), pd.DataFrame(probes), models)


# ---------------------------------------------------------------- tables


def summary_table(study: Study) -> pd.DataFrame:
    """Mean over seeds per (kind, lam): accuracy (%), detached fractions, ablated accuracy (%)."""
    runs = study.runs.copy()
    for column in ("accuracy", "ablated"):
        if column in runs:
            runs[column] = 100 * runs[column]
    columns = [c for c in runs.columns if c in ("accuracy", "f", "ablated") or c.startswith("f_")]
    return runs.groupby(["kind", "lam"])[columns].mean().round(3).reset_index()


def paired(study: Study, lam: float) -> pd.DataFrame:
    """Per seed at ``lam``: baseline, learned, random and ablated accuracy (%), overall f."""
    runs = study.runs.set_index("seed")
    learned = runs[(runs["kind"] == "learned") & (runs["lam"] == lam)]
    random = runs[(runs["kind"] == "random") & (runs["lam"] == lam)]
    baseline = runs[runs["kind"] == "baseline"]
    return pd.DataFrame({"baseline": 100 * baseline["accuracy"], "learned": 100 * learned["accuracy"],
                         "random": 100 * random["accuracy"], "ablated": 100 * learned["ablated"],
                         "f": learned["f"], "max_f_l": learned.filter(like="f_").max(axis=1)})


# ---------------------------------------------------------------- claims

SEED_SHARE, PARTLY_SEED_SHARE = 0.8, 0.5


def _share_check(name: str, flags) -> tuple[float, Check]:
    share = fraction_holding(list(flags))
    return share, Check.at_least(f"share of seeds: {name}", share, SEED_SHARE, PARTLY_SEED_SHARE)


def early_claim(studies: dict[str, Study]) -> Claim:
    """F1: some layer detaches >= 25% of its units at <= 1 point cost (MNIST-1D, shells); on the
    synthetic task the kept layer-1 units ignore the linear dims and the used detached units read
    them; zeroing the linear path costs >= 5 points where f >= 0.7."""
    measured, checks = {}, []
    for role in ("mnist1d", "shells"):
        study = studies[role]
        early = pd.concat([(p["max_f_l"] >= 0.25) & (p["baseline"] - p["learned"] <= 1.0)
                           for p in (paired(study, lam) for lam in lambdas_of_study(study))], axis=1)
        flags = early.any(axis=1)
        measured[f"seeds_early_{role}"], check = _share_check(
            f"{role}: some layer with f_l >= 0.25 at a drop <= 1 pt", flags)
        checks.append(check)
        high = paired(study, study.runs["lam"].max())
        measured[f"ablation_cost_{role}"] = float((high["learned"] - high["ablated"]).mean())
        measured[f"f_high_{role}"] = float(high["f"].mean())
        if high["f"].mean() >= 0.7:
            checks.append(Check.at_least(f"{role}: mean cost of zeroing the linear path at f >= 0.7 (pt)",
                                         measured[f"ablation_cost_{role}"], 5.0, 2.0))
    shells = studies["shells"]
    low = shells.runs[(shells.runs["kind"] == "learned") & (shells.runs["lam"] == lambdas_of_study(shells)[0])]
    measured["share_kept"] = float(low["share_kept"].mean())
    measured["share_detached_top"] = float(low["share_detached_top"].mean())
    checks.append(Check.at_most("shells, layer 1: mean linear-dim weight share of kept units",
                                measured["share_kept"], 0.05, 0.15))
    checks.append(Check.at_least("shells, layer 1: median share of the top-10 detached units",
                                 measured["share_detached_top"], 0.5, 0.3))
    measured["shells_deeper_more_detached"] = fraction_holding(list(low["f_1"] > low["f_0"]))
    return Claim(
        id="f1_early_separable",
        statement="Some features reach the linearly separable space earlier than the others and can be "
                  "detached partly from the network.",
        criterion="in >= 80% of seeds (partly 50%) some masked layer detaches >= 25% of its units at <= 1 point "
                  "below the baseline; zeroing the detached path costs >= 5 points (partly 2) where f >= 0.7; "
                  "synthetic layer 1: kept units' linear-dim share <= 0.05, top-10 detached units' median >= 0.5",
        measured=measured, checks=checks, source="abstract [Paper]; criteria [Reconstructed] from our pilot",
    )


def detachment_claim(studies: dict[str, Study]) -> Claim:
    """F2: accuracy stays within 1 point at some f >= 0.3 and within 2.5 points at some f >= 0.7, and
    learned masks beat random masks at the same fractions by >= 1.5 points where f >= 0.7."""
    measured, checks = {}, []
    for role in ("mnist1d", "shells"):
        study = studies[role]
        per_lam = [(lam, paired(study, lam)) for lam in lambdas_of_study(study)]
        for bound, drop in ((0.3, 1.0), (0.7, 2.5)):
            drops = [float((p["baseline"] - p["learned"]).mean()) for lam, p in per_lam if p["f"].mean() >= bound]
            key = f"drop_at_f{int(10 * bound)}_{role}"
            measured[key] = min(drops) if drops else float("nan")
            if drops:
                checks.append(Check.at_most(f"{role}: smallest mean drop at f >= {bound:g} (pt)",
                                            measured[key], drop, 2 * drop))
            else:
                checks.append(Check(f"{role}: no penalty reached a mean f >= {bound:g}", False))
        lam, high = per_lam[-1]
        gap = float((high["learned"] - high["random"]).mean())
        measured[f"learned_minus_random_high_{role}"] = gap
        measured[f"seeds_learned_beats_random_{role}"] = fraction_holding(list(high["learned"] > high["random"]))
        if high["f"].mean() >= 0.7:
            checks.append(Check.at_least(f"{role}: learned minus random masks at f >= 0.7 (pt)", gap, 1.5, 0.0))
        low = per_lam[0][1]
        measured[f"learned_minus_random_low_{role}"] = float((low["learned"] - low["random"]).mean())
    return Claim(
        id="f2_detachment_cheap",
        statement="Partial feature detachment barely affects the model's performance.",
        criterion="mean accuracy within 1 point (partly 2) of the baseline at some mean f >= 0.3 and within "
                  "2.5 points (partly 5) at some f >= 0.7; learned masks beat random masks at equal per-layer "
                  "fractions by >= 1.5 points where f >= 0.7 (partly: by > 0)",
        measured=measured, checks=checks, source="abstract [Paper]; criteria [Reconstructed] from our pilot",
    )


def lambdas_of_study(study: Study) -> list[float]:
    return sorted(study.runs.loc[study.runs["kind"] == "learned", "lam"].unique())


def pruning_claim(studies: dict[str, Study]) -> Claim:
    """F3: pruned logits equal masked logits (< 1e-4), accuracy equal within 0.1 pt, and the weight
    and MAC savings equal the predicted formula, in every run."""
    learned = pd.concat([s.runs[s.runs["kind"] == "learned"] for s in studies.values()])
    weights_ok = (learned["weights"] - learned["weights_pruned"] == learned["weights_predicted_saving"])
    macs_ok = (learned["macs"] - learned["macs_pruned"] == learned["macs_predicted_saving"])
    accuracy_gap = 100 * (learned["accuracy"] - learned["pruned_accuracy"]).abs().max()
    mnist = studies["mnist1d"].runs
    high = mnist[(mnist["kind"] == "learned") & (mnist["lam"] == mnist["lam"].max())]
    measured = {"max_logit_diff": float(learned["max_logit_diff"].max()), "max_accuracy_gap": float(accuracy_gap),
                "runs_counts_exact": float(fraction_holding(list(weights_ok & macs_ok))),
                "weight_saving_mnist1d": float((1 - high["weights_pruned"] / high["weights"]).mean()),
                "trunk_saving_mnist1d": float((high["trunk_saving"] / high["weights"]).mean()),
                "mac_saving_mnist1d": float((1 - high["macs_pruned"] / high["macs"]).mean()),
                "accuracy_mnist1d": float(100 * high["accuracy"].mean())}
    checks = [Check.at_most("largest |pruned - masked| logit difference", measured["max_logit_diff"], 1e-4),
              Check.at_most("largest |pruned - masked| accuracy difference (pt)", measured["max_accuracy_gap"], 0.1),
              Check.at_least("share of runs whose weight and MAC savings equal the formula",
                             measured["runs_counts_exact"], 1.0)]
    return Claim(
        id="f3_pruning_exact",
        statement="The method provides a readily feasible pruning strategy which barely affects the "
                  "performance of the original model.",
        criterion="physically removing detached channels changes no logit by >= 1e-4 and no accuracy by > 0.1 "
                  "points, and saves exactly the predicted weights and multiply-accumulates, in every masked run",
        measured=measured, checks=checks, source="abstract [Paper]; exactness [Reconstructed]",
    )


def probe_claim(study: Study) -> Claim:
    """P1/P2 (soft): all-channel probes do not decrease from block 1 on; detached-channel probes keep
    >= 90% of their block's all-channel probe accuracy."""
    base = study.probes[(study.probes["kind"] == "baseline") & (study.probes["layer"] >= 2)]
    monotone = [bool(np.all(np.diff(g.sort_values("layer")["test_accuracy"].to_numpy()) >= -0.005))
                for _, g in base.groupby("seed")]
    learned = study.probes[study.probes["kind"] == "learned"].pivot_table(
        index=["seed", "layer"], columns="subset", values="test_accuracy").reindex(columns=["all", "detached", "kept"])
    ratio = (learned["detached"] / learned["all"]).dropna()
    measured = {"seeds_monotone": fraction_holding(monotone), "detached_over_all": float(ratio.mean()),
                "kept_over_all": float((learned["kept"] / learned["all"]).dropna().mean())}
    checks = [Check.at_least("share of seeds with probes non-decreasing from block 1 (0.5 pt slack)",
                             measured["seeds_monotone"], SEED_SHARE, PARTLY_SEED_SHARE),
              Check.at_least("mean detached-channel / all-channel probe accuracy", ratio.mean(), 0.9, 0.75)]
    return Claim(
        id="p_probes",
        statement="(Our addition, not the paper's) Linear decodability grows with depth, and the channels the "
                  "mask detaches are themselves linearly informative.",
        criterion="MNIST-1D: all-channel probes non-decreasing from block 1 to the last block in >= 80% of seeds "
                  "(partly 50%); detached-channel probes reach >= 90% (partly 75%) of the all-channel probe",
        measured=measured, checks=checks, source="Alain & Bengio probes [Related]; criteria [Reconstructed]",
    )


# ---------------------------------------------------------------- figures


def probe_figure(study: Study) -> plt.Figure:
    """Left: all-channel probe accuracy by block (baseline); right: detached fraction by block."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    base = study.probes[study.probes["kind"] == "baseline"].assign(
        percent=lambda t: 100 * t["test_accuracy"])
    sns.lineplot(base, x="layer", y="percent", marker="o", errorbar="sd", ax=left, label="baseline, all channels")
    learned = study.probes[study.probes["kind"] == "learned"].assign(percent=lambda t: 100 * t["test_accuracy"])
    for subset, style in (("detached", "--"), ("kept", ":")):
        sns.lineplot(learned[learned["subset"] == subset], x="layer", y="percent", marker="s", errorbar="sd",
                     ax=left, ls=style, label=f"masked (λ = {lambdas_of_study(study)[-1]:g}), {subset} channels")
    left.axhline(100 * study.runs.loc[study.runs["kind"] == "baseline", "accuracy"].mean(), color="grey", ls="-.",
                 label="baseline network")
    left.set(title=f"{study.name}: linear probes by block", xlabel="block (0 = raw input)",
             ylabel="probe test accuracy (%)")
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
    ax.set(title=f"{study.name}: detached share by masked block", xlabel="masked block",
           ylabel="detached fraction f_l")
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
        ax.axhline(100 * runs.loc[runs["kind"] == "baseline", "accuracy"].mean(), ls="--", color="grey",
                   label="baseline (mean)")
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
            grid = torch.stack([~m for m in model.hard_masks()]).float().numpy()
            ax.imshow(grid, aspect="auto", cmap="Oranges", vmin=0, vmax=1.4, interpolation="nearest")
            ax.set_yticks(range(len(grid)), [f"{l + 1}" for l in range(len(grid))])
            ax.set(title=f"{study.name}, λ = {lam:g}: {100 * runs.loc['learned', 'accuracy']:.1f}% "
                         f"(random {100 * runs.loc['random', 'accuracy']:.1f}%)",
                   xlabel="unit / channel index (dark = detached)", ylabel="masked layer")
            ax.grid(False)
    return draw
