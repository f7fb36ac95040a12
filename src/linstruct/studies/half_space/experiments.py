"""Chapter 1, "Half-space features": Deep Linearly Gated Networks (Yadav et al., arXiv 2404.04312).

Experiments (the study brief's E1-E6): learners on the circle data (ReLU, deep linear net,
DLGN, DLGN with frozen gating, DLGN-SF), overlap kernel and NTK over training, smooth-region
allocation, gating hyperplanes and their clustering, a beta sweep of frozen versus learned
gating with hard-gate evaluation, and DLGN versus ReLU on a Fashion-MNIST subset.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from linstruct.core.claims import Check, Claim, fraction_holding
from linstruct.data import Dataset, load_dataset
from linstruct.studies.half_space.gated import GatedNet, path_sum, steps_to_sustained
from linstruct.studies.half_space.gated_training import TrainedStack, evaluate_copies, train_stack
from linstruct.studies.half_space.hyperplanes import clustering_table, effective_hyperplanes
from linstruct.studies.half_space.kernels import block_ratio, empirical_ntk, overlap_kernel, relative_change, trace_normalise
from linstruct.studies.half_space.spec import SPEC, BETA_GRIDS, THRESHOLD, PATIENCE, LEARNERS, FMNIST_LEARNERS, EARLY_EPOCH, HEATMAP_STRIDE



def seeds_of(config) -> list[int]:
    return list(range(config.seed, config.seed + config.n_seeds))


def sweep_betas(config) -> list[float]:
    return [float(b) for b in config.sweep_betas.split(",")]


def snapshot_epochs(epochs: int) -> list[int]:
    """Epochs with saved parameters: 0-3, every 5th and the last."""
    return sorted({e for e in (0, 1, 2, EARLY_EPOCH, epochs) if e <= epochs} | set(range(0, epochs + 1, 5)))


def kernel_epochs(epochs: int) -> list[int]:
    """Roughly log-spaced snapshot epochs where the overlap kernel is measured."""
    grid = {0, 1, 2, EARLY_EPOCH, epochs} | {e for e in (5, 10, 20, 40, 80, 160, 320, 640, 1280) if e < epochs}
    return sorted(e for e in grid if e <= epochs)


def total_steps(config) -> int:
    """Optimiser steps of one circle run: epochs x minibatches per epoch."""
    return config.epochs * math.ceil(config.n_points / min(config.batch_size, config.n_points))


def circle_data(config) -> Dataset:
    return load_dataset("circle", n=config.n_points, a=config.a, b=config.b)


def build(key: str, config, in_features: int = 2, out_features: int = 1, width: int | None = None,
          seeds=None, beta=None) -> GatedNet:
    family, regime, _ = LEARNERS[key]
    return GatedNet(family, in_features, width or config.width, config.depth, out_features,
                    seeds=seeds or seeds_of(config), beta=config.beta if beta is None else beta,
                    value_input=config.value_input, regime=regime, bias=config.bias,
                    gate_init_scale=config.gate_init_scale)


# ---------------------------------------------------------------- F1: the path sum
def path_identity_errors(seed: int = 0) -> dict[str, float]:
    """Max relative error |path sum - forward| / (1 + |forward|) on tiny float64 nets (d = 2, m = 3,
    L = 3, 27 paths, 64 inputs), for ReLU, DLGN (pwc, pwl; soft and hard gates)."""
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    cases = {"relu": ("relu", "pwc", False), "dlgn_pwc_soft": ("dlgn", "pwc", False),
             "dlgn_pwc_hard": ("dlgn", "pwc", True), "dlgn_pwl_soft": ("dlgn", "pwl", False)}
    errors = {}
    for name, (family, value_input, hard) in cases.items():
        model = GatedNet(family, 2, 3, 3, seeds=(seed,), value_input=value_input, dtype=torch.float64)
        forward = model(x, hard=hard)[0, :, 0].detach()
        errors[name] = float(((path_sum(model, x, hard) - forward).abs() / (1 + forward.abs())).max())
    return errors


def path_claim(errors: dict[str, float]) -> Claim:
    worst = max(errors.values())
    return Claim(
        id="path_sum_identity",
        statement="Neural networks can be viewed as a mixture of experts, where each expert corresponds to a "
                  "(number of layers length) path through a sequence of hidden units.",
        criterion="network output = explicit sum over all m^L paths of gate product x path value, max "
                  "relative error <= 1e-10 (float64), for ReLU and DLGN (pwc, pwl, soft and hard gates)",
        measured={"max_relative_error": worst},
        checks=[Check.at_most("max relative error", worst, 1e-10)],
        source="abstract; Theorem 1's form [Reconstructed]",
    )


# ---------------------------------------------------------------- E1: learners on the circle
@dataclass
class CircleRuns:
    data: Dataset
    runs: dict[str, TrainedStack]
    config: dict

    @property
    def top_mask(self) -> torch.Tensor:
        """(n,) bool: points on the smooth upper half, theta < pi (the data are sorted by angle)."""
        n = len(self.data.x_train)
        return torch.arange(n) < n / 2


def train_circle(config, keys=tuple(LEARNERS)) -> CircleRuns:
    """Train each learner in ``keys`` over the chapter's seeds (stacked) on the circle data."""
    data = circle_data(config)
    runs = {}
    for key in keys:
        runs[key] = train_stack(build(key, config), data.x_train, data.y_train, task="regression",
                                epochs=config.epochs, lr=config.lr, batch_size=config.batch_size, seed=config.seed,
                                snapshot_epochs=snapshot_epochs(config.epochs))
    return CircleRuns(data, runs, dict(config))


