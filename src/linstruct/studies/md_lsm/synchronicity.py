"""Synchronicity of hidden-layer separability and training performance, at three levels.

* **levels**: Spearman correlation of a layer's MD-LSM curve with the training-accuracy curve;
* **changes**: agreement in sign of the per-interval changes, their 2 x 2 table (phi, Fisher),
  and the correlation of increments after removing their moving-average trend;
* **alternative updates** (interventional): from one saved state, many single SGD steps on
  different minibatches; does the step that raises separability more also raise accuracy more?

:func:`track_training` trains S stacked copies at once with :func:`linstruct.nn.fit.fit`
(each copy its own seed's data order), measuring every hidden layer of every copy (one-vs-one
MD-LSM, :mod:`linstruct.studies.md_lsm.separability`) on the full training set at fixed step
intervals, and, for chosen copies, the baselines every few checkpoints and the alternative
updates at chosen steps. The model is a stacked :class:`linstruct.nn.mlp.MLP`:
``hidden_states(x) -> list[(S, n, width)]`` and a stacked linear ``head``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch.nn import functional as F

from linstruct.data import Dataset
from linstruct.nn.fit import evaluate, fit, make_optimizer, per_copy_loss
from linstruct.nn.mlp import MLP
from linstruct.studies.md_lsm.separability import (
    LayerResult,
    class_pairs,
    heldout_layer_separability,
    layer_separability,
    shuffled_labels,
)

SIGN_FLOOR = 1e-4  # |change of rho| below this counts as no change
DETREND_WINDOW = 9  # moving-average window (intervals) removed from increments


@dataclass(frozen=True)
class Snapshot:
    """One copy of the network measured on the evaluation set at one moment."""

    accuracy: float
    loss: float
    layers: tuple[LayerResult, ...]  # one per hidden layer, in order

    @property
    def rho(self) -> np.ndarray:
        """Mean one-vs-one rho_P of each hidden layer: (L,)."""
        return np.array([layer.mean for layer in self.layers])

    @property
    def directions(self) -> list:
        return [layer.directions for layer in self.layers]


@torch.no_grad()
def measure_copies(
    model: MLP, x: torch.Tensor, y: torch.Tensor, warm: Sequence[list | None], certify: bool = False
) -> list[Snapshot]:
    """Every copy of ``model`` measured on the shared set (x ``(n, in)``, y ``(n,)``), in eval mode.

    The hidden states ``(S, n, width)`` are measured per copy: candidates per class pair are ridge
    LDA, the copy's readout difference (last hidden layer) and ``warm[i]`` (copy i's directions per
    layer, or None). No LP certification by default (one estimator at every checkpoint).
    """
    was_training = model.training
    model.eval()
    states = model.hidden_states(x)
    logits = model.head(states[-1])
    model.train(was_training)
    labels = y.cpu().numpy()
    readouts = model.head.weight.detach().cpu().double().numpy()  # (S, C, width)
    snapshots = []
    for i in range(model.copies):
        directions = warm[i] or [None] * len(states)
        layers = tuple(
            layer_separability(
                h[i],
                labels,
                readout=readouts[i] if index == len(states) - 1 else None,
                warm=directions[index],
                certify=certify,
            )
            for index, h in enumerate(states)
        )
        snapshots.append(
            Snapshot(float((logits[i].argmax(1) == y).double().mean()), float(F.cross_entropy(logits[i], y)), layers)
        )
    return snapshots


class SeparabilityMonitor:
    """Measures every copy's hidden layers on a fixed evaluation set (x, y), on their device,
    each copy warm-started with the directions that won at its previous :meth:`measure` call
    with ``update=True``."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, copies: int):
        self.x, self.y = x, y
        self.labels = y.cpu().numpy()
        self.warm: list[list | None] = [None] * copies

    def measure(self, model: MLP, update: bool = True, certify: bool = False) -> list[Snapshot]:
        snapshots = measure_copies(model, self.x, self.y, self.warm, certify)
        if update:
            self.warm = [snap.directions for snap in snapshots]
        return snapshots


