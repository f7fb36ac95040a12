"""Chapter 1, "Half-space features": data, training and measurement runners for Deep Linearly Gated
Networks (Yadav et al., arXiv 2404.04312).

Runners: the path-sum identity on tiny nets; five learners on the circle data (ReLU, deep linear net,
DLGN, DLGN with frozen gating, DLGN-SF); the overlap kernel and NTK over training; the gating
hyperplanes and their clustering; a beta sweep of frozen versus learned gating with hard-gate
evaluation; DLGN versus ReLU on Fashion-MNIST (all of it, or a class-stratified subset). Every
runner takes explicit arguments and a ``device``; data, models and measurements live there, and
tables hold plain Python numbers. The
``*_values`` helpers turn a table into the plain inputs of the matching function in ``claims``.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from linstruct.core.claims import Baseline
from linstruct.data import Dataset, load_dataset
from linstruct.data.references import baseline
from linstruct.nn.fit import Snapshots, evaluate, final, fit
from linstruct.studies.half_space.claims import CONVERGED_MSE, CONVERGED_PATIENCE
from linstruct.studies.half_space.gated import GatedNet, hard_gates, path_sum, steps_to_sustained
from linstruct.studies.half_space.hyperplanes import clustering_table
from linstruct.studies.half_space.kernels import block_ratio, empirical_ntk, hard_overlap, relative_change

LEARNERS = {  # key -> (family, regime, label)
    "relu": ("relu", "both", "ReLU MLP"),
    "dln": ("dln", "both", "deep linear net"),
    "dlgn": ("dlgn", "both", "DLGN"),
    "frozen": ("dlgn", "frozen-gating", "DLGN, frozen gating"),
    "sf": ("dlgn-sf", "both", "DLGN-SF"),
}
FMNIST_LEARNERS = ("relu", "dlgn", "frozen", "dln")
FMNIST_BASELINES = {"relu": "mlp", "dlgn": "dlgn"}  # learner -> its reference family; the others are controls
CLASS_PROBE_IMAGES = 200  # test images on which the within/between-class overlap ratio is measured
EARLY_EPOCH = 3  # the paper's "epoch 3" kernel panels
HEATMAP_STRIDE = 5  # every 5th circle point in kernel heatmaps (100 x 100 for n = 500)
STEPS_COLUMN = f"steps_to_{CONVERGED_MSE:g}"


def label(key: str) -> str:
    """The learner's name as figures and tables show it."""
    return LEARNERS[key][2]


@dataclass(frozen=True)
class Architecture:
    """What every learner of one comparison shares: ``depth`` layers of ``width`` units, gate sharpness
    ``beta``, the value net's input (``"pwc"`` ones or ``"pwl"`` x), biases, the initial gating-weight
    multiplier and the dtype."""

    width: int
    depth: int
    beta: float = 4.0
    value_input: str = "pwc"
    bias: bool = True
    gate_init_scale: float = 1.0
    dtype: torch.dtype = torch.float32


def build(
    key: str,
    arch: Architecture,
    in_features: int,
    out_features: int,
    seeds: Sequence[int],
    *,
    beta: float | Sequence[float] | None = None,
    device: torch.device | str = "cpu",
) -> GatedNet:
    """The stacked ``GatedNet`` of learner ``key`` (one copy per seed) on ``device``; ``beta`` overrides
    the architecture's (one value or one per copy)."""
    family, regime, _ = LEARNERS[key]
    model = GatedNet(
        family,
        in_features,
        arch.width,
        arch.depth,
        out_features,
        seeds=seeds,
        beta=arch.beta if beta is None else beta,
        value_input=arch.value_input,
        regime=regime,
        bias=arch.bias,
        gate_init_scale=arch.gate_init_scale,
        dtype=arch.dtype,
    )
    return model.to(device)


def parse_betas(text: str) -> list[float]:
    """ "1,4,10,30" -> [1.0, 4.0, 10.0, 30.0]."""
    return [float(b) for b in text.split(",")]