def learning_table(circle: CircleRuns) -> pd.DataFrame:
    """Per learner and seed: final full-data MSE, hard-gate MSE, steps to sustained MSE < 0.01."""
    rows = []
    for key, run in circle.runs.items():
        hard = evaluate_copies(run.model, circle.data.x_train, circle.data.y_train, "regression", hard=True)["loss"]
        for i, (seed, h) in enumerate(run.history.groupby("seed", sort=False)):
            rows.append({"learner": LEARNERS[key][2], "key": key, "seed": seed, "final_mse": h["loss"].iloc[-1],
                         "hard_gate_mse": float(hard[i]),
                         "steps_to_0.01": steps_to_sustained(h["loss"].tolist(), h["step"].tolist(), THRESHOLD,
                                                             PATIENCE)})
    return pd.DataFrame(rows)


def learns_claim(table: pd.DataFrame, total_steps: int) -> Claim:
    by = table.groupby("key")
    dlgn_hits = fraction_holding([s <= total_steps for s in by.get_group("dlgn")["steps_to_0.01"]])
    relu_final = float(by.get_group("relu")["final_mse"].median())
    dln_min = float(by.get_group("dln")["final_mse"].min())
    dlgn_final = float(by.get_group("dlgn")["final_mse"].median())
    return Claim(
        id="dlgn_learns",
        statement="Unlike deep linear networks, the DLGN is capable of learning non-linear features; "
                  "it sits midway between deep linear networks and ReLU networks.",
        criterion=f"DLGN reaches full-data MSE < {THRESHOLD} (sustained {PATIENCE} epochs) in >= 2/3 of seeds; "
                  "ReLU median final MSE < 0.01; the deep linear net stays above 0.25 in every seed",
        measured={"dlgn_seeds_converged": dlgn_hits, "dlgn_median_final_mse": dlgn_final,
                  "relu_median_final_mse": relu_final, "dln_min_final_mse": dln_min},
        checks=[Check.at_least("share of DLGN seeds converged", dlgn_hits, 2 / 3 - 1e-9, 1 / 3 - 1e-9),
                Check.at_most("ReLU median final MSE", relu_final, THRESHOLD),
                Check.at_least("deep linear net min final MSE", dln_min, 0.25)],
        source="abstract",
    )