@dataclass
class Tracking:
    """What :func:`track_training` measured for one copy.

    ``history``: one row per checkpoint and hidden layer (``step``, ``layer`` from 1,
    ``train_accuracy``, ``train_loss``, ``test_accuracy``, ``rho`` (OvO mean rho_P),
    ``rho_min``, ``rho_r``, ``normalised``, ``ties``). ``pair_rho``: (checkpoints, L, P).
    ``baselines``: ``step``, ``layer``, ``in_sample``, ``heldout``, ``shuffled``,
    ``shuffled_heldout``. ``interventions``: ``step``, ``train_accuracy``, ``candidate``,
    ``layer``, ``d_rho``, ``d_accuracy``, ``d_loss``. ``weights``: the copy's one-copy state
    dicts at the checkpoints (when kept).
    """

    history: pd.DataFrame
    pair_rho: np.ndarray
    pairs: tuple[tuple[int, int], ...]
    baselines: pd.DataFrame
    interventions: pd.DataFrame
    weights: list[dict] = field(default_factory=list)

    def layer(self, layer: int) -> pd.DataFrame:
        """The checkpoints of one hidden layer (numbered from 1)."""
        return self.history[self.history["layer"] == layer].reset_index(drop=True)

    @property
    def depth(self) -> int:
        return int(self.history["layer"].max())

    def final_rho(self) -> np.ndarray:
        """OvO mean rho_P of each hidden layer at the last checkpoint: (L,)."""
        last = self.history[self.history["step"] == self.history["step"].max()]
        return last.sort_values("layer")["rho"].to_numpy()


def copy_state(model: MLP, index: int) -> dict[str, torch.Tensor]:
    """Copy ``index``'s parameters as a one-copy state dict (loads into ``model.member(index)``)."""
    return {k: v[index : index + 1].detach().clone() for k, v in model.state_dict().items()}


def track_training(
    model: MLP,
    data: Dataset,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    checkpoint_every: int,
    schedule: str = "constant",
    weight_decay: float = 0.0,
    baseline_every: int = 0,
    intervene_at: Sequence[int] = (),
    candidates: int = 30,
    candidate_lr: float | None = None,
    detailed: Sequence[int] = (0,),
    intervened: Sequence[int] | None = None,
    keep_weights: bool = False,
    device: torch.device | str | None = None,
) -> list[Tracking]:
    """Train every copy of ``model`` with plain SGD (learning-rate ``schedule``, L2 ``weight_decay``;
    data order ``per_seed``: copy i shuffles with ``model.seeds[i]``) and measure every copy at
    steps 0, c, 2c, ... (c = ``checkpoint_every``).

    For the copies in ``detailed`` only, every ``baseline_every``-th checkpoint (0: never) adds
    held-out and label-shuffled baselines; for the copies in ``intervened`` (None: ``detailed``),
    at each step in ``intervene_at``, ``candidates``
    alternative single SGD steps (learning rate ``candidate_lr``, default ``lr``; minibatches of
    ``batch_size`` from a generator seeded ``seed + 1``) are taken from the copy's current state
    and measured (see :func:`alternative_updates`); training itself is not affected. The model,
    the data and every forward pass live on ``device`` (None: where the model's parameters are);
    minibatch orders come from CPU generators, so they do not depend on the device.
    Returns one :class:`Tracking` per copy.
    """
    if checkpoint_every < 1 or candidates < 2:
        raise ValueError(f"need checkpoint_every >= 1 and candidates >= 2, got {checkpoint_every}, {candidates}")
    intervened = detailed if intervened is None else intervened
    for name, chosen in (("detailed", detailed), ("intervened", intervened)):
        if not set(chosen) <= set(range(model.copies)):
            raise ValueError(f"{name} must name copies 0..{model.copies - 1}; got {list(chosen)}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    x, y = data.x_train.flatten(1).to(device), data.y_train.to(device)
    monitor = SeparabilityMonitor(x, y, model.copies)
    test_x, test_y = data.x_test.flatten(1).to(device), data.y_test.to(device)
    copies = range(model.copies)
    rows, pair_rho = [[] for _ in copies], [[] for _ in copies]
    baselines, interventions, weights = [[] for _ in copies], [[] for _ in copies], [[] for _ in copies]
    generators = {i: torch.Generator().manual_seed(model.seeds[i] + 1) for i in intervened}
    labels = y.cpu().numpy()
    checkpoints = 0

    def checkpoint(step: int, net: MLP) -> None:
        nonlocal checkpoints
        snapshots = monitor.measure(net)
        test_accuracy = evaluate(net, test_x, test_y, "classification")["accuracy"].tolist()
        with_baselines = baseline_every and checkpoints % baseline_every == 0
        for i, snap in enumerate(snapshots):
            for index, layer in enumerate(snap.layers, start=1):
                rows[i].append(
                    dict(
                        step=step,
                        layer=index,
                        train_accuracy=snap.accuracy,
                        train_loss=snap.loss,
                        test_accuracy=test_accuracy[i],
                        rho=layer.mean,
                        rho_min=layer.minimum,
                        rho_r=layer.mean_r,
                        normalised=layer.normalised,
                        ties=float(layer.ties.mean()),
                    )
                )
            pair_rho[i].append(np.stack([layer.rho_p for layer in snap.layers]))
            if keep_weights:
                weights[i].append(copy_state(net, i))
        if with_baselines:
            for i, copy_rows in baseline_rows(net, x, labels, step, detailed).items():
                baselines[i].extend(copy_rows)
        checkpoints += 1

    def on_step(step: int, net: MLP, _losses: torch.Tensor) -> None:
        if step in intervene_at:
            for i in intervened:
                interventions[i].extend(
                    alternative_updates(
                        net.member(i),
                        monitor.warm[i],
                        x,
                        y,
                        step=step,
                        candidates=candidates,
                        lr=candidate_lr or lr,
                        batch_size=batch_size,
                        generator=generators[i],
                    )
                )
        if step % checkpoint_every == 0:
            checkpoint(step, net)

    def on_epoch(epoch: int, net: MLP) -> None:
        if epoch == 0:
            checkpoint(0, net)

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
        on_step=on_step,
        on_epoch=on_epoch,
        progress=False,
        device=device,
    )
    return [
        Tracking(
            pd.DataFrame(rows[i]),
            np.stack(pair_rho[i]),
            class_pairs(labels),
            pd.DataFrame(baselines[i]),
            pd.DataFrame(interventions[i]),
            weights[i],
        )
        for i in copies
    ]