def snapshot_epochs(epochs: int) -> list[int]:
    """Epochs with saved parameters: 0-3, every 5th and the last."""
    return sorted({e for e in (0, 1, 2, EARLY_EPOCH, epochs) if e <= epochs} | set(range(0, epochs + 1, 5)))


def kernel_epochs(epochs: int) -> list[int]:
    """Roughly log-spaced snapshot epochs where the overlap kernel is measured."""
    grid = {0, 1, 2, EARLY_EPOCH, epochs} | {e for e in (5, 10, 20, 40, 80, 160, 320, 640, 1280) if e < epochs}
    return sorted(e for e in grid if e <= epochs)


@dataclass
class TrainedStack:
    """A trained stack, its ``fit`` history (``train_loss``: the full training set's loss per copy
    and epoch) and its parameter snapshots (``snapshots.at(epoch)``)."""

    model: GatedNet
    history: pd.DataFrame
    snapshots: Snapshots


def fit_stack(
    model: GatedNet,
    data: Dataset,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    order_seed: int,
    snapshots: Sequence[int] = (),
) -> TrainedStack:
    """Train every copy of ``model`` on the regression ``data`` with Adam; all copies see the same
    minibatches, shuffled by a generator seeded ``order_seed``; snapshots at the epochs ``snapshots``."""
    kept = Snapshots(snapshots)
    history = fit(
        model, data, epochs=epochs, lr=lr, batch_size=batch_size, order="shared", order_seed=order_seed, on_epoch=kept
    )
    return TrainedStack(model, history, kept)


def hard_gate_mse(model: GatedNet, data: Dataset) -> torch.Tensor:
    """Each copy's training-set MSE with step gates 1[eta >= 0] in place of the soft ones: (S,)."""
    with hard_gates(model):
        return evaluate(model, data.x_train, data.y_train, "regression")["loss"]


def steps_to_converge(losses: Sequence[float], steps: Sequence[int]) -> float:
    """The first step of a run of ``CONVERGED_PATIENCE`` records below ``CONVERGED_MSE`` (inf: none)."""
    return steps_to_sustained(losses, steps, CONVERGED_MSE, CONVERGED_PATIENCE)


# ---------------------------------------------------------------- the path sum
def scaled_error(approx: torch.Tensor, exact: torch.Tensor) -> float:
    """max |approx - exact| / max |exact| (the error relative to the output's scale, so the same for
    inputs or weights of any magnitude); the plain max error when ``exact`` is all zeros."""
    scale = exact.abs().max()
    error = (approx - exact).abs().max()
    return float(error / scale) if scale > 0 else float(error)


def path_identity_errors(
    seed: int = 0, *, scale: float = 1.0, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
) -> dict[str, float]:
    """:func:`scaled_error` of the path sum against the forward pass on tiny nets (d = 2, m = 3, L = 3,
    27 paths, 64 standard-normal inputs times ``scale``), for ReLU and DLGN (pwc, pwl; soft and hard gates)."""
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(seed), dtype=dtype).to(device) * scale
    cases = {
        "relu": ("relu", "pwc", False),
        "dlgn_pwc_soft": ("dlgn", "pwc", False),
        "dlgn_pwc_hard": ("dlgn", "pwc", True),
        "dlgn_pwl_soft": ("dlgn", "pwl", False),
    }
    errors = {}
    for name, (family, value_input, hard) in cases.items():
        model = GatedNet(family, 2, 3, 3, seeds=(seed,), value_input=value_input, dtype=dtype).to(device)
        with torch.no_grad():
            forward = model(x, hard=hard)[0, :, 0]
        errors[name] = scaled_error(path_sum(model, x, hard), forward)
    return errors


# ---------------------------------------------------------------- learners on the circle
def circle_data(*, n_points: int, a: float, b: float, device: torch.device | str = "cpu") -> Dataset:
    """The circle regression data (sorted by angle) on ``device``."""
    return load_dataset("circle", n=n_points, a=a, b=b).to(device)