def frozen_claim(table: pd.DataFrame, beta: float) -> Claim:
    learned = table[table["key"] == "dlgn"].set_index("seed")["final_mse"]
    frozen = table[table["key"] == "frozen"].set_index("seed")["final_mse"]
    holds = fraction_holding([(frozen[s] > 0.1) and (learned[s] < THRESHOLD) for s in learned.index])
    return Claim(
        id="frozen_gating_stalls",
        statement="DLGN models with fixed gating take more than 2000 iterations to converge to loss 0.01 "
                  "(feature learning happens, and it is what makes the DLGN fit).",
        criterion=f"per seed, at beta = {beta:g} and the end of training: frozen-gating MSE > 0.1 while "
                  "learned gating < 0.01; in every seed (partly: half)",
        measured={"seeds_holding": holds, "frozen_median_final_mse": float(frozen.median()),
                  "learned_median_final_mse": float(learned.median())},
        checks=[Check.at_least("share of seeds holding", holds, 1.0, 0.5)],
        source="figure 2 caption as listed on a summary site [Summary]; the abstract's 'feature learning in "
               "DLGNs is shown to happen'",
    )


# ---------------------------------------------------------------- E2/E3: kernels
def hard_overlap(model: GatedNet, x: torch.Tensor, index: int) -> torch.Tensor:
    """Trace-normalised hard-gate overlap kernel of copy ``index``: (n, n) float64."""
    return trace_normalise(overlap_kernel([g[index] for g in model.gates(x, hard=True)]))


@torch.no_grad()
def overlap_over_training(circle: CircleRuns, keys=("dlgn", "frozen", "sf", "relu")) -> pd.DataFrame:
    """Per learner, seed and kernel epoch: top and bottom block means of the hard overlap kernel,
    their ratio R, R / R_0, and the relative Frobenius change of the kernel from initialisation."""
    x, top = circle.data.x_train, circle.top_mask
    rows = []
    for key in keys:
        run = circle.runs[key]
        initial = {}
        for epoch in kernel_epochs(int(run.history["epoch"].max())):
            model = run.at(epoch)
            for i, seed in enumerate(model.seeds):
                omega = hard_overlap(model, x, i)
                if epoch == 0:
                    initial[seed] = omega
                top_mean, bottom_mean, ratio = block_ratio(omega, top)
                rows.append({"learner": LEARNERS[key][2], "key": key, "seed": seed, "epoch": epoch,
                             "top_mean": top_mean, "bottom_mean": bottom_mean, "R": ratio,
                             "change": relative_change(initial[seed], omega)})
    table = pd.DataFrame(rows)
    r0 = table[table["epoch"] == 0].set_index(["key", "seed"])["R"]
    table["R_over_R0"] = [r / r0[(k, s)] for k, s, r in zip(table["key"], table["seed"], table["R"])]
    return table


def last_rows(table: pd.DataFrame, key: str) -> pd.DataFrame:
    part = table[table["key"] == key]
    return part[part["epoch"] == part["epoch"].max()].set_index("seed")


def first_rows(table: pd.DataFrame, key: str) -> pd.DataFrame:
    part = table[table["key"] == key]
    return part[part["epoch"] == 0].set_index("seed")


def kernel_change_claim(overlap: pd.DataFrame, ntk_change: dict[str, float]) -> Claim:
    learned, frozen = last_rows(overlap, "dlgn")["change"], last_rows(overlap, "frozen")["change"]
    holds = fraction_holding([(learned[s] >= 0.3) and (frozen[s] == 0.0) for s in learned.index])
    return Claim(
        id="overlap_kernel_changes",
        statement="Feature learning in DLGNs is shown to happen (the overlap kernel of active paths changes "
                  "in training; a kernel method would keep it fixed).",
        criterion="per seed: relative Frobenius change of the trace-normalised hard overlap kernel >= 0.3 "
                  "with learned gating and exactly 0 with frozen gating; every seed (partly: half). "
                  "NTK change reported only (it also moves when only value weights train)",
        measured={"seeds_holding": holds, "learned_median_change": float(learned.median()),
                  "frozen_max_change": float(frozen.max()), **{f"ntk_change_{k}": v for k, v in ntk_change.items()}},
        checks=[Check.at_least("share of seeds holding", holds, 1.0, 0.5)],
        source="abstract; the overlap kernel's definition [Reconstructed]",
    )