@torch.no_grad()
def baseline_rows(
    model: MLP, x: torch.Tensor, labels: np.ndarray, step: int, copies: Sequence[int]
) -> dict[int, list[dict]]:
    """In-sample, held-out, shuffled and shuffled held-out OvO rho_P of every hidden layer of each of
    ``copies`` (copy i's labels shuffled and split with its seed): copy -> rows."""
    was_training = model.training
    model.eval()
    states = model.hidden_states(x)
    model.train(was_training)
    result = {}
    for i in copies:
        seed = model.seeds[i]
        shuffled = shuffled_labels(labels, seed)
        result[i] = [
            dict(step=step, layer=index, **separability_baselines(h[i], labels, shuffled, seed))
            for index, h in enumerate(states, start=1)
        ]
    return result


def separability_baselines(features, labels: np.ndarray, shuffled: np.ndarray, seed: int = 0, repeats: int = 1) -> dict:
    """The four estimates that expose in-sample optimism and capacity saturation
    (held-out ones averaged over ``repeats`` random splits)."""
    return dict(
        in_sample=layer_separability(features, labels).mean,
        heldout=heldout_layer_separability(features, labels, seed, repeats),
        shuffled=layer_separability(features, shuffled).mean,
        shuffled_heldout=heldout_layer_separability(features, shuffled, seed, repeats),
    )


def sgd_step_on_batches(model: MLP, x: torch.Tensor, y: torch.Tensor, index: torch.Tensor, lr: float) -> None:
    """One plain SGD step of every copy on its own minibatch: ``index`` ``(S, b)`` rows of the shared
    (x, y); copy i's gradient is that of its own mean cross-entropy."""
    optimizer = make_optimizer("sgd", model.parameters(), lr)
    optimizer.zero_grad(set_to_none=True)  # a member of a model in training carries its gradients
    with torch.enable_grad():
        per_copy_loss(model(x[index]), y[index], "classification").sum().backward()
    optimizer.step()


def alternative_updates(
    model: MLP,
    warm: list | None,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    step: int,
    candidates: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
) -> list[dict]:
    """Take ``candidates`` single SGD steps from the state of the one-copy ``model``; return their changes.

    The candidates are one stack of ``candidates`` copies of ``model`` (left untouched), candidate k
    stepping on the k-th random minibatch drawn from ``generator``; each is measured on (x, y) with
    the same candidate directions as the base state (the base's winners as warm starts; ``warm``: the
    model's previous winners, the base's warm start).
    """
    base = measure_copies(model, x, y, [warm])[0]
    trials = MLP.stack([model] * candidates)
    index = torch.stack([torch.randperm(len(x), generator=generator)[:batch_size] for _ in range(candidates)])
    sgd_step_on_batches(trials, x, y, index.to(x.device), lr)
    rows = []
    for k, after in enumerate(measure_copies(trials, x, y, [base.directions] * candidates)):
        for layer, (before_rho, after_rho) in enumerate(zip(base.rho, after.rho), start=1):
            rows.append(
                dict(
                    step=step,
                    train_accuracy=base.accuracy,
                    candidate=k,
                    layer=layer,
                    d_rho=after_rho - before_rho,
                    d_accuracy=after.accuracy - base.accuracy,
                    d_loss=after.loss - base.loss,
                )
            )
    return rows