@dataclass
class CircleRuns:
    data: Dataset
    runs: dict[str, TrainedStack]
    epochs: int

    @property
    def top_mask(self) -> torch.Tensor:
        """(n,) bool on the data's device: points on the smooth upper half, theta < pi (the data are
        sorted by angle)."""
        n = len(self.data.x_train)
        return torch.arange(n, device=self.data.x_train.device) < n / 2


def train_circle(
    data: Dataset,
    arch: Architecture,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seeds: Sequence[int],
    device: torch.device | str,
    keys: Sequence[str] = tuple(LEARNERS),
) -> CircleRuns:
    """Train each learner in ``keys`` over ``seeds`` (one stack per learner) on the circle ``data``, with
    Adam, minibatches in the order of ``seeds[0]``, and snapshots at :func:`snapshot_epochs`."""
    data = data.to(device)
    runs = {
        key: fit_stack(
            build(key, arch, 2, 1, seeds, device=device),
            data,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            order_seed=seeds[0],
            snapshots=snapshot_epochs(epochs),
        )
        for key in keys
    }
    return CircleRuns(data, runs, epochs)


def learning_table(circle: CircleRuns) -> pd.DataFrame:
    """Per learner and seed: final full-data MSE, hard-gate MSE, steps to sustained convergence."""
    rows = []
    for key, run in circle.runs.items():
        hard = hard_gate_mse(run.model, circle.data)
        for i, h in run.history.groupby("copy"):
            rows.append(
                {
                    "learner": label(key),
                    "key": key,
                    "seed": run.model.seeds[i],
                    "final_mse": float(h["train_loss"].iloc[-1]),
                    "hard_gate_mse": float(hard[i]),
                    STEPS_COLUMN: steps_to_converge(h["train_loss"].tolist(), h["step"].tolist()),
                }
            )
    return pd.DataFrame(rows)


def column(table: pd.DataFrame, key: str, name: str) -> list[float]:
    """The learner ``key``'s values of column ``name``, in seed order, as Python floats."""
    return [float(v) for v in table[table["key"] == key].sort_values("seed")[name]]


def learns_values(learning: pd.DataFrame) -> dict[str, list[float]]:
    """The inputs of ``claims.learns_claim``."""
    return {
        "dlgn_steps": column(learning, "dlgn", STEPS_COLUMN),
        "dlgn_final": column(learning, "dlgn", "final_mse"),
        "relu_final": column(learning, "relu", "final_mse"),
        "dln_final": column(learning, "dln", "final_mse"),
    }


def frozen_values(learning: pd.DataFrame) -> dict[str, list[float]]:
    """The per-seed inputs of ``claims.frozen_claim``."""
    return {
        "learned_final": column(learning, "dlgn", "final_mse"),
        "frozen_final": column(learning, "frozen", "final_mse"),
    }


# ---------------------------------------------------------------- kernels
@torch.no_grad()
def overlap_over_training(circle: CircleRuns, keys: Sequence[str] = ("dlgn", "frozen", "sf", "relu")) -> pd.DataFrame:
    """Per learner, seed and kernel epoch: top and bottom block means of the hard overlap kernel,
    their ratio R, R / R_0, and the relative Frobenius change of the kernel from initialisation."""
    x, top = circle.data.x_train, circle.top_mask
    rows = []
    for key in keys:
        run = circle.runs[key]
        initial = {}
        for epoch in kernel_epochs(circle.epochs):
            model = run.snapshots.at(epoch)
            for i, seed in enumerate(model.seeds):
                omega = hard_overlap(model, x, i)
                if epoch == 0:
                    initial[seed] = omega
                top_mean, bottom_mean, ratio = block_ratio(omega, top)
                rows.append(
                    {
                        "learner": label(key),
                        "key": key,
                        "seed": seed,
                        "epoch": epoch,
                        "top_mean": top_mean,
                        "bottom_mean": bottom_mean,
                        "R": ratio,
                        "change": relative_change(initial[seed], omega),
                    }
                )
    table = pd.DataFrame(rows)
    r0 = table[table["epoch"] == 0].set_index(["key", "seed"])["R"]
    table["R_over_R0"] = [r / r0[(k, s)] for k, s, r in zip(table["key"], table["seed"], table["R"])]
    return table