def allocation_claim(overlap: pd.DataFrame) -> Claim:
    first, last = first_rows(overlap, "dlgn"), last_rows(overlap, "dlgn")
    gain = last["R_over_R0"]
    bottom_down = last["bottom_mean"] < first["bottom_mean"]
    holds = fraction_holding([(gain[s] >= 1.5) and bool(bottom_down[s]) for s in gain.index])
    return Claim(
        id="smooth_region_allocation",
        statement="The mechanism is learning half-spaces in the input space that contain smooth regions of the "
                  "target function (gradient descent allocates paths to the simpler regions).",
        criterion="per seed: R = mean overlap kernel on top x top / bottom x bottom grows by >= 1.5x from "
                  "initialisation and the bottom-block mean decreases; every seed (partly: half)",
        measured={"seeds_holding": holds, "median_R_gain": float(gain.median()), "min_R_gain": float(gain.min()),
                  "median_R0": float(first["R"].median()), "median_R_final": float(last["R"].median())},
        checks=[Check.at_least("share of seeds holding", holds, 1.0, 0.5)],
        source="abstract; the block-ratio measure [Reconstructed]",
    )


def relu_analogue_claim(overlap: pd.DataFrame) -> Claim:
    gain = last_rows(overlap, "relu")["R_over_R0"]
    holds = fraction_holding([g > 1 for g in gain])
    return Claim(
        id="relu_analogue",
        statement="We hypothesize that ReLU networks also have similar feature learning behaviour.",
        criterion="per seed: the ReLU net's active-path overlap kernel (gates 1[z > 0]) also shifts mass to "
                  "the smooth half, R_T / R_0 > 1; every seed (partly: half)",
        measured={"seeds_holding": holds, "median_R_gain": float(gain.median())},
        checks=[Check.at_least("share of seeds holding", holds, 1.0, 0.5)],
        source="abstract (a hypothesis; brief's E7 measure)",
    )


@torch.no_grad()
def kernel_panels(circle: CircleRuns, keys=("relu", "dlgn")) -> dict:
    """Heatmaps for seed index 0 at initialisation, EARLY_EPOCH and the end, on every 5th point:
    {(key, kind, epoch): (k, k) array} with kind 'overlap' (hard, trace-normalised) or 'ntk'
    (full, trace-normalised); also 'ntk_value' for the DLGN (value parameters only)."""
    x = circle.data.x_train[::HEATMAP_STRIDE]
    last = circle.config["epochs"]
    panels = {}
    for key in keys:
        for epoch in (0, min(EARLY_EPOCH, last), last):
            model = circle.runs[key].at(epoch).member(0)
            panels[(key, "overlap", epoch)] = hard_overlap(model, x, 0).numpy()
            with torch.enable_grad():
                panels[(key, "ntk", epoch)] = empirical_ntk(model, x).numpy()
                if model.gated:
                    names = [n for n, _ in model.named_parameters() if n.startswith(("value", "head"))]
                    panels[(key, "ntk_value", epoch)] = empirical_ntk(model, x, names).numpy()
    return panels


def ntk_changes(panels: dict, epochs: int) -> dict[str, float]:
    return {key: relative_change(torch.from_numpy(panels[(key, "ntk", 0)]), torch.from_numpy(panels[(key, "ntk", epochs)]))
            for key in ("relu", "dlgn")}


# ---------------------------------------------------------------- E5: hyperplanes
def clustering_over_seeds(circle: CircleRuns, keys=("dlgn", "sf")) -> pd.DataFrame:
    """Per learner, seed, layer, at initialisation and the end: the clustering measures."""
    rows = []
    last = circle.config["epochs"]
    for key in keys:
        for stage, epoch in (("init", 0), ("final", last)):
            model = circle.runs[key].at(epoch)
            for i, seed in enumerate(model.seeds):
                rows += [{"learner": LEARNERS[key][2], "key": key, "seed": seed, "stage": stage, **r}
                         for r in clustering_table(model, i)]
    return pd.DataFrame(rows)


