"""Chapter 4, "MD-LSM synchronicity": linear separability of hidden layers over training.

Reproduces (a reconstruction of) Zhang et al., arXiv 2307.13962: Minkowski-difference
linear separability measures of hidden layers, their synchronicity with training accuracy
at three levels, and the effects of activation, width and depth with the baselines that
expose in-sample optimism and capacity saturation. The measures live in
:mod:`linstruct.studies.md_lsm.separability`, the synchronicity statistics in :mod:`linstruct.studies.md_lsm.synchronicity`.
"""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Check, Claim, fraction_holding
from linstruct.data import Dataset, load_dataset
from linstruct.nn.models import MLP
from linstruct.studies.md_lsm.spec import SPEC, WIDTH_GRIDS, INTERVENTION_FRACTIONS, CONTROL_STRIDE, SPIRAL_CHECKPOINTS, SPIRAL_WIDTH, SPIRAL_LR, HELDOUT_REPEATS, TRAINED, PILOT_INPUT_RHO, SEED_ACTIVATIONS, LEVEL_MIN, AGREEMENT_MIN, PHI_MIN, FISHER_MAX, DETRENDED_MIN, DROP_TOLERANCE
from linstruct.nn.training import train
import linstruct.studies.md_lsm.separability as sep
from linstruct.studies.md_lsm.synchronicity import (Tracking, change_agreement, interventional_correlations, level_correlation,
                             separability_baselines, track_training)



def glorot_mlp(in_features: int, width: int, depth: int, out_features: int, activation: str, seed: int) -> MLP:
    """An :class:`MLP` with Glorot-normal weights and zero biases (the brief's setting), seeded."""
    torch.manual_seed(seed)
    model = MLP(in_features, width, depth, out_features, activation)
    for linear in [*model.hidden, model.head]:
        nn.init.xavier_normal_(linear.weight)
        nn.init.zeros_(linear.bias)
    return model


def steps_per_epoch(data: Dataset, batch_size: int) -> int:
    return -(-data.n_train // min(batch_size, data.n_train))


# --- E0: the estimator ------------------------------------------------------------------------

def estimator_checks(seed: int) -> dict[str, float]:
    """The measure on toys with known answers.

    2-D Gaussians (100 + 100, means 1.2 apart): exact rho_P (angular sweep) and the estimate;
    two identical 20-D Gaussians (300 + 300): in-sample, held-out and shuffled estimates;
    one outlier moved far into the other set: the exact change against the bound 1 / m;
    a separable pair: LP certification.
    """
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(100, 2)), rng.normal(size=(100, 2)) + [1.0, 0.6]
    exact, estimate = sep.exact_rho_p_2d(a, b), sep.pair_separability(a, b).rho_p
    moved = a.copy()
    moved[0] = b.mean(axis=0) + 50 * (b.mean(axis=0) - a.mean(axis=0))
    g1, g2 = rng.normal(size=(300, 20)), rng.normal(size=(300, 20))
    both, labels = np.concatenate([g1, g2]), np.repeat([0, 1], 300)
    shuffled = sep.shuffled_labels(labels, seed)
    separable = sep.pair_separability(a + [-4.0, 0.0], b + [4.0, 0.0])
    return dict(
        toy_exact=exact, toy_estimate=estimate, toy_gap=exact - estimate,
        outlier_change=abs(sep.exact_rho_p_2d(moved, b) - exact), outlier_bound=1 / len(a),
        identical_in_sample=sep.pair_separability(g1, g2).rho_p,
        identical_heldout=sep.heldout_pair_fraction(g1, g2, seed, HELDOUT_REPEATS),
        identical_shuffled=sep.layer_separability(both, shuffled).mean,
        separable_certified=float(separable.certified and sep.is_separable(a + [-4.0, 0.0], b + [4.0, 0.0])),
    )


# --- E1-E3: synchronicity runs ---------------------------------------------------------------

@dataclass
class Run:
    """One synchronicity run: the activation, its tracking and the end state's exact certificates."""

    activation: str
    tracking: Tracking
    certified: np.ndarray  # (L,) share of class pairs the LP proves separable at the end

    @property
    def last(self) -> pd.DataFrame:
        return self.tracking.layer(self.tracking.depth)

    @property
    def final_accuracy(self) -> float:
        return float(self.last["train_accuracy"].iloc[-1])

    @property
    def gain(self) -> float:
        """rho of the last hidden layer, end minus start."""
        return float(self.last["rho"].iloc[-1] - self.last["rho"].iloc[0])


