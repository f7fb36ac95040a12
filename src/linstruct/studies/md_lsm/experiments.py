"""Chapter 4, "MD-LSM synchronicity": the data, training and measurement runs.

Reproduces (a reconstruction of) Zhang et al., arXiv 2307.13962: Minkowski-difference linear
separability of hidden layers over training, its synchronicity with training accuracy at three
levels, and the effects of activation and width with the baselines that expose in-sample
optimism and capacity saturation. The measures live in :mod:`.separability`, the synchronicity
statistics and the tracking in :mod:`.synchronicity`, the criteria in :mod:`.claims`, the
figures in :mod:`.figures`.

Every runner takes explicit arguments and a ``device``: data, models and every measurement
live there (the separability measures copy hidden states to the CPU in float64). The seeds of
a setting train as one stack (:class:`linstruct.nn.mlp.MLP`, trained by :func:`linstruct.nn.fit.fit`),
each copy with its own seed's initialisation and data order, as separate runs would.
The ``*_values`` helpers turn runs and tables into the plain values the claims take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

import linstruct.studies.md_lsm.separability as sep
from linstruct.core.claims import Baseline
from linstruct.data import Dataset, load_dataset
from linstruct.data.references import baseline
from linstruct.nn.fit import fit
from linstruct.nn.mlp import MLP
from linstruct.studies.md_lsm import claims
from linstruct.studies.md_lsm.synchronicity import (
    Tracking,
    change_agreement,
    interventional_correlations,
    level_correlation,
    separability_baselines,
    track_training,
)

INTERVENTION_FRACTIONS = (0.025, 0.125, 0.375, 0.75)  # of the training steps (book: 200, 1000, 3000, 6000 of 8000)
CONTROL_STRIDE = 4  # the sigmoid control is measured every 4 checkpoint intervals (it barely moves)
SPIRAL_CHECKPOINTS = 20  # checkpoints kept for the spirals explorer
SPIRAL_WIDTH, SPIRAL_LR = 32, 0.1  # the spirals net 2-32-32-32-3, SGD lr 0.1: trains in a few hundred epochs
HELDOUT_REPEATS = 10  # random half-splits averaged in the toy and width-study held-out estimates
SEED_ACTIVATIONS = ("tanh", "relu")  # the tracking runs repeated over seeds
# Seeds (at most n_seeds) of what is not the headline: the sigmoid control, the width study and the toys;
# every claim but the headline is judged over at least five seeds.
OTHER_SEEDS = 5
CALIBRATION_SETTING = ("mnist1d", 4000)  # data set and training size of claims.CALIBRATION_INPUT_RHO


def load_on_device(name: str, *, n_train: int, fallback: str, device: torch.device | str) -> Dataset:
    """A class-stratified subset of ``name`` (``fallback`` if unavailable), on ``device``."""
    return load_dataset(name, n_train=n_train, fallback=fallback).to(device)


def glorot(linear: nn.Linear) -> None:
    """Glorot-normal weights and zero biases."""
    nn.init.xavier_normal_(linear.weight)
    nn.init.zeros_(linear.bias)


def glorot_mlp(
    seeds: Sequence[int],
    in_features: int,
    width: int,
    depth: int,
    out_features: int,
    activation: str,
    device: torch.device | str = "cpu",
) -> MLP:
    """A stacked :class:`MLP`, copy s with Glorot-normal weights and zero biases drawn after
    ``torch.manual_seed(s)``, on ``device``."""
    return MLP.from_seeds(seeds, in_features, width, depth, out_features, activation, initializer=glorot).to(device)


def steps_per_epoch(data: Dataset, batch_size: int) -> int:
    return -(-data.n_train // min(batch_size, data.n_train))


def labels_of(data: Dataset) -> np.ndarray:
    """The training labels as a NumPy array (from any device)."""
    return data.y_train.cpu().numpy()


def input_separability(data: Dataset) -> float:
    """OvO mean rho_P of the raw training inputs (layer 0)."""
    return sep.layer_separability(data.x_train.flatten(1), labels_of(data)).mean


def is_calibration_setting(data: Dataset) -> bool:
    """Whether ``data`` is the setting in which the input rho was calibrated."""
    return (data.name, data.n_train) == CALIBRATION_SETTING


# --- the estimator on toys ---------------------------------------------------------------------


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
        toy_exact=exact,
        toy_estimate=estimate,
        toy_gap=exact - estimate,
        outlier_change=abs(sep.exact_rho_p_2d(moved, b) - exact),
        outlier_bound=1 / len(a),
        identical_in_sample=sep.pair_separability(g1, g2).rho_p,
        identical_heldout=sep.heldout_pair_fraction(g1, g2, seed, HELDOUT_REPEATS),
        identical_shuffled=sep.layer_separability(both, shuffled).mean,
        separable_certified=float(separable.certified and sep.is_separable(a + [-4.0, 0.0], b + [4.0, 0.0])),
    )


def estimator_values(seeds: Sequence[int]) -> dict[str, list[float]]:
    """:func:`estimator_checks` of every seed: key -> per-seed values."""
    checks = [estimator_checks(seed) for seed in seeds]
    return {k: [c[k] for c in checks] for k in checks[0]}


# --- synchronicity runs ------------------------------------------------------------------------


@dataclass
class TrackedRun:
    """One synchronicity run (one copy of a stack): the activation, the seed, its tracking and the
    end state's exact certificates."""

    activation: str
    seed: int
    tracking: Tracking
    certified: np.ndarray  # (L,) share of class pairs the LP proves separable at the end (NaN: not computed)

    @property
    def last(self) -> pd.DataFrame:
        """The checkpoints of the last hidden layer."""
        return self.tracking.layer(self.tracking.depth)

    @property
    def final_accuracy(self) -> float:
        """Training accuracy at the last checkpoint."""
        return float(self.last["train_accuracy"].iloc[-1])

    @property
    def test_accuracy(self) -> float:
        """Test accuracy at the last checkpoint."""
        return float(self.last["test_accuracy"].iloc[-1])

    @property
    def gain(self) -> float:
        """rho of the last hidden layer, end minus start."""
        return float(self.last["rho"].iloc[-1] - self.last["rho"].iloc[0])