# --- statistics --------------------------------------------------------------------------------


def spearman(u, v) -> float:
    """Spearman correlation; NaN when either series is constant."""
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    if len(u) < 3 or np.ptp(u) == 0 or np.ptp(v) == 0:
        return float("nan")
    return float(stats.spearmanr(u, v).statistic)


def level_correlation(rho, accuracy) -> float:
    """Level synchronicity: Spearman correlation of the two curves over checkpoints."""
    return spearman(rho, accuracy)


@dataclass(frozen=True)
class ChangeAgreement:
    """Per-interval changes of accuracy and rho: naive sign agreement and trend-controlled statistics.

    ``table`` = [[++, +-], [-+, --]] counts the signs of (d_accuracy, d_rho) over the ``n``
    intervals where both changed (|d_rho| > floor). ``phi`` is 0 and ``phi_defined`` False
    when a margin of the table is empty.
    """

    n: int
    agreement: float
    p_binomial: float
    table: np.ndarray
    phi: float
    phi_defined: bool
    fisher_p: float
    detrended_spearman: float
    p_rho_down_given_accuracy_down: float


def change_agreement(accuracy, rho, floor: float = SIGN_FLOOR, window: int = DETREND_WINDOW) -> ChangeAgreement:
    """Changes of accuracy and rho between consecutive checkpoints (see :class:`ChangeAgreement`)."""
    d_acc, d_rho = np.diff(np.asarray(accuracy, float)), np.diff(np.asarray(rho, float))
    used = (d_acc != 0) & (np.abs(d_rho) > floor)
    up_acc, up_rho = d_acc[used] > 0, d_rho[used] > 0
    table = np.array(
        [[np.sum(up_acc & up_rho), np.sum(up_acc & ~up_rho)], [np.sum(~up_acc & up_rho), np.sum(~up_acc & ~up_rho)]]
    )
    n = int(used.sum())
    agree = int(table[0, 0] + table[1, 1])
    p_binomial = float(stats.binomtest(agree, n, 0.5, alternative="greater").pvalue) if n else float("nan")
    phi, defined = phi_coefficient(table)
    fisher_p = float(stats.fisher_exact(table, alternative="greater").pvalue) if n else float("nan")
    down = table[1].sum()
    return ChangeAgreement(
        n,
        agree / n if n else float("nan"),
        p_binomial,
        table,
        phi,
        defined,
        fisher_p,
        spearman(detrend(d_acc, window), detrend(d_rho, window)),
        float(table[1, 1] / down) if down else float("nan"),
    )


def phi_coefficient(table: np.ndarray) -> tuple[float, bool]:
    """(phi, defined) of a 2 x 2 table; (0, False) when a row or column is empty."""
    (a, b), (c, d) = np.asarray(table, dtype=float)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    if margins == 0:
        return 0.0, False
    return float((a * d - b * c) / np.sqrt(margins)), True


def detrend(increments, window: int = DETREND_WINDOW) -> np.ndarray:
    """Increments minus their centred moving average over ``window`` intervals (shorter at the ends)."""
    series = pd.Series(np.asarray(increments, dtype=float))
    return (series - series.rolling(window, center=True, min_periods=1).mean()).to_numpy()


def interventional_correlations(interventions: pd.DataFrame, against: str = "d_accuracy") -> pd.DataFrame:
    """Spearman(d_rho, ``against``) across candidate updates, per step and layer.

    Returns columns ``step``, ``train_accuracy``, ``layer``, ``spearman``.
    """
    rows = [
        dict(
            step=step,
            train_accuracy=group["train_accuracy"].iloc[0],
            layer=layer,
            spearman=spearman(group["d_rho"], group[against]),
        )
        for (step, layer), group in interventions.groupby(["step", "layer"])
    ]
    return pd.DataFrame(rows)