def at_epoch(overlap: pd.DataFrame, key: str, name: str, last: bool) -> list[float]:
    """Learner ``key``'s column ``name`` at initialisation (``last=False``) or the last kernel epoch, per seed."""
    part = overlap[overlap["key"] == key]
    return column(part[part["epoch"] == (part["epoch"].max() if last else 0)], key, name)


def kernel_change_values(overlap: pd.DataFrame) -> dict[str, list[float]]:
    """The per-seed inputs of ``claims.kernel_change_claim`` (add ``ntk_change``)."""
    return {
        "learned_change": at_epoch(overlap, "dlgn", "change", last=True),
        "frozen_change": at_epoch(overlap, "frozen", "change", last=True),
    }


def allocation_values(overlap: pd.DataFrame) -> dict[str, list[float]]:
    """The inputs of ``claims.allocation_claim``."""
    return {
        "r_initial": at_epoch(overlap, "dlgn", "R", last=False),
        "r_final": at_epoch(overlap, "dlgn", "R", last=True),
        "bottom_initial": at_epoch(overlap, "dlgn", "bottom_mean", last=False),
        "bottom_final": at_epoch(overlap, "dlgn", "bottom_mean", last=True),
    }


def relu_gain_values(overlap: pd.DataFrame) -> dict[str, list[float]]:
    """The input of ``claims.relu_analogue_claim``."""
    return {"relu_r_gain": at_epoch(overlap, "relu", "R_over_R0", last=True)}


@torch.no_grad()
def kernel_panels(circle: CircleRuns, keys: Sequence[str] = ("relu", "dlgn")) -> dict:
    """Heatmaps for seed index 0 at initialisation, EARLY_EPOCH and the end, on every 5th point:
    {(key, kind, epoch): (k, k) NumPy array} with kind 'overlap' (hard, trace-normalised) or 'ntk'
    (full, trace-normalised); also 'ntk_value' for the DLGN (value parameters only)."""
    x = circle.data.x_train[::HEATMAP_STRIDE]
    panels = {}
    for key in keys:
        for epoch in (0, min(EARLY_EPOCH, circle.epochs), circle.epochs):
            model = circle.runs[key].snapshots.at(epoch).member(0)
            panels[(key, "overlap", epoch)] = hard_overlap(model, x, 0).cpu().numpy()
            with torch.enable_grad():
                panels[(key, "ntk", epoch)] = empirical_ntk(model, x).cpu().numpy()
                if model.gated:
                    names = [n for n, _ in model.named_parameters() if n.startswith(("value", "head"))]
                    panels[(key, "ntk_value", epoch)] = empirical_ntk(model, x, names).cpu().numpy()
    return panels


def ntk_changes(panels: dict, epochs: int) -> dict[str, float]:
    """Relative Frobenius change of the full NTK from initialisation to ``epochs``, per learner."""
    return {
        key: relative_change(torch.from_numpy(panels[(key, "ntk", 0)]), torch.from_numpy(panels[(key, "ntk", epochs)]))
        for key in ("relu", "dlgn")
    }


# ---------------------------------------------------------------- hyperplanes
def clustering_over_seeds(circle: CircleRuns, keys: Sequence[str] = ("dlgn", "sf")) -> pd.DataFrame:
    """Per learner, seed, layer, at initialisation and the end: the clustering measures."""
    rows = []
    for key in keys:
        for stage, epoch in (("init", 0), ("final", circle.epochs)):
            model = circle.runs[key].snapshots.at(epoch)
            for i, seed in enumerate(model.seeds):
                rows += [
                    {"learner": label(key), "key": key, "seed": seed, "stage": stage, **r}
                    for r in clustering_table(model, i)
                ]
    return pd.DataFrame(rows)