def synchronicity_runs(
    data: Dataset,
    activation: str,
    seeds: Sequence[int],
    *,
    width: int,
    depth: int,
    lr: float,
    batch_size: int,
    epochs: int,
    checkpoint_every: int,
    device: torch.device | str,
    schedule: str = "constant",
    weight_decay: float = 0.0,
    baseline_every: int = 0,
    intervene: int = 0,
    candidates: int = 30,
    candidate_lr: float | None = None,
    keep_weights: bool = False,
) -> list[TrackedRun]:
    """Train one Glorot MLP per seed, stacked, with SGD (``schedule``, ``weight_decay``) on ``device``
    and track every copy's hidden layers (see :func:`track_training`); one :class:`TrackedRun` per
    seed, in order.

    Seed s sets copy s's initialisation and data order. The first seed's run is the detailed one:
    it alone gets the baselines (every ``baseline_every`` checkpoints) and the end-state
    certificates (NaN for the others). The first ``intervene`` seeds get the ``candidates``
    alternative steps (learning rate ``candidate_lr``, default ``lr``) at the
    INTERVENTION_FRACTIONS of the training steps.
    """
    data = data.to(device)
    total = epochs * steps_per_epoch(data, batch_size)
    model = glorot_mlp(seeds, data.in_features, width, depth, data.num_classes, activation, device)
    trackings = track_training(
        model,
        data,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        checkpoint_every=checkpoint_every,
        schedule=schedule,
        weight_decay=weight_decay,
        baseline_every=baseline_every,
        intervene_at=tuple(max(1, round(f * total)) for f in INTERVENTION_FRACTIONS) if intervene else (),
        candidates=candidates,
        candidate_lr=candidate_lr,
        detailed=(0,),
        intervened=tuple(range(min(intervene, len(seeds)))),
        keep_weights=keep_weights,
        device=device,
    )
    with torch.no_grad():
        states = model.eval().hidden_states(data.x_train.flatten(1))
    labels = labels_of(data)
    certified = np.array([sep.certified_fraction(h[0], labels) for h in states])
    return [
        TrackedRun(activation, seed, tracking, certified if i == 0 else np.full(depth, np.nan))
        for i, (seed, tracking) in enumerate(zip(seeds, trackings))
    ]