def load_main(config) -> Dataset:
    return load_dataset(config.dataset, n_train=config.n_train, fallback="mnist1d")


def synchronicity_run(data: Dataset, config, activation: str, *, stride: int = 1, intervene: bool = False,
                      baselines: bool = True, seed: int | None = None, certify: bool = True) -> Run:
    """Train one Glorot MLP with SGD and track its hidden layers (see :func:`track_training`),
    measuring every ``stride`` checkpoint intervals; ``seed`` (default ``config.seed``) sets the
    initialisation and the data order; without ``certify`` the end-state certificates are NaN."""
    return _tracked(data, config, activation, config.width, config.lr, config.epochs,
                    config.checkpoint_every * stride, intervene=intervene,
                    baseline_every=config.baseline_every if baselines else 0,
                    seed=config.seed if seed is None else seed, certify=certify)


def spirals_run(config) -> tuple[Dataset, Run]:
    """The 2-D spirals (3 classes) with the brief's tanh net, kept at SPIRAL_CHECKPOINTS checkpoints."""
    data = load_dataset("spirals", seed=config.seed)
    total = config.spiral_epochs * steps_per_epoch(data, config.batch_size)
    return data, _tracked(data, config, "tanh", SPIRAL_WIDTH, SPIRAL_LR, config.spiral_epochs,
                          max(1, total // SPIRAL_CHECKPOINTS), keep_weights=True)


def _tracked(data: Dataset, config, activation: str, width: int, lr: float, epochs: int, every: int, *,
             intervene: bool = False, baseline_every: int = 0, keep_weights: bool = False,
             seed: int | None = None, certify: bool = True) -> Run:
    seed = config.seed if seed is None else seed
    total = epochs * steps_per_epoch(data, config.batch_size)
    model = glorot_mlp(data.in_features, width, config.depth, data.num_classes, activation, seed)
    tracking = track_training(
        model, data, epochs=epochs, lr=lr, batch_size=config.batch_size, checkpoint_every=every,
        seed=seed, baseline_every=baseline_every,
        intervene_at=tuple(max(1, round(f * total)) for f in INTERVENTION_FRACTIONS) if intervene else (),
        candidates=config.candidates, candidate_lr=lr * config.candidate_lr_factor,
        keep_weights=keep_weights)
    if not certify:
        return Run(activation, tracking, np.full(config.depth, np.nan))
    with torch.no_grad():
        states = model.eval().hidden_states(data.x_train.flatten(1))
    labels = data.y_train.numpy()
    certified = np.array([sep.certified_fraction(h, labels) for h in states])
    return Run(activation, tracking, certified)


def synchronicity_table(runs: list[Run]) -> pd.DataFrame:
    """Per run and hidden layer: rho start/end, level Spearman, naive and trend-controlled change statistics."""
    rows = []
    for run in runs:
        for layer in range(1, run.tracking.depth + 1):
            h = run.tracking.layer(layer)
            changes = change_agreement(h["train_accuracy"], h["rho"])
            rows.append(dict(activation=run.activation, layer=layer, acc_end=h["train_accuracy"].iloc[-1],
                             rho_start=h["rho"].iloc[0], rho_end=h["rho"].iloc[-1],
                             level_spearman=level_correlation(h["rho"], h["train_accuracy"]),
                             sign_agreement=changes.agreement, n_intervals=changes.n, sign_p=changes.p_binomial,
                             phi=changes.phi, phi_defined=changes.phi_defined, fisher_p=changes.fisher_p,
                             detrended_spearman=changes.detrended_spearman,
                             rho_down_when_accuracy_down=changes.p_rho_down_given_accuracy_down,
                             certified_end=run.certified[layer - 1]))
    return pd.DataFrame(rows)


def interventional_table(runs: list[Run]) -> pd.DataFrame:
    """Spearman(d_rho, d_accuracy) per activation, intervention step and layer."""
    frames = [interventional_correlations(r.tracking.interventions).assign(activation=r.activation)
              for r in runs if len(r.tracking.interventions)]
    return pd.concat(frames, ignore_index=True)


# --- E4: the same runs over seeds ------------------------------------------------------------

def extra_seed_runs(data: Dataset, config) -> dict[int, list[Run]]:
    """The tanh and relu tracking runs for seeds ``seed + 1 .. seed + n_seeds - 1`` (no baselines,
    interventions or certificates: only what decides the level, change and layer-profile claims)."""
    return {s: [synchronicity_run(data, config, a, baselines=False, seed=s, certify=False) for a in SEED_ACTIVATIONS]
            for s in range(config.seed + 1, config.seed + config.n_seeds)}


def seed_table(runs_by_seed: dict[int, list[Run]]) -> pd.DataFrame:
    """Per seed and run: the last hidden layer's synchronicity statistics, the number of layers whose
    final rho drops, and whether each claim's criterion holds (see :func:`criteria_holding`)."""
    rows = []
    for seed, runs in runs_by_seed.items():
        table = synchronicity_table(runs)
        for run in runs:
            row = _last_layer(table, run)
            rows.append(dict(seed=seed, activation=run.activation, acc_end=row["acc_end"],
                             level_spearman=row["level_spearman"], sign_agreement=row["sign_agreement"],
                             phi=row["phi"], fisher_p=row["fisher_p"],
                             detrended_spearman=row["detrended_spearman"],
                             drops=layer_drops(run.tracking.final_rho())))
    return criteria_holding(pd.DataFrame(rows))


def criteria_holding(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus boolean columns ``level``, ``changes`` and ``toward_output``: whether the run meets
    the full criterion of :func:`level_claim`, :func:`changes_claim` and :func:`depth_claim` (a NaN
    statistic does not meet it)."""
    changes = ((frame["sign_agreement"] >= AGREEMENT_MIN) & (frame["phi"] >= PHI_MIN)
               & (frame["fisher_p"] <= FISHER_MAX) & (frame["detrended_spearman"] >= DETRENDED_MIN))
    return frame.assign(level=frame["level_spearman"] >= LEVEL_MIN, changes=changes,
                        toward_output=frame["drops"] == 0)


def layer_drops(final_rho: np.ndarray) -> int:
    """Number of layers whose final rho is below the previous layer's by more than DROP_TOLERANCE."""
    return int(np.sum(np.diff(final_rho) < -DROP_TOLERANCE))


# --- E5: width and sample size -----------------------------------------------------------------

def width_study(data: Dataset, config) -> pd.DataFrame:
    """For each width: a tanh network at initialisation and after ``width_epochs``; its last hidden layer
    measured in-sample, held-out and label-shuffled (with all samples and with ``small_per_class``),
    and the share of shuffled class pairs the LP proves separable at the small sample."""
    small = data.subset(config.small_per_class * data.num_classes, seed=config.seed)
    rows = []
    for width in (int(w) for w in config.widths.split(",")):
        model = glorot_mlp(data.in_features, width, config.depth, data.num_classes, "tanh", config.seed)
        for stage in ("init", "trained"):
            if stage == "trained":
                train(model, data, epochs=config.width_epochs, lr=config.lr, batch_size=config.batch_size,
                      optimizer="sgd", seed=config.seed, measure=False, progress=False)
            for sample, subset in (("all", data), ("small", small)):
                with torch.no_grad():
                    h = model.eval().hidden_states(subset.x_train.flatten(1))[-1]
                labels = subset.y_train.numpy()
                shuffled = sep.shuffled_labels(labels, config.seed)
                row = dict(width=width, stage=stage, sample=sample,
                           per_pair=2 * len(labels) // data.num_classes,
                           **separability_baselines(h, labels, shuffled, config.seed, HELDOUT_REPEATS))
                if sample == "small":
                    row["shuffled_certified"] = sep.certified_fraction(h, shuffled)
                rows.append(row)
    return pd.DataFrame(rows)


# --- claims ------------------------------------------------------------------------------------

def estimator_claim(e: dict[str, float], input_rho: float, data: Dataset) -> Claim:
    checks = [
        Check.at_most("exact - estimate, 2-D toy", e["toy_gap"], 0.01, 0.03),
        Check.at_most("one-outlier change / (1/m)", e["outlier_change"] / e["outlier_bound"], 1.0),
        Check.at_most("|held-out - 0.5|, identical Gaussians", abs(e["identical_heldout"] - 0.5), 0.05, 0.08),
        Check.at_least("in-sample, identical Gaussians (optimism expected)", e["identical_in_sample"], 0.56),
        Check.at_most("in-sample, identical Gaussians", e["identical_in_sample"], 0.66),
        Check.at_least("separable pair LP-certified (1 = yes)", e["separable_certified"], 1.0),
    ]
    if data.name == "mnist1d" and data.n_train == 4000:
        checks.append(Check.at_most("|input rho - pilot 0.881|", abs(input_rho - PILOT_INPUT_RHO), 0.01, 0.02))
    return Claim(
        id="mdlsm_measure",
        statement="The Minkowski-difference measure is absolute (1 exactly for separable sets), "
                  "insensitive to outliers and cheap to approximate with a slight precision loss.",
        criterion="estimate within 0.01 of the exact 2-D optimum; one outlier moves rho by at most 1/m; "
                  "held-out rho of identical sets within 0.05 of 0.5 while the in-sample value shows the "
                  "pilot's optimism (0.56-0.66); LP certifies a separable pair",
        measured=_numbers({**e, "input_rho": input_rho}),
        checks=checks, source="abstracts (ICLR 2025 version); measure [Reconstructed]")


def trained(runs: list[Run]) -> list[Run]:
    return [r for r in runs if r.final_accuracy >= TRAINED]


def level_claim(table: pd.DataFrame, runs: list[Run], seeds: pd.DataFrame | None = None) -> Claim:
    measured, checks = {}, []
    for run in runs:
        value = _last_layer(table, run)["level_spearman"]
        measured[f"spearman_{run.activation}"] = value
        checks.append(Check.at_least(f"Spearman(rho_L, acc), {run.activation}", value, LEVEL_MIN, 0.7))
    seed_measured, seed_checks = _across_seeds(seeds, "level", f"Spearman >= {LEVEL_MIN:g}")
    return Claim(
        id="sync_level",
        statement="Level: the separability of the last hidden layer rises and falls with training accuracy.",
        criterion=f"Spearman correlation of rho_L(t) and training accuracy over checkpoints >= {LEVEL_MIN:g} "
                  "(partly >= 0.7) for each activation" + (ACROSS_SEEDS if seeds is not None else ""),
        measured=_numbers({**measured, **seed_measured}), checks=checks + seed_checks,
        source="abstracts; statistic [Reconstructed]")


def changes_claim(table: pd.DataFrame, runs: list[Run], seeds: pd.DataFrame | None = None) -> Claim:
    measured, checks = {}, []
    for run in runs:
        row = _last_layer(table, run)
        a = run.activation
        measured.update({f"agreement_{a}": row["sign_agreement"], f"n_{a}": row["n_intervals"],
                         f"sign_p_{a}": row["sign_p"], f"phi_{a}": row["phi"], f"fisher_p_{a}": row["fisher_p"],
                         f"detrended_{a}": row["detrended_spearman"]})
        checks += [
            Check.at_least(f"naive sign agreement, {a} (trend-confounded)", row["sign_agreement"], AGREEMENT_MIN),
            Check.at_least(f"phi of the sign table, {a}", row["phi"], PHI_MIN, 0.1),
            Check.at_most(f"Fisher p of the sign table, {a}", row["fisher_p"], FISHER_MAX, 0.05),
            Check.at_least(f"Spearman of detrended increments, {a}", row["detrended_spearman"], DETRENDED_MIN, 0.1),
        ]
    seed_measured, seed_checks = _across_seeds(seeds, "changes", "all four change criteria hold")
    return Claim(
        id="sync_changes",
        statement="Changes, 'and vice versa': when an update raises (lowers) separability, training "
                  "accuracy rises (falls).",
        criterion=f"per interval of the last hidden layer: sign agreement >= {AGREEMENT_MIN:g} (naive, shared "
                  f"trend), and beyond the trend: phi >= {PHI_MIN:g} with Fisher p <= {FISHER_MAX:g}, "
                  f"detrended-increment Spearman >= {DETRENDED_MIN:g}" + (ACROSS_SEEDS if seeds is not None else ""),
        measured=_numbers({**measured, **seed_measured}), checks=checks + seed_checks,
        source="arXiv abstract; statistics [Reconstructed]")


def interventional_claim(inter: pd.DataFrame, depth: int) -> Claim:
    measured, checks = {}, []
    for a, group in inter.groupby("activation", sort=False):
        steps = sorted(group["step"].unique())[-3:]
        late = group[group["step"].isin(steps)]
        last = late[late["layer"] == depth].set_index("step")["spearman"]
        first = late[late["layer"] == 1].set_index("step")["spearman"]
        passing = int((last >= 0.5).sum())
        measured.update({f"late_passing_{a}": passing, f"late_mean_{a}": float(last.mean()),
                         f"late_mean_layer1_{a}": float(first.mean()),
                         f"early_{a}": float(group[(group["step"] == min(group["step"])) &
                                                   (group["layer"] == depth)]["spearman"].iloc[0])})
        checks += [Check.at_least(f"late checkpoints with Spearman(d rho_L, d acc) >= 0.5, {a}", passing, 2, 1),
                   Check.at_least(f"late mean, last minus first layer, {a}", float(last.mean() - first.mean()),
                                  0.0, -0.05)]
    return Claim(
        id="sync_interventional",
        statement="Per update: of alternative updates from one state, those that raise hidden-layer "
                  "separability more raise training accuracy more, most of all near the output.",
        criterion="Spearman(d rho_L, d accuracy) over the candidate steps >= 0.5 at >= 2 of the 3 latest "
                  "checkpoints, and the last hidden layer's mean >= the first layer's",
        measured=_numbers(measured), checks=checks, source="arXiv abstract; test [Reconstructed]")


def overall_claim(levels: Claim, changes: Claim, interventional: Claim) -> Claim:
    """Synchronicity as the paper states it needs all three levels; each contributes its verdict."""
    checks = [Check(f"{c.id}: {c.verdict}", c.verdict == REPRODUCED, c.verdict == PARTLY)
              for c in (levels, changes, interventional)]
    score = {REPRODUCED: 1.0, PARTLY: 0.5, NOT_REPRODUCED: 0.0}
    return Claim(
        id="synchronicity",
        statement="There is a synchronicity between the linear separability of hidden layers and training "
                  "performance (if updated weights enhance separability, training performance improves, and "
                  "vice versa).",
        criterion="reproduced only if the level, change and interventional claims all are; the level "
                  "correlation alone is not enough",
        measured={f"{c.id}_score": score[c.verdict] for c in (levels, changes, interventional)},
        checks=checks, source="arXiv abstract")


def depth_claim(runs: list[Run], seeds: pd.DataFrame | None = None) -> Claim:
    measured, checks = {}, []
    for run in runs:
        final = run.tracking.final_rho()
        drops = layer_drops(final)
        measured.update({f"rho_layer{l}_{run.activation}": float(v) for l, v in enumerate(final, start=1)})
        measured[f"drops_{run.activation}"] = drops
        checks.append(Check.at_most(f"layers where final rho falls by > {DROP_TOLERANCE:g}, {run.activation}",
                                    drops, 0))
    seed_measured, seed_checks = _across_seeds(seeds, "toward_output", "no layer drops")
    return Claim(
        id="separability_toward_output",
        statement="The outputs of the hidden layers adjacent to the output layer have higher linear "
                  "separability degrees.",
        criterion=f"final OvO rho_P non-decreasing with layer number (tolerance {DROP_TOLERANCE:g}) in every "
                  "trained run" + (ACROSS_SEEDS if seeds is not None else ""),
        measured=_numbers({**measured, **seed_measured}), checks=checks + seed_checks, source="ICLR 2025 abstract")


def activation_claim(runs: dict[str, Run], lr: float) -> Claim:
    measured, checks = {}, []
    for a, run in runs.items():
        measured[f"accuracy_{a}"] = run.final_accuracy
        measured[f"gain_{a}"] = run.gain
    for a in ("tanh", "relu"):
        checks += [Check.at_least(f"final accuracy, {a}", runs[a].final_accuracy, TRAINED, 0.7),
                   Check.at_least(f"rho_L gain, {a}", runs[a].gain, 0.05, 0.02)]
    checks += [Check.at_most("final accuracy, sigmoid (stalls)", runs["sigmoid"].final_accuracy, 0.5, 0.7),
               Check.at_most("|rho_L gain|, sigmoid (control)", abs(runs["sigmoid"].gain), 0.02, 0.04)]
    return Claim(
        id="activation_effect",
        statement="The activation function affects the linear separability of hidden layers.",
        criterion=f"at SGD lr {lr:g}: tanh and relu train (accuracy >= {TRAINED}) and raise rho_L by >= 0.05; "
                  "sigmoid stalls (< 0.5) and its rho_L moves < 0.02 (direction [Reconstructed])",
        measured=_numbers(measured), checks=checks, source="arXiv abstract; expected direction [Reconstructed]")


def width_claim(widths: pd.DataFrame) -> Claim:
    end = widths[widths["stage"] == "trained"]
    full, small = end[end["sample"] == "all"].set_index("width"), end[end["sample"] == "small"].set_index("width")
    narrow, wide = full.index.min(), full.index.max()
    deviation = float((widths["shuffled_heldout"] - 0.5).abs().max())
    saturated = small[small["per_pair"] <= small.index]  # per-pair sample <= width: Cover regime
    certified = float(saturated["shuffled_certified"].min()) if len(saturated) else float("nan")
    measured = {"in_sample_narrow": full.loc[narrow, "in_sample"], "in_sample_wide": full.loc[wide, "in_sample"],
                "heldout_narrow": full.loc[narrow, "heldout"], "heldout_wide": full.loc[wide, "heldout"],
                "shuffled_wide": full.loc[wide, "shuffled"], "shuffled_small_wide": small.loc[wide, "shuffled"],
                "shuffled_certified_saturated": certified, "shuffled_heldout_max_deviation": deviation}
    checks = [
        Check.at_least("in-sample rho_L, widest minus narrowest", measured["in_sample_wide"] - measured["in_sample_narrow"], 0.0),
        Check.at_least("held-out rho_L, widest minus narrowest", measured["heldout_wide"] - measured["heldout_narrow"], 0.0),
        Check.at_least("shuffled pairs LP-separable where per-pair sample <= width", certified, 1.0),
        Check.at_most("max |shuffled held-out - 0.5|", deviation, 0.05, 0.08),
    ]
    return Claim(
        id="width_capacity",
        statement="Network width affects the linear separability of hidden layers.",
        criterion="trained rho_L grows with width both in-sample and held-out, while the baselines behave as "
                  "capacity predicts: shuffled labels are exactly separable (LP) once the per-pair sample is "
                  "<= width, and shuffled held-out stays within 0.05 of 0.5",
        measured=_numbers(measured), checks=checks, source="arXiv abstract; baselines [Reconstructed]")


ACROSS_SEEDS = ("; across seeds (tanh and relu runs of every seed): the full criterion holds in all seeds "
                "(partly: in at least half)")


def _across_seeds(seeds: pd.DataFrame | None, criterion: str, what: str) -> tuple[dict, list[Check]]:
    """Measured shares ``seeds_holding_<activation>`` of the seeds in which ``criterion`` (a column of
    :func:`seed_table`) holds, with a check per activation: all seeds pass, at least half partly."""
    if seeds is None:
        return {}, []
    measured, checks = {}, []
    for a, group in seeds.groupby("activation", sort=False):
        share = fraction_holding(list(group[criterion]))
        measured[f"seeds_holding_{a}"] = share
        checks.append(Check.at_least(f"share of {len(group)} seeds where {what}, {a}", share, 1.0, 0.5))
    return measured, checks


def _numbers(values: dict) -> dict[str, float]:
    return {k: float(v) for k, v in values.items()}


def _last_layer(table: pd.DataFrame, run: Run) -> pd.Series:
    rows = table[(table["activation"] == run.activation) & (table["layer"] == run.tracking.depth)]
    return rows.iloc[0]


# --- figures -----------------------------------------------------------------------------------

def curves_figure(runs: list[Run]) -> plt.Figure:
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
        bottom.set(title=f"{run.activation}: OvO mean rho_P", xlabel="SGD step", ylabel="rho_P (fraction of pairs)")
        bottom.legend(fontsize="small")
        top.set_xlabel("SGD step")
    fig.tight_layout()
    return fig


def changes_figure(runs: list[Run], table: pd.DataFrame) -> plt.Figure:
    """Per-interval change of rho_L against change of training accuracy, coloured by step."""
    fig, axes = plt.subplots(1, len(runs), figsize=(4.4 * len(runs), 3.8), squeeze=False)
    for ax, run in zip(axes[0], runs):
        h = run.last
        d_acc, d_rho = np.diff(h["train_accuracy"]), np.diff(h["rho"])
        points = ax.scatter(100 * d_acc, d_rho, c=h["step"].iloc[1:], cmap="viridis", s=14)
        ax.axhline(0, color="black", lw=0.6)
        ax.axvline(0, color="black", lw=0.6)
        row = _last_layer(table, run)
        ax.set(title=f"{run.activation}, layer {run.tracking.depth}: phi = {row['phi']:.2f}, "
                     f"detrended r_s = {row['detrended_spearman']:.2f}",
               xlabel="change of training accuracy (points)", ylabel="change of rho_P")
        fig.colorbar(points, ax=ax, label="SGD step")
    fig.tight_layout()
    return fig


def interventions_figure(runs: list[Run], inter: pd.DataFrame) -> plt.Figure:
    """Left: candidate steps at the latest interventional checkpoint; right: Spearman per layer and step."""
    run = next(r for r in runs if len(r.tracking.interventions))
    frame = run.tracking.interventions
    step = frame["step"].max()
    last = frame[(frame["step"] == step) & (frame["layer"] == run.tracking.depth)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.scatter(last["d_rho"], 100 * last["d_accuracy"], s=18)
    left.set(title=f"{run.activation}: {len(last)} alternative steps from step {step}",
             xlabel=f"change of rho_P, layer {run.tracking.depth}", ylabel="change of training accuracy (points)")
    for (activation, layer), group in inter.groupby(["activation", "layer"]):
        right.plot(group["step"], group["spearman"], marker="o", label=f"{activation}, layer {layer}")
    right.axhline(0.5, color="grey", ls=":", label="criterion 0.5")
    right.set(title="Interventional Spearman(d rho, d accuracy)", xlabel="SGD step of the saved state",
              ylabel="Spearman correlation")
    right.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def layers_figure(runs: list[Run], input_rho: float) -> plt.Figure:
    """Final OvO rho_P by layer (0 = input) for every activation, and at initialisation (dotted)."""
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for run in runs:
        start = run.tracking.history[run.tracking.history["step"] == 0].sort_values("layer")["rho"]
        layers = np.arange(run.tracking.depth + 1)
        line, = ax.plot(layers, [input_rho, *run.tracking.final_rho()], marker="o", label=f"{run.activation}, end")
        ax.plot(layers, [input_rho, *start], ls=":", color=line.get_color(), label=f"{run.activation}, start")
    ax.set(title="Separability by layer", xlabel="layer (0 = input)", ylabel="OvO mean rho_P")
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
        ax.set(title=f"Last hidden layer, {per_pair} points per class pair", xlabel="width (units)",
               ylabel="OvO mean rho_P")
        ax.legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def pairs_figure(run: Run, num_classes: int) -> plt.Figure:
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
    fig.colorbar(image, ax=axes, label="rho_P(i, j)")
    return fig


def spiral_drawer(run: Run, data: Dataset, config):
    """``draw(axes, checkpoint)`` for the explorer: each hidden layer of the spirals net in its 2-D
    discriminant projection, coloured by class, with that layer's OvO rho_P in the title."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    steps = run.last["step"].to_numpy()
    x, labels = data.x_train, data.y_train.numpy()

    def draw(axes, index: int) -> None:
        model = glorot_mlp(data.in_features, SPIRAL_WIDTH, config.depth, data.num_classes, "tanh", config.seed)
        model.load_state_dict(run.tracking.weights[index])
        with torch.no_grad():
            states = model.eval().hidden_states(x)
        for layer, (ax, h) in enumerate(zip(axes, states), start=1):
            projected = LinearDiscriminantAnalysis(n_components=2).fit_transform(h.double().numpy(), labels)
            ax.scatter(projected[:, 0], projected[:, 1], c=labels, cmap="viridis", s=5)
            rho = run.tracking.layer(layer)["rho"].iloc[index]
            ax.set(title=f"step {steps[index]}, layer {layer}: rho = {rho:.3f}", xlabel="discriminant 1",
                   ylabel="discriminant 2")

    return draw