def clustering_claim(clusters: pd.DataFrame, depth: int) -> Claim:
    def per_seed(key):
        part = clusters[clusters["key"] == key]
        return {s: g.set_index(["stage", "layer"]) for s, g in part.groupby("seed")}

    dlgn, sf = per_seed("dlgn"), per_seed("sf")
    flags, ratios, near = [], [], []
    for seed, g in dlgn.items():
        last_init, last_final = g.loc[("init", depth), "entropy"], g.loc[("final", depth), "entropy"]
        first_init, first_final = g.loc[("init", 1), "entropy"], g.loc[("final", 1), "entropy"]
        ratio = last_final / last_init
        sf_ratio = sf[seed].loc[("final", depth), "entropy"] / sf[seed].loc[("init", depth), "entropy"]
        ratios.append(ratio)
        near.append(g.loc[("final", depth), "near_90"])
        flags.append(depth > 1 and ratio <= 0.7 and last_final < first_final
                     and abs(first_final - first_init) < 0.2 * first_init
                     and g.loc[("final", depth), "near_90"] >= 0.3 and sf_ratio > 0.7)
    holds = fraction_holding(flags)
    return Claim(
        id="later_layers_cluster",
        statement="The neurons in later layers are fundamentally the same as those in earlier layers -- they all "
                  "represent a half-space -- however, the dynamics of gradient descent impart a distinct "
                  "clustering to the later layer neurons.",
        criterion="per seed: last layer's angle entropy falls to <= 0.7x its initial value and below layer 1's; "
                  "layer 1 changes < 20%; >= 30% of last-layer normals within 15 degrees of vertical; and the "
                  "DLGN-SF control's last layer does not fall so (> 0.7x); every seed (partly: half)",
        measured={"seeds_holding": holds, "median_last_layer_entropy_ratio": float(np.median(ratios)),
                  "median_last_layer_share_near_90": float(np.median(near))},
        checks=[Check.at_least("share of seeds holding", holds, 1.0, 0.5)],
        source="abstract; measures from the brief's section 2.7 [Reconstructed]",
    )


# ---------------------------------------------------------------- E4: beta sweep, hard gates
@dataclass
class BetaSweep:
    table: pd.DataFrame  # one row per beta and regime
    runs: dict[str, TrainedStack]


def beta_sweep(config, data: Dataset) -> BetaSweep:
    """Learned and frozen-gating DLGNs (seed ``config.seed``) at every beta of the sweep, as two stacks."""
    betas = sweep_betas(config)
    rows, runs = [], {}
    for key in ("dlgn", "frozen"):
        model = build(key, config, seeds=[config.seed] * len(betas), beta=betas)
        run = train_stack(model, data.x_train, data.y_train, task="regression", epochs=config.epochs, lr=config.lr,
                          batch_size=config.batch_size, seed=config.seed)
        runs[key] = run
        hard = evaluate_copies(model, data.x_train, data.y_train, "regression", hard=True)["loss"]
        history = run.history.assign(copy=run.history.groupby("epoch").cumcount())
        for i, beta in enumerate(betas):
            h = history[history["copy"] == i]
            rows.append({"beta": beta, "regime": LEARNERS[key][2], "key": key, "final_mse": h["loss"].iloc[-1],
                         "hard_gate_mse": float(hard[i]),
                         "steps_to_0.01": steps_to_sustained(h["loss"].tolist(), h["step"].tolist(), THRESHOLD,
                                                             PATIENCE)})
    return BetaSweep(pd.DataFrame(rows), runs)


def beta_claim(sweep: BetaSweep) -> Claim:
    t = sweep.table.set_index(["key", "beta"])
    flags, measured = [], {}
    for beta in sorted(sweep.table["beta"].unique()):
        learned, frozen = t.loc[("dlgn", beta)], t.loc[("frozen", beta)]
        learned_hits = learned["steps_to_0.01"] < math.inf
        slower = frozen["steps_to_0.01"] >= 3 * learned["steps_to_0.01"]  # True when frozen never hits
        mse_ratio = frozen["final_mse"] / learned["final_mse"]
        if beta <= 10:
            flags.append(bool((learned_hits and slower) or mse_ratio >= 5))
        tag = f"beta_{beta:g}".replace(".", "p")
        measured[f"{tag}_final_mse_ratio"] = float(mse_ratio)
    holds = fraction_holding(flags) if flags else 0.0
    return Claim(
        id="frozen_vs_beta",
        statement="DLGN models with fixed gating take more than 2000 iterations to converge to loss 0.01.",
        criterion="at every swept beta <= 10: learned gating converges and frozen gating never does or needs "
                  ">= 3x the steps, or frozen gating ends with >= 5x the learned MSE (betas > 10 reported, not judged; pilots: frozen "
                  "converges ~2.5x slower at beta 30)",
        measured={"share_of_betas_holding": holds, **measured},
        checks=[Check.at_least("share of betas <= 10 holding", holds, 1.0, 0.5)],
        source="figure 2 caption [Summary]; the beta dependence is ours [Pilot]",
    )