def runs_by_seed(tracked: Mapping[str, Sequence[TrackedRun]]) -> dict[int, list[TrackedRun]]:
    """activation -> runs over seeds (from :func:`synchronicity_runs`) as seed -> the runs of that seed
    in the order of ``tracked``."""
    by_seed: dict[int, list[TrackedRun]] = {}
    for runs in tracked.values():
        for run in runs:
            by_seed.setdefault(run.seed, []).append(run)
    return by_seed


def spirals_run(
    *, depth: int, batch_size: int, epochs: int, seed: int, device: torch.device | str
) -> tuple[Dataset, TrackedRun]:
    """The 2-D spirals (3 classes) with a SPIRAL_WIDTH tanh net at SPIRAL_LR, kept at about
    SPIRAL_CHECKPOINTS checkpoints (weights kept for :func:`hidden_states_at`)."""
    data = load_dataset("spirals", seed=seed).to(device)
    total = epochs * steps_per_epoch(data, batch_size)
    return data, synchronicity_runs(
        data,
        "tanh",
        [seed],
        width=SPIRAL_WIDTH,
        depth=depth,
        lr=SPIRAL_LR,
        batch_size=batch_size,
        epochs=epochs,
        checkpoint_every=max(1, total // SPIRAL_CHECKPOINTS),
        device=device,
        keep_weights=True,
    )[0]


@torch.no_grad()
def hidden_states_at(run: TrackedRun, data: Dataset, index: int, *, width: int, seed: int) -> list[torch.Tensor]:
    """Hidden states of the training inputs under the weights of checkpoint ``index`` (kept weights)."""
    model = glorot_mlp(
        [seed], data.in_features, width, run.tracking.depth, data.num_classes, run.activation, data.x_train.device
    )
    model.load_state_dict(run.tracking.weights[index])
    return [h[0] for h in model.eval().hidden_states(data.x_train)]


def synchronicity_table(runs: Sequence[TrackedRun]) -> pd.DataFrame:
    """Per run and hidden layer: rho start/end, level Spearman, naive and trend-controlled change statistics."""
    rows = []
    for run in runs:
        for layer in range(1, run.tracking.depth + 1):
            h = run.tracking.layer(layer)
            changes = change_agreement(h["train_accuracy"], h["rho"])
            rows.append(
                dict(
                    activation=run.activation,
                    layer=layer,
                    acc_end=h["train_accuracy"].iloc[-1],
                    rho_start=h["rho"].iloc[0],
                    rho_end=h["rho"].iloc[-1],
                    level_spearman=level_correlation(h["rho"], h["train_accuracy"]),
                    sign_agreement=changes.agreement,
                    n_intervals=changes.n,
                    sign_p=changes.p_binomial,
                    phi=changes.phi,
                    phi_defined=changes.phi_defined,
                    fisher_p=changes.fisher_p,
                    detrended_spearman=changes.detrended_spearman,
                    rho_down_when_accuracy_down=changes.p_rho_down_given_accuracy_down,
                    certified_end=run.certified[layer - 1],
                )
            )
    return pd.DataFrame(rows)


def last_layer_row(table: pd.DataFrame, run: TrackedRun) -> pd.Series:
    """The row of :func:`synchronicity_table` for ``run``'s last hidden layer."""
    rows = table[(table["activation"] == run.activation) & (table["layer"] == run.tracking.depth)]
    return rows.iloc[0]


def interventional_table(runs: Sequence[TrackedRun]) -> pd.DataFrame:
    """Spearman(d_rho, d_accuracy) per activation, seed, intervention step and layer."""
    frames = [
        interventional_correlations(r.tracking.interventions).assign(activation=r.activation, seed=r.seed)
        for r in runs
        if len(r.tracking.interventions)
    ]
    return pd.concat(frames, ignore_index=True)


# --- the same runs over seeds ------------------------------------------------------------------


def seed_table(runs_by_seed: Mapping[int, Sequence[TrackedRun]]) -> pd.DataFrame:
    """Per seed and run: final training and test accuracy, the last hidden layer's rho gain and
    synchronicity statistics (``phi`` NaN where a margin of the sign table is empty), and
    ``min_layer_step``, the smallest rise of final rho from one hidden layer to the next (negative:
    a layer drops)."""
    rows = []
    for seed, runs in runs_by_seed.items():
        table = synchronicity_table(runs)
        for run in runs:
            row = last_layer_row(table, run)
            rows.append(
                dict(
                    seed=seed,
                    activation=run.activation,
                    acc_end=row["acc_end"],
                    test_end=run.test_accuracy,
                    gain=run.gain,
                    level_spearman=row["level_spearman"],
                    sign_agreement=row["sign_agreement"],
                    n_intervals=row["n_intervals"],
                    phi=row["phi"] if row["phi_defined"] else float("nan"),
                    fisher_p=row["fisher_p"],
                    detrended_spearman=row["detrended_spearman"],
                    min_layer_step=claims.smallest_layer_step(run.tracking.final_rho()),
                )
            )
    return pd.DataFrame(rows)


def baselines(tracked: Mapping[str, Sequence[TrackedRun]], data: Dataset, *, width: int, depth: int) -> list[Baseline]:
    """Each activation's networks (mean final test accuracy over seeds, percent) against the book's
    MLP reference for ``data``; the sigmoid network, meant to stall at the shared learning rate, is
    an exempt control. Without a reference for the data set, only the control is listed."""
    found = []
    for activation, runs in tracked.items():
        accuracy = 100 * float(np.mean([r.test_accuracy for r in runs]))
        name = f"{activation} MLP {width}x{depth}, {len(runs)} seeds"
        if activation == "sigmoid":
            found.append(
                Baseline(f"{name} (control: shared learning rate)", data.name, accuracy, None, "meant to stall")
            )
        else:
            found.append(baseline(name, data.name, "mlp", accuracy))
    return [b for b in found if b is not None]


# --- width and sample size ---------------------------------------------------------------------


def width_study(
    data: Dataset,
    *,
    widths: Sequence[int],
    depth: int,
    epochs: int,
    lr: float,
    batch_size: int,
    small_per_class: int,
    seeds: Sequence[int],
    device: torch.device | str,
    schedule: str = "constant",
    weight_decay: float = 0.0,
) -> pd.DataFrame:
    """For each width, one tanh network per seed (stacked): at initialisation and after ``epochs``
    of SGD, its last hidden layer measured in-sample, held-out and label-shuffled (with all samples
    and with ``small_per_class``, both drawn with the first seed), and the share of shuffled class
    pairs the LP proves separable at the small sample. One row per width, seed, stage and sample."""
    first = seeds[0]
    small = data.to("cpu").subset(small_per_class * data.num_classes, seed=first).to(device)
    data = data.to(device)
    rows = []
    for width in widths:
        model = glorot_mlp(seeds, data.in_features, width, depth, data.num_classes, "tanh", device)
        for stage in ("init", "trained"):
            if stage == "trained":
                fit(
                    model,
                    data,
                    epochs=epochs,
                    lr=lr,
                    batch_size=batch_size,
                    optimizer="sgd",
                    weight_decay=weight_decay,
                    schedule=schedule,
                    order="per_seed",
                    measure=False,
                    progress=False,
                    device=device,
                )
            for sample, subset in (("all", data), ("small", small)):
                with torch.no_grad():
                    states = model.eval().hidden_states(subset.x_train.flatten(1))[-1]
                labels = labels_of(subset)
                for i, seed in enumerate(seeds):
                    shuffled = sep.shuffled_labels(labels, seed)
                    row = dict(
                        width=width,
                        seed=seed,
                        stage=stage,
                        sample=sample,
                        per_pair=2 * len(labels) // data.num_classes,
                        **separability_baselines(states[i], labels, shuffled, seed, HELDOUT_REPEATS),
                    )
                    if sample == "small":
                        row["shuffled_certified"] = sep.certified_fraction(states[i], shuffled)
                    rows.append(row)
    return pd.DataFrame(rows)


def parse_widths(widths: str) -> list[int]:
    """ "8,32,128" -> [8, 32, 128]."""
    return [int(w) for w in widths.split(",")]


# --- plain values for the claims ---------------------------------------------------------------


def seed_values(seeds: pd.DataFrame, column: str) -> dict[str, list[float]]:
    """activation -> per seed, ``column`` of :func:`seed_table`."""
    return {a: [float(v) for v in group[column]] for a, group in seeds.groupby("activation", sort=False)}


CHANGE_COLUMNS = dict(
    agreement="sign_agreement", n="n_intervals", phi="phi", fisher_p="fisher_p", detrended="detrended_spearman"
)


def change_values(seeds: pd.DataFrame) -> dict[str, dict[str, list[float]]]:
    """activation -> the last hidden layer's per-seed change statistics, keyed as
    :func:`claims.changes_claim` reads them."""
    return {
        a: {k: [float(v) for v in group[c]] for k, c in CHANGE_COLUMNS.items()}
        for a, group in seeds.groupby("activation", sort=False)
    }


def interventional_values(inter: pd.DataFrame, depth: int) -> dict[str, dict[str, list[float]]]:
    """activation -> per seed: ``last``, ``first`` (mean Spearman over the claims.LATE_STATES latest
    saved states, last and first hidden layer) and ``early`` (last layer, first saved state), from
    :func:`interventional_table`."""
    values = {}
    for a, by_activation in inter.groupby("activation", sort=False):
        per_seed = dict(last=[], first=[], early=[])
        for _, group in by_activation.groupby("seed", sort=True):
            steps = sorted(group["step"].unique())
            late = group[group["step"].isin(steps[-claims.LATE_STATES :])]
            early = group[(group["step"] == steps[0]) & (group["layer"] == depth)]["spearman"]
            per_seed["last"].append(float(late[late["layer"] == depth]["spearman"].mean()))
            per_seed["first"].append(float(late[late["layer"] == 1]["spearman"].mean()))
            per_seed["early"].append(float(early.iloc[0]))
        values[a] = per_seed
    return values


def final_rho_values(tracked: Mapping[str, Sequence[TrackedRun]]) -> dict[str, list[list[float]]]:
    """activation -> per seed, the final OvO rho_P of hidden layers 1..L."""
    return {a: [r.tracking.final_rho().tolist() for r in runs] for a, runs in tracked.items()}


def width_values(widths: pd.DataFrame) -> dict[str, list[float]]:
    """The values of :func:`claims.width_claim` from :func:`width_study`'s table, one per seed."""
    per_seed = {k: [] for k in claims.WIDTH_KEYS}
    for _, table in widths.groupby("seed", sort=True):
        for k, v in one_seed_width_values(table).items():
            per_seed[k].append(v)
    return per_seed


def one_seed_width_values(widths: pd.DataFrame) -> dict[str, float]:
    """:data:`claims.WIDTH_KEYS` of one seed's rows of :func:`width_study`."""
    end = widths[widths["stage"] == "trained"]
    full, small = end[end["sample"] == "all"].set_index("width"), end[end["sample"] == "small"].set_index("width")
    narrow, wide = full.index.min(), full.index.max()
    saturated = small[small["per_pair"] <= small.index]  # per-pair sample <= width: Cover regime
    return {
        "in_sample_narrow": float(full.loc[narrow, "in_sample"]),
        "in_sample_wide": float(full.loc[wide, "in_sample"]),
        "heldout_narrow": float(full.loc[narrow, "heldout"]),
        "heldout_wide": float(full.loc[wide, "heldout"]),
        "shuffled_wide": float(full.loc[wide, "shuffled"]),
        "shuffled_small_wide": float(small.loc[wide, "shuffled"]),
        "shuffled_certified_saturated": float(saturated["shuffled_certified"].min())
        if len(saturated)
        else float("nan"),
        "shuffled_heldout_max_deviation": float((widths["shuffled_heldout"] - 0.5).abs().max()),
    }