def clustering_values(clusters: pd.DataFrame, depth: int) -> dict:
    """The inputs of ``claims.clustering_claim``."""

    def layer_values(key: str, stage: str, layer: int, name: str = "entropy") -> list[float]:
        part = clusters[(clusters["stage"] == stage) & (clusters["layer"] == layer)]
        return column(part, key, name)

    return {
        "depth": depth,
        "last_init": layer_values("dlgn", "init", depth),
        "last_final": layer_values("dlgn", "final", depth),
        "first_init": layer_values("dlgn", "init", 1),
        "first_final": layer_values("dlgn", "final", 1),
        "last_near_90": layer_values("dlgn", "final", depth, "near_90"),
        "sf_last_init": layer_values("sf", "init", depth),
        "sf_last_final": layer_values("sf", "final", depth),
    }


# ---------------------------------------------------------------- beta sweep, hard gates
@dataclass
class BetaSweep:
    table: pd.DataFrame  # one row per beta and regime
    runs: dict[str, TrainedStack]


def beta_sweep(
    data: Dataset,
    arch: Architecture,
    *,
    betas: Sequence[float],
    seeds: Sequence[int],
    epochs: int,
    lr: float,
    batch_size: int,
    device: torch.device | str,
) -> BetaSweep:
    """Learned and frozen-gating DLGNs at every beta and seed, as one stack per regime (copies beta-major:
    every seed at the first beta, then at the second, ...), minibatches in the order of ``seeds[0]``."""
    data = data.to(device)
    copies = [(float(beta), seed) for beta in betas for seed in seeds]
    rows, runs = [], {}
    for key in ("dlgn", "frozen"):
        model = build(key, arch, 2, 1, [s for _, s in copies], beta=[b for b, _ in copies], device=device)
        run = runs[key] = fit_stack(model, data, epochs=epochs, lr=lr, batch_size=batch_size, order_seed=seeds[0])
        hard = hard_gate_mse(model, data)
        for i, (beta, seed) in enumerate(copies):
            h = run.history[run.history["copy"] == i]
            rows.append(
                {
                    "beta": beta,
                    "regime": label(key),
                    "key": key,
                    "seed": seed,
                    "final_mse": float(h["train_loss"].iloc[-1]),
                    "hard_gate_mse": float(hard[i]),
                    STEPS_COLUMN: steps_to_converge(h["train_loss"].tolist(), h["step"].tolist()),
                }
            )
    return BetaSweep(pd.DataFrame(rows), runs)


def sweep_summary(sweep: BetaSweep) -> pd.DataFrame:
    """Per beta and regime: the median over seeds of the final MSE with soft and hard gates, and the
    share of seeds that converged (sustained)."""
    table = sweep.table.assign(converged=lambda t: t[STEPS_COLUMN] < float("inf"))
    return table.groupby(["beta", "regime"], sort=False).agg(
        final_mse=("final_mse", "median"), hard_gate_mse=("hard_gate_mse", "median"), converged=("converged", "mean")
    )


def beta_values(sweep: BetaSweep) -> dict[float, dict[str, list[float]]]:
    """The input of ``claims.beta_claim``: beta -> per-seed final MSEs of learned and frozen gating."""
    at = {beta: part for beta, part in sweep.table.groupby("beta")}
    return {
        float(beta): {
            "learned_mse": column(part, "dlgn", "final_mse"),
            "frozen_mse": column(part, "frozen", "final_mse"),
        }
        for beta, part in sorted(at.items())
    }