def hard_gate_claim(table: pd.DataFrame, sweep: BetaSweep, beta: float) -> Claim:
    main = float(table[table["key"] == "dlgn"]["hard_gate_mse"].median())
    learned = sweep.table[sweep.table["key"] == "dlgn"].set_index("beta")
    top_beta = float(learned.index.max())
    top = float(learned.loc[top_beta, "hard_gate_mse"])
    return Claim(
        id="features_are_indicators",
        statement="Each feature is effectively an indicator function for a region compactly described as an "
                  "intersection of (number of layers) half-spaces in the input space.",
        criterion=f"the trained soft-gate DLGN keeps its fit with hard gates 1[eta >= 0]: hard-gate MSE < 0.1 at the "
                  f"chapter's beta ({beta:g}, median over seeds) and at the sweep's largest beta ({top_beta:g})",
        measured={"hard_gate_mse_main_beta": main, "hard_gate_mse_largest_beta": top},
        checks=[Check.at_most(f"hard-gate MSE at beta {beta:g}", main, 0.1),
                Check.at_most(f"hard-gate MSE at beta {top_beta:g}", top, 0.1)],
        source="abstract ('effectively'); soft-versus-hard evaluation is ours [Pilot]",
    )


# ---------------------------------------------------------------- E6: Fashion-MNIST
@dataclass
class FashionRuns:
    data: Dataset
    table: pd.DataFrame  # one row per learner and seed: test accuracy
    ratios: dict[str, float]  # within/between-class overlap-kernel mean ratio, DLGN seed 0


def fashion_data(config) -> Dataset:
    return load_dataset("fashion-mnist", seed=config.seed, n_train=config.fmnist_n_train, fallback="digits")


