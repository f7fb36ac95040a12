"""Linearizing units of a trained network through a sparsity prior on their PReLU slopes.

[Reconstructed] method (Ali Mehmeti-Göpel & Disselhoff, 2023; the full text was not
available): every hidden channel c has a PReLU slope alpha_c in [0, 1],
``f(x) = max(0, x) + alpha_c * min(0, x)``; alpha = 0 is a ReLU, alpha = 1 the identity
("fully linearized"). The prior ``lam * R(alpha)`` pushes slopes to 1; the slopes are
clamped to [0, 1] after every step and never weight-decayed. A unit counts as linear
when alpha_c >= 1 - eps; binarisation then sets those slopes to exactly 1.

A run trains densely (slopes frozen at 0) for ``t0`` epochs (:func:`train_dense`), then
switches the prior on and sparsifies for ``S`` epochs with a fresh optimiser
(:func:`sparsify`). Training runs on the device of the model's parameters (move the
model and the data there first) and in their dtype (float32 or float64).
"""
from __future__ import annotations

import bisect
import copy
import math
from dataclasses import dataclass
from typing import Sequence

import pandas as pd
import torch
from torch import nn

from linstruct.data import Dataset
from linstruct.studies.nonlinear_advantage.spec import PENALTIES
from linstruct.nn.training import evaluate, loss_for, train


class LinPReLU(nn.Module):
    """Channel-wise PReLU with slopes ``alpha`` (channels,), applied along dim 1.

    ``forward``: x (n, channels, ...) -> same shape. Initialised as a ReLU (alpha = 0).
    """

    def __init__(self, channels: int, init: float = 0.0):
        super().__init__()
        self.alpha = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.alpha.view(1, -1, *([1] * (x.dim() - 2)))
        return x.clamp(min=0) + a * x.clamp(max=0)


class LinearizableNet(nn.Module):
    """Layers (Linear or Conv1d), each followed by a :class:`LinPReLU`, then flatten and a linear head.

    ``forward``: x (n, in_features) -> logits (n, classes); a CNN reshapes x to (n, 1, length).
    """

    def __init__(self, layers: Sequence[nn.Module], head: nn.Module, conv: bool):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        widths = [l.out_channels if conv else l.out_features for l in layers]
        self.activations = nn.ModuleList(LinPReLU(w) for w in widths)
        self.head = head
        self.conv = conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.unsqueeze(1) if self.conv else x.flatten(1)
        for layer, act in zip(self.layers, self.activations):
            h = act(layer(h))
        return self.head(h.flatten(1))

    @property
    def widths(self) -> list[int]:
        return [len(a.alpha) for a in self.activations]


