"""Synchronicity of hidden-layer separability and training performance, at three levels.

* **levels**: Spearman correlation of a layer's MD-LSM curve with the training-accuracy curve;
* **changes**: agreement in sign of the per-interval changes, their 2 x 2 table (phi, Fisher),
  and the correlation of increments after removing their moving-average trend;
* **alternative updates** (interventional): from one saved state, many single SGD steps on
  different minibatches; does the step that raises separability more also raise accuracy more?

:func:`track_training` trains with :func:`linstruct.nn.training.train`, measuring every hidden
layer (one-vs-one MD-LSM, :mod:`linstruct.studies.md_lsm.separability`) on the full training set at fixed
step intervals, the baselines every few checkpoints, and the alternative updates at chosen steps.
The model must provide ``hidden_states(x) -> list[(n, width)]`` and a linear ``head``
(e.g. :class:`linstruct.nn.models.MLP`).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch import nn
from torch.nn import functional as F

from linstruct.data import Dataset
from linstruct.studies.md_lsm.separability import (LayerResult, class_pairs, heldout_layer_separability, layer_separability,
                           shuffled_labels)
from linstruct.nn.training import train

SIGN_FLOOR = 1e-4  # |change of rho| below this counts as no change
DETREND_WINDOW = 9  # moving-average window (intervals) removed from increments


@dataclass(frozen=True)
class Snapshot:
    """The network measured on the evaluation set at one moment."""

    accuracy: float
    loss: float
    layers: tuple[LayerResult, ...]  # one per hidden layer, in order

    @property
    def rho(self) -> np.ndarray:
        """Mean one-vs-one rho_P of each hidden layer: (L,)."""
        return np.array([layer.mean for layer in self.layers])


class SeparabilityMonitor:
    """Measures a model's hidden layers on a fixed evaluation set (x, y), on their device.

    Candidates per class pair: ridge LDA, the readout difference (last hidden layer) and the
    direction that won at the previous :meth:`measure` call with ``update=True`` (warm start).
    No LP certification by default: one estimator, the same at every checkpoint (an LP per
    nearly separable pair would dominate the cost; certify the end state separately).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x, self.y = x, y
        self.labels = y.cpu().numpy()
        self.warm: list[np.ndarray | None] | None = None

    @torch.no_grad()
    def measure(self, model: nn.Module, update: bool = True, certify: bool = False) -> Snapshot:
        was_training = model.training
        model.eval()
        states = model.hidden_states(self.x)
        logits = model.head(states[-1])
        model.train(was_training)
        warm = self.warm or [None] * len(states)
        readout = model.head.weight.detach().cpu().double().numpy()
        layers = tuple(
            layer_separability(h, self.labels, readout=readout if index == len(states) - 1 else None,
                               warm=warm[index], certify=certify)
            for index, h in enumerate(states)
        )
        if update:
            self.warm = [layer.directions for layer in layers]
        accuracy = float((logits.argmax(1) == self.y).double().mean())
        return Snapshot(accuracy, float(F.cross_entropy(logits, self.y)), layers)