def hard_gate_values(learning: pd.DataFrame, sweep: BetaSweep) -> dict:
    """The inputs of ``claims.hard_gate_claim`` (add ``beta``): per-seed hard-gate MSEs of the chapter's
    DLGN and of the sweep's learned-gating DLGN at its largest beta."""
    top_beta = float(sweep.table["beta"].max())
    top = sweep.table[sweep.table["beta"] == top_beta]
    return {
        "main_hard_mse": column(learning, "dlgn", "hard_gate_mse"),
        "top_hard_mse": column(top, "dlgn", "hard_gate_mse"),
        "top_beta": top_beta,
    }


# ---------------------------------------------------------------- Fashion-MNIST
@dataclass
class FashionRuns:
    data: Dataset
    table: pd.DataFrame  # one row per learner and seed: test accuracy
    ratios: dict[str, float]  # within/between-class overlap-kernel mean ratio, DLGN first seed: init, final


def fashion_data(*, n_train: int, seed: int, device: torch.device | str = "cpu") -> Dataset:
    """A class-stratified Fashion-MNIST training subset and the full test set (sklearn digits when the
    local files are missing; the data set's ``note`` says so), on ``device``."""
    return load_dataset("fashion-mnist", seed=seed, n_train=n_train, fallback="digits").to(device)


def class_ratio(model: GatedNet, x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean hard overlap kernel within classes / between classes (copy 0)."""
    omega = hard_overlap(model, x, 0)
    same = y[:, None] == y[None, :]
    return float(omega[same].mean() / omega[~same].mean())


def train_fashion(
    data: Dataset,
    arch: Architecture,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seeds: Sequence[int],
    device: torch.device | str,
) -> FashionRuns:
    """Train each of ``FMNIST_LEARNERS`` over ``seeds`` on ``data`` (cross-entropy, Adam with cosine
    decay, one shared minibatch order) and test them; the DLGN's class ratio is measured on the first
    test images sorted by class."""
    data = data.to(device)
    probe = torch.argsort(data.y_test[:CLASS_PROBE_IMAGES], stable=True)
    xp, yp = data.x_test[:CLASS_PROBE_IMAGES][probe], data.y_test[:CLASS_PROBE_IMAGES][probe]
    rows, ratios = [], {}
    for key in FMNIST_LEARNERS:
        model = build(key, arch, data.in_features, data.num_classes, seeds, device=device)
        if key == "dlgn":
            ratios["init"] = class_ratio(model, xp, yp)
        history = fit(
            model,
            data,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            schedule="cosine",
            order="shared",
            order_seed=seeds[0],
            evaluate_every=epochs,
        )
        if key == "dlgn":
            ratios["final"] = class_ratio(model, xp, yp)
        rows += [
            {"learner": label(key), "key": key, "seed": s, "test_accuracy": 100 * float(a)}
            for s, a in zip(seeds, final(history, "test_accuracy"))
        ]
    return FashionRuns(data, pd.DataFrame(rows), ratios)


def fashion_baselines(fashion: FashionRuns) -> list[Baseline]:
    """Every Fashion-MNIST learner's mean test accuracy: the ReLU MLP and the DLGN against their
    references, frozen gating and the deep linear net as exempt controls."""
    found = []
    for key in FMNIST_LEARNERS:
        accuracy = statistics.fmean(column(fashion.table, key, "test_accuracy"))
        if key in FMNIST_BASELINES:
            found.append(baseline(label(key), fashion.data.name, FMNIST_BASELINES[key], accuracy))
        else:
            found.append(
                Baseline(f"{label(key)} (control)", fashion.data.name, accuracy, None, "meant not to learn features")
            )
    return [b for b in found if b is not None]


def fashion_values(fashion: FashionRuns) -> dict:
    """The inputs of ``claims.fashion_claim``."""
    return {
        "baselines": fashion_baselines(fashion),
        "accuracy": {key: column(fashion.table, key, "test_accuracy") for key in FMNIST_LEARNERS},
        "class_ratio_init": fashion.ratios["init"],
        "class_ratio_final": fashion.ratios["final"],
        "dataset": fashion.data.name,
    }