def cnn1d(length: int, width: int, depth: int, classes: int, kernel: int = 5) -> LinearizableNet:
    """``depth`` stride-2 Conv1d layers of ``width`` channels (kernel 5, padding 2) and a linear head."""
    layers, channels, size = [], 1, length
    for _ in range(depth):
        layers.append(nn.Conv1d(channels, width, kernel, stride=2, padding=kernel // 2))
        channels, size = width, (size + 2 * (kernel // 2) - kernel) // 2 + 1
    return LinearizableNet(layers, nn.Linear(width * size, classes), conv=True)


def mlp(in_features: int, width: int, depth: int, classes: int) -> LinearizableNet:
    """``depth`` dense layers of ``width`` units and a linear head."""
    sizes = [in_features] + [width] * depth
    return LinearizableNet([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])], nn.Linear(width, classes),
                           conv=False)


def slopes(model: nn.Module) -> list[torch.Tensor]:
    """The slope vector of every :class:`LinPReLU` in ``model``, in order."""
    return [m.alpha for m in model.modules() if isinstance(m, LinPReLU)]


def penalty(model: nn.Module, lam: float, kind: str = "l1_mean") -> torch.Tensor:
    """``lam * R(alpha)``: ``l1_mean`` mean(1 - alpha); ``l1_sum`` sum(1 - alpha);
    ``layerfold`` sum over layers of |1 - alpha^2| averaged within the layer."""
    alphas = slopes(model)
    if kind == "l1_mean":
        return lam * torch.cat([(1 - a) for a in alphas]).mean()
    if kind == "l1_sum":
        return lam * torch.cat([(1 - a) for a in alphas]).sum()
    if kind == "layerfold":
        return lam * sum((1 - a**2).abs().mean() for a in alphas)
    raise ValueError(f"penalty kind must be one of {', '.join(PENALTIES)}; got {kind!r}")


@torch.no_grad()
def clamp_slopes(model: nn.Module) -> None:
    """Project every slope onto [0, 1]."""
    for a in slopes(model):
        a.clamp_(0.0, 1.0)


def set_slopes_trainable(model: nn.Module, trainable: bool) -> None:
    for a in slopes(model):
        a.requires_grad_(trainable)


def optimizer_for(model: nn.Module, lr: float, alpha_lr_factor: float = 1.0, weight_decay: float = 0.0):
    """Adam with two groups: weights (``weight_decay``) and slopes (no decay, LR x ``alpha_lr_factor``)."""
    alpha_ids = {id(a) for a in slopes(model)}
    others = [p for p in model.parameters() if id(p) not in alpha_ids and p.requires_grad]
    groups = [{"params": others, "weight_decay": weight_decay}]
    trainable = [a for a in slopes(model) if a.requires_grad]
    if trainable:
        groups.append({"params": trainable, "weight_decay": 0.0, "lr": lr * alpha_lr_factor})
    return torch.optim.Adam(groups, lr=lr)


def nonlinear_masks(model: nn.Module, eps: float = 0.01) -> list[torch.Tensor]:
    """Per layer, a bool vector: True where the unit is nonlinear (alpha < 1 - eps)."""
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"eps must be in [0, 1), got {eps}")
    return [(a.detach() < 1.0 - eps) if eps > 0 else (a.detach() < 1.0) for a in slopes(model)]


def layer_shares(model: nn.Module, eps: float = 0.01) -> list[float]:
    """p_l: the share of nonlinear units in each layer."""
    return [float(m.double().mean()) for m in nonlinear_masks(model, eps)]


def nonlinear_share(model: nn.Module, eps: float = 0.01) -> float:
    """rho: the share of nonlinear units in the whole network."""
    masks = nonlinear_masks(model, eps)
    return float(sum(int(m.sum()) for m in masks) / sum(len(m) for m in masks))


@torch.no_grad()
def binarise(model: nn.Module, eps: float = 0.01, nonlinear: str = "keep") -> nn.Module:
    """A copy of ``model`` with slopes >= 1 - eps set to 1; the others kept (``keep``) or reset to 0 (``relu``)."""
    if nonlinear not in ("keep", "relu"):
        raise ValueError(f"nonlinear must be 'keep' or 'relu', got {nonlinear!r}")
    out = copy.deepcopy(model)
    for a, mask in zip(slopes(out), nonlinear_masks(out, eps)):
        a[~mask] = 1.0
        if nonlinear == "relu":
            a[mask] = 0.0
    return out


@dataclass(frozen=True)
class Recipe:
    """How to train: Adam ``lr``, ``batch_size``, the slopes' LR factor and the prior's form."""

    lr: float = 1e-3
    batch_size: int = 128
    alpha_lr_factor: float = 1.0
    penalty: str = "l1_mean"
    eps: float = 0.01

    def __post_init__(self) -> None:
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {', '.join(PENALTIES)}; got {self.penalty!r}")


def accuracy(model: nn.Module, data: Dataset) -> float:
    """Test accuracy of ``model`` on ``data``."""
    return evaluate(model, data.x_test, data.y_test, loss_for(data.task))["accuracy"]


def device_of(model: nn.Module) -> torch.device:
    """The device of ``model``'s parameters (training stays there)."""
    return next(model.parameters()).device


def train_dense(model: nn.Module, data: Dataset, epochs: int, recipe: Recipe, seed: int = 0,
                snapshot_epochs: Sequence[int] = ()) -> dict[int, nn.Module]:
    """Train with the slopes frozen (a ReLU net); return copies of the model after each snapshot epoch."""
    set_slopes_trainable(model, False)
    snapshots = _snapshotter(snapshot_epochs)
    train(model, data, epochs=epochs, lr=recipe.lr, batch_size=recipe.batch_size, seed=seed, measure=False,
          optimizer=optimizer_for(model, recipe.lr), on_epoch=snapshots.record, device=device_of(model))
    return snapshots.models


def sparsify(model: nn.Module, data: Dataset, lam: float, epochs: int, recipe: Recipe, seed: int = 0,
             snapshot_epochs: Sequence[int] = ()) -> tuple[pd.DataFrame, dict[int, nn.Module]]:
    """Switch the prior on and train ``epochs`` epochs with a fresh optimiser, clamping the slopes.

    Returns the per-epoch history of rho (at ``recipe.eps``) and the soft share mean(1 - alpha),
    and copies of the model at ``snapshot_epochs`` (epochs counted from the switch-on).
    """
    set_slopes_trainable(model, True)
    snapshots = _snapshotter(snapshot_epochs)

    def on_epoch(epoch: int, net: nn.Module) -> dict:
        snapshots.record(epoch, net)
        soft = float(torch.cat([(1 - a).detach() for a in slopes(net)]).mean())
        return {"rho": nonlinear_share(net, recipe.eps), "soft_share": soft}

    history = train(model, data, epochs=epochs, lr=recipe.lr, batch_size=recipe.batch_size, seed=seed,
                    measure=False, optimizer=optimizer_for(model, recipe.lr, recipe.alpha_lr_factor),
                    penalty=lambda net: penalty(net, lam, recipe.penalty),
                    on_step=lambda step, net, loss: clamp_slopes(net), on_epoch=on_epoch, device=device_of(model))
    return history[["epoch", "rho", "soft_share"]], snapshots.models


def fine_tune(model: nn.Module, data: Dataset, epochs: int, recipe: Recipe, seed: int = 0) -> nn.Module:
    """Train the weights of a binarised model ``epochs`` epochs with its slopes frozen (returns it)."""
    set_slopes_trainable(model, False)
    train(model, data, epochs=epochs, lr=recipe.lr, batch_size=recipe.batch_size, seed=seed, measure=False,
          optimizer=optimizer_for(model, recipe.lr), device=device_of(model))
    return model


class _snapshotter:
    """An ``on_epoch`` callback keeping deep copies of the model at chosen epochs."""

    def __init__(self, epochs: Sequence[int]):
        self.epochs = set(epochs)
        self.models: dict[int, nn.Module] = {}

    def record(self, epoch: int, model: nn.Module) -> None:
        if epoch in self.epochs:
            self.models[epoch] = copy.deepcopy(model)


def frontier(points: Sequence[tuple[float, float]], grid: Sequence[float]) -> list[float]:
    """Upper envelope of (rho, accuracy) points, linearly interpolated, at each rho in ``grid``.

    The best accuracy reachable with at most rho nonlinear units: the running maximum
    over rho of the points, joined by straight lines (anchor the points with (0, linear
    accuracy) so the envelope starts at rho = 0). Points with the same rho count with
    their best accuracy. Below the smallest rho: NaN; beyond the largest: its value.
    """
    if not points:
        raise ValueError("frontier needs at least one point")
    best_at: dict[float, float] = {}
    for x, y in points:
        best_at[x] = max(y, best_at.get(x, -math.inf))
    xs, ys, best = [], [], -math.inf
    for x in sorted(best_at):
        if best_at[x] > best:
            best = best_at[x]
            xs.append(x)
            ys.append(best)
    out = []
    for g in grid:
        if g < xs[0]:
            out.append(math.nan)
            continue
        i = bisect.bisect_right(xs, g) - 1
        if i == len(xs) - 1:
            out.append(ys[-1])
        else:
            t = (g - xs[i]) / (xs[i + 1] - xs[i])
            out.append(ys[i] + t * (ys[i + 1] - ys[i]))
    return out