@dataclass
class Tracking:
    """What :func:`track_training` measured.

    ``history``: one row per checkpoint and hidden layer (``step``, ``layer`` from 1,
    ``train_accuracy``, ``train_loss``, ``test_accuracy``, ``rho`` (OvO mean rho_P),
    ``rho_min``, ``rho_r``, ``normalised``, ``ties``). ``pair_rho``: (checkpoints, L, P).
    ``baselines``: ``step``, ``layer``, ``in_sample``, ``heldout``, ``shuffled``,
    ``shuffled_heldout``. ``interventions``: ``step``, ``train_accuracy``, ``candidate``,
    ``layer``, ``d_rho``, ``d_accuracy``, ``d_loss``. ``weights``: state dicts at the
    checkpoints (when kept).
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


def track_training(model: nn.Module, data: Dataset, *, epochs: int, lr: float, batch_size: int,
                   checkpoint_every: int, seed: int = 0, baseline_every: int = 0,
                   intervene_at: Sequence[int] = (), candidates: int = 30, candidate_lr: float | None = None,
                   keep_weights: bool = False, device: torch.device | str | None = None) -> Tracking:
    """Train ``model`` with plain SGD and measure it at steps 0, c, 2c, ... (c = ``checkpoint_every``).

    Every ``baseline_every``-th checkpoint (0: never) adds held-out and label-shuffled
    baselines. At each step in ``intervene_at``, ``candidates`` alternative single SGD steps
    (learning rate ``candidate_lr``, default ``lr``; minibatches of ``batch_size`` from a
    generator seeded ``seed + 1``) are taken from the current state and measured, and the state
    is restored; training itself is not affected. The model, the data and every forward pass live
    on ``device`` (None: where the model's parameters are); minibatch orders come from CPU generators,
    so they do not depend on the device.
    """
    if checkpoint_every < 1 or candidates < 2:
        raise ValueError(f"need checkpoint_every >= 1 and candidates >= 2, got {checkpoint_every}, {candidates}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    x, y = data.x_train.flatten(1).to(device), data.y_train.to(device)
    monitor = SeparabilityMonitor(x, y)
    test_x, test_y = data.x_test.flatten(1).to(device), data.y_test.to(device)
    rows, pair_rho, baselines, interventions, weights = [], [], [], [], []
    generator = torch.Generator().manual_seed(seed + 1)
    labels = y.cpu().numpy()

    def checkpoint(step: int, net: nn.Module) -> None:
        snap = monitor.measure(net)
        with torch.no_grad():
            net.eval()
            test_accuracy = float((net(test_x).argmax(1) == test_y).double().mean())
            net.train()
        for index, layer in enumerate(snap.layers, start=1):
            rows.append(dict(step=step, layer=index, train_accuracy=snap.accuracy, train_loss=snap.loss,
                             test_accuracy=test_accuracy, rho=layer.mean, rho_min=layer.minimum,
                             rho_r=layer.mean_r, normalised=layer.normalised, ties=float(layer.ties.mean())))
        pair_rho.append(np.stack([layer.rho_p for layer in snap.layers]))
        if keep_weights:
            weights.append(copy.deepcopy(net.state_dict()))
        if baseline_every and (len(pair_rho) - 1) % baseline_every == 0:
            baselines.extend(baseline_rows(net, x, labels, step, seed))

    def on_step(step: int, net: nn.Module, _loss: float) -> None:
        if step in intervene_at:
            interventions.extend(alternative_updates(net, monitor, x, y, step=step, candidates=candidates,
                                                     lr=candidate_lr or lr, batch_size=batch_size,
                                                     generator=generator))
        if step % checkpoint_every == 0:
            checkpoint(step, net)

    checkpoint(0, model)
    train(model, data, epochs=epochs, lr=lr, batch_size=batch_size, optimizer="sgd", seed=seed,
          measure=False, on_step=on_step, progress=False, device=device)
    return Tracking(pd.DataFrame(rows), np.stack(pair_rho), class_pairs(labels), pd.DataFrame(baselines),
                    pd.DataFrame(interventions), weights)


@torch.no_grad()
def baseline_rows(model: nn.Module, x: torch.Tensor, labels: np.ndarray, step: int, seed: int) -> list[dict]:
    """In-sample, held-out, shuffled and shuffled held-out OvO rho_P of every hidden layer."""
    model.eval()
    states = model.hidden_states(x)
    model.train()
    shuffled = shuffled_labels(labels, seed)
    return [dict(step=step, layer=index, **separability_baselines(h, labels, shuffled, seed))
            for index, h in enumerate(states, start=1)]


def separability_baselines(features, labels: np.ndarray, shuffled: np.ndarray, seed: int = 0,
                           repeats: int = 1) -> dict:
    """The four estimates that expose in-sample optimism and capacity saturation
    (held-out ones averaged over ``repeats`` random splits)."""
    return dict(in_sample=layer_separability(features, labels).mean,
                heldout=heldout_layer_separability(features, labels, seed, repeats),
                shuffled=layer_separability(features, shuffled).mean,
                shuffled_heldout=heldout_layer_separability(features, shuffled, seed, repeats))


def alternative_updates(model: nn.Module, monitor: SeparabilityMonitor, x: torch.Tensor, y: torch.Tensor, *,
                        step: int, candidates: int, lr: float, batch_size: int,
                        generator: torch.Generator) -> list[dict]:
    """Take ``candidates`` single SGD steps from the current state; return their changes.

    Each candidate starts from a copy of ``model`` (left untouched), steps on its own random
    minibatch and is measured on the monitor's evaluation set with the same candidate
    directions as the base state (the base's winners as warm starts).
    """
    base = monitor.measure(model, update=False)
    saved_warm = monitor.warm
    monitor.warm = [layer.directions for layer in base.layers]
    rows = []
    for k in range(candidates):
        trial = copy.deepcopy(model)
        index = torch.randperm(len(x), generator=generator)[:batch_size].to(x.device)
        with torch.enable_grad():
            loss = F.cross_entropy(trial(x[index]), y[index])
            gradients = torch.autograd.grad(loss, list(trial.parameters()))
        with torch.no_grad():
            for parameter, gradient in zip(trial.parameters(), gradients):
                parameter -= lr * gradient
        after = monitor.measure(trial, update=False)
        for layer, (before_rho, after_rho) in enumerate(zip(base.rho, after.rho), start=1):
            rows.append(dict(step=step, train_accuracy=base.accuracy, candidate=k, layer=layer,
                             d_rho=after_rho - before_rho, d_accuracy=after.accuracy - base.accuracy,
                             d_loss=after.loss - base.loss))
    monitor.warm = saved_warm
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
    table = np.array([[np.sum(up_acc & up_rho), np.sum(up_acc & ~up_rho)],
                      [np.sum(~up_acc & up_rho), np.sum(~up_acc & ~up_rho)]])
    n = int(used.sum())
    agree = int(table[0, 0] + table[1, 1])
    p_binomial = float(stats.binomtest(agree, n, 0.5, alternative="greater").pvalue) if n else float("nan")
    phi, defined = phi_coefficient(table)
    fisher_p = float(stats.fisher_exact(table, alternative="greater").pvalue) if n else float("nan")
    down = table[1].sum()
    return ChangeAgreement(n, agree / n if n else float("nan"), p_binomial, table, phi, defined, fisher_p,
                           spearman(detrend(d_acc, window), detrend(d_rho, window)),
                           float(table[1, 1] / down) if down else float("nan"))


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
    rows = [dict(step=step, train_accuracy=group["train_accuracy"].iloc[0], layer=layer,
                 spearman=spearman(group["d_rho"], group[against]))
            for (step, layer), group in interventions.groupby(["step", "layer"])]
    return pd.DataFrame(rows)