def class_ratio(model: GatedNet, x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean hard overlap kernel within classes / between classes (copy 0)."""
    omega = hard_overlap(model, x, 0)
    same = y[:, None] == y[None, :]
    return float(omega[same].mean() / omega[~same].mean())


def train_fashion(config) -> FashionRuns:
    data = fashion_data(config)
    seeds = list(range(config.seed, config.seed + config.fmnist_seeds))
    probe = torch.argsort(data.y_test[:200], stable=True)
    xp, yp = data.x_test[:200][probe], data.y_test[:200][probe]
    rows, ratios = [], {}
    for key in FMNIST_LEARNERS:
        model = build(key, config, data.in_features, data.num_classes, width=config.fmnist_width, seeds=seeds)
        if key == "dlgn":
            ratios["init"] = class_ratio(model, xp, yp)
        train_stack(model, data.x_train, data.y_train, task="classification", epochs=config.fmnist_epochs,
                    lr=config.fmnist_lr, batch_size=32, seed=config.seed, record_every=config.fmnist_epochs)
        if key == "dlgn":
            ratios["final"] = class_ratio(model, xp, yp)
        accuracy = evaluate_copies(model, data.x_test, data.y_test, "classification")["accuracy"]
        rows += [{"learner": LEARNERS[key][2], "key": key, "seed": s, "test_accuracy": 100 * float(a)}
                 for s, a in zip(seeds, accuracy)]
    return FashionRuns(data, pd.DataFrame(rows), ratios)


def fashion_claim(fashion: FashionRuns) -> Claim:
    acc = fashion.table.groupby("key")["test_accuracy"].mean()
    ratio_gain = fashion.ratios["final"] / fashion.ratios["init"]
    return Claim(
        id="fashion_mnist_competitive",
        statement="DLGNs are competitive on real data (Fashion-MNIST in the paper's tables; values unread).",
        criterion=f"on {fashion.data.name} (provisional, uncalibrated): DLGN mean test accuracy >= ReLU - 3 points, "
                  ">= deep linear net, >= frozen gating; within/between-class overlap-kernel ratio rises",
        measured={"dlgn_accuracy": float(acc["dlgn"]), "relu_accuracy": float(acc["relu"]),
                  "frozen_accuracy": float(acc["frozen"]), "dln_accuracy": float(acc["dln"]),
                  "class_ratio_gain": float(ratio_gain)},
        checks=[Check.at_least("DLGN - ReLU (points)", float(acc["dlgn"] - acc["relu"]), -3.0),
                Check.at_least("DLGN - deep linear (points)", float(acc["dlgn"] - acc["dln"]), 0.0),
                Check.at_least("DLGN - frozen gating (points)", float(acc["dlgn"] - acc["frozen"]), 0.0),
                Check.at_least("within/between overlap ratio gain", float(ratio_gain), 1.0)],
        source="[Summary] (tables listed, values unread); [Related] 'only marginally inferior to ReLU'",
    )


# ---------------------------------------------------------------- figures
def circle_figure(data: Dataset) -> plt.Figure:
    theta = np.degrees(np.arctan2(data.x_train[:, 1], data.x_train[:, 0]).numpy() % (2 * np.pi))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.plot(theta, data.y_train.numpy())
    left.axvline(180, ls="--", color="grey")
    left.set(title="Target along the circle", xlabel="angle θ (degrees)", ylabel="target y")
    points = right.scatter(data.x_train[:, 0], data.x_train[:, 1], c=data.y_train, cmap="coolwarm", s=8)
    fig.colorbar(points, ax=right, label="target y")
    right.set(title="Inputs coloured by target", xlabel="x₁", ylabel="x₂", aspect="equal")
    fig.tight_layout()
    return fig


def loss_figure(circle: CircleRuns) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 4.2))
    for key, run in circle.runs.items():
        h = run.history.groupby("step")["loss"]
        mid, low, high = h.median(), h.min(), h.max()
        ax.plot(mid.index, mid.values, label=LEARNERS[key][2])
        ax.fill_between(mid.index, low.values, high.values, alpha=0.2)
    ax.axhline(THRESHOLD, ls=":", color="black", label=f"MSE {THRESHOLD}")
    ax.set(yscale="log", title=f"Training on the circle ({circle.runs['dlgn'].model.n_seeds} seeds: median, "
           "band = min to max)", xlabel="optimiser step", ylabel="full-data MSE")
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    return fig


def heatmap_figure(panels: dict, kind: str, epochs: int) -> plt.Figure:
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
            ax.set(title=f"{LEARNERS[key][2]}, epoch {epoch}", xlabel="point index (by angle)",
                   ylabel="point index (by angle)")
    fig.suptitle(f"Trace-normalised {names[kind]}; first half = smooth top of the circle")
    fig.tight_layout()
    return fig


def allocation_figure(overlap: pd.DataFrame) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for key, colour in zip(("dlgn", "sf", "relu", "frozen"), sns.color_palette()):
        part = overlap[overlap["key"] == key]
        for i, (seed, g) in enumerate(part.groupby("seed")):
            label = LEARNERS[key][2] if i == 0 else None
            left.plot(g["epoch"], g["R_over_R0"], color=colour, marker="o", ms=3, label=label)
            right.plot(g["epoch"], g["bottom_mean"] / g["bottom_mean"].iloc[0], color=colour, marker="o", ms=3,
                       label=label)
    left.axhline(1.5, ls=":", color="black")
    for ax in (left, right):
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlim(left=0)
    left.set(yscale="log", title="Smooth-region allocation R / R₀ (one line per seed)", xlabel="epoch",
             ylabel="R / R₀ (top/bottom overlap ratio)")
    right.set(title="Bottom (fast) block of Ω̃, relative to init", xlabel="epoch",
              ylabel="bottom-block mean / initial")
    left.legend(fontsize="small")
    fig.tight_layout()
    return fig


def draw_hyperplanes(ax, planes, data: Dataset, title: str) -> None:
    """The lines V x + b = 0 of one layer over the unit circle coloured by the target."""
    ax.scatter(data.x_train[:, 0], data.x_train[:, 1], c=data.y_train, cmap="coolwarm", s=4, zorder=3)
    t = np.linspace(-2, 2, 2)
    v, b = planes
    for (v1, v2), c in zip(v.numpy(), b.numpy()):
        if abs(v2) > abs(v1):
            ax.plot(t, -(c + v1 * t) / v2, color="black", lw=0.6, alpha=0.5)
        else:
            ax.plot(-(c + v2 * t) / v1, t, color="black", lw=0.6, alpha=0.5)
    ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal", title=title, xlabel="x₁", ylabel="x₂")


def hyperplane_figure(circle: CircleRuns, key: str = "dlgn") -> plt.Figure:
    depth, last = circle.config["depth"], circle.config["epochs"]
    fig, axes = plt.subplots(2, depth, figsize=(2.6 * depth, 5.6), squeeze=False)
    for row, epoch in zip(axes, (0, last)):
        planes = effective_hyperplanes(circle.runs[key].at(epoch), 0)
        for layer, ax in enumerate(row):
            draw_hyperplanes(ax, planes[layer], circle.data, f"layer {layer + 1}, epoch {epoch}")
    fig.suptitle(f"{LEARNERS[key][2]} gating hyperplanes (seed {circle.runs[key].model.seeds[0]})")
    fig.tight_layout()
    return fig


def entropy_figure(clusters: pd.DataFrame) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, key in zip(axes, ("dlgn", "sf")):
        part = clusters[clusters["key"] == key]
        sns.lineplot(part, x="layer", y="entropy", hue="stage", style="seed", marker="o", ax=ax, errorbar=None)
        ax.axhline(math.log(18), ls=":", color="grey")
        ax.set(title=f"{LEARNERS[key][2]}: entropy of normal angles", xlabel="layer",
               ylabel="angle entropy (nats; max ln 18)")
        ax.set_xticks(sorted(part["layer"].unique()))
        ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def beta_figure(sweep: BetaSweep) -> plt.Figure:
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    t = sweep.table
    sns.lineplot(t, x="beta", y="final_mse", hue="regime", marker="o", ax=left)
    left.axhline(THRESHOLD, ls=":", color="black")
    left.set(xscale="log", yscale="log", title="Final MSE, learned vs frozen gating", xlabel="gate sharpness β",
             ylabel="final full-data MSE")
    sns.lineplot(t, x="beta", y="hard_gate_mse", hue="regime", marker="o", ax=right)
    right.axhline(0.1, ls=":", color="black")
    right.set(xscale="log", yscale="log", title="Same models evaluated with hard gates 1[η ≥ 0]",
              xlabel="gate sharpness β", ylabel="hard-gate full-data MSE")
    fig.tight_layout()
    return fig


def fashion_figure(fashion: FashionRuns) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(7, 3.8))
    sns.barplot(fashion.table, x="learner", y="test_accuracy", errorbar="sd", ax=ax)
    sns.stripplot(fashion.table, x="learner", y="test_accuracy", color="black", size=4, ax=ax)
    low = fashion.table["test_accuracy"].min()
    ax.set(ylim=(max(0, low - 10), 100), title=f"{fashion.data.name}: test accuracy (mean ± sd over seeds)",
           xlabel="model", ylabel="test accuracy (%)")
    fig.tight_layout()
    return fig


def hyperplane_explorer(circle: CircleRuns, key: str = "dlgn"):
    """(draw, epochs) for linstruct.book.widgets.explorer: one panel per layer at a chosen epoch."""
    run = circle.runs[key]
    epochs = sorted(run.snapshots)
    planes = {e: effective_hyperplanes(run.at(e), 0) for e in epochs}
    losses = run.history[run.history["seed"] == run.model.seeds[0]].set_index("epoch")["loss"]

    def draw(axes, epoch):
        for layer, ax in enumerate(axes):
            draw_hyperplanes(ax, planes[epoch][layer], circle.data,
                             f"layer {layer + 1}, epoch {epoch}\nMSE {losses.get(epoch, float('nan')):.3f}")
    return draw, epochs
