"""Linearizing units of a trained network through a sparsity prior on their PReLU slopes.

[Reconstructed] method (Ali Mehmeti-Göpel & Disselhoff, 2023; the full text was not
available): every hidden channel c has a PReLU slope alpha_c in [0, 1],
``f(x) = max(0, x) + alpha_c * min(0, x)``; alpha = 0 is a ReLU, alpha = 1 the identity
("fully linearized"). The prior ``lam * R(alpha)`` pushes slopes to 1; the slopes are
clamped to [0, 1] after every step and never weight-decayed. A unit counts as linear
when alpha_c >= 1 - eps; binarisation then sets those slopes to exactly 1.

A :class:`LinearizableNet` holds S copies (seeds, or (seed, prior strength) pairs), trained
at once by :func:`linstruct.nn.fit.fit`, each copy exactly as if alone (its own data order,
seeded by its seed; its own prior strength). A run trains densely (slopes frozen at 0) for
``t0`` epochs (:func:`train_dense`), then switches the prior on and sparsifies for ``S``
epochs with a fresh optimiser (:func:`sparsify`). Training runs on the device of the model's
parameters and in their dtype (float32 or float64); the counts work per copy.
"""

from __future__ import annotations

import bisect
import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn

from linstruct.data import Dataset
from linstruct.nn.fit import Snapshots, evaluate, fit
from linstruct.nn.stacked import Stacked, StackedConv1d, StackedLinear, per_copy
from linstruct.studies.nonlinear_advantage.spec import PENALTIES


def prelu(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Channel-wise PReLU of S copies: x ``(S, n, C)`` or ``(S, n, C, L)``, slopes ``alpha`` ``(S, C)``;
    ``max(x, 0) + alpha * min(x, 0)``, with derivative ``alpha`` in x at ``x = 0``."""
    return _PReLU.apply(x, alpha.view(alpha.shape[0], 1, alpha.shape[1], *([1] * (x.dim() - 3))))


class _PReLU(torch.autograd.Function):
    """PReLU with a hand-written backward. Autograd's backward of ``x.clamp(min=0) + a * x.clamp(max=0)``
    runs two masked ``where``s, which on a CPU cost more than the convolutions of chapter 3's CNN."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        positive, negative = x.clamp(min=0), x.clamp(max=0)
        ctx.save_for_backward(positive, negative, a)
        return positive + a * negative

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        positive, negative, a = ctx.saved_tensors
        grad_x = grad_a = None
        if ctx.needs_input_grad[0]:
            grad_x = grad * torch.addcmul(a, 1 - a, positive.sign())  # slope 1 where x > 0, a elsewhere
        if ctx.needs_input_grad[1]:
            grad_a = (grad * negative).sum([d for d in range(grad.dim()) if a.shape[d] == 1], keepdim=True)
        return grad_x, grad_a


class LinearizableNet(Stacked):
    """S copies of: layers (affine or 1-D convolutions), each followed by a channel-wise PReLU, then
    flatten and an affine head.

    Parameters: the layers' stacked weights, one slope matrix ``(S, C_l)`` per layer
    (:attr:`alphas`, initialised 0: a ReLU net) and the head's weight ``(S, classes, features)``.
    ``forward``: x ``(n, in_features)`` shared by every copy, or ``(S, n, in_features)`` one batch
    per copy -> logits ``(S, n, classes)``; a CNN reads x as one input channel ``(S, n, 1, length)``.
    """

    def __init__(
        self,
        layers: Sequence[StackedLinear | StackedConv1d],
        head: StackedLinear,
        conv: bool,
        seeds: Sequence[int],
        in_features: int,
    ):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        copies = len(seeds)
        widths = [l.out_channels if conv else l.out_features for l in layers]
        like = dict(dtype=head.weight.dtype, device=head.weight.device)
        self.alphas = nn.ParameterList(nn.Parameter(torch.zeros(copies, w, **like)) for w in widths)
        self.head = head
        self.conv = conv
        self.seeds = tuple(seeds)
        self.input_shape = (in_features,)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = per_copy(x, self.copies, 1)
        if self.conv:
            h = h.unsqueeze(2)
        for layer, alpha in zip(self.layers, self.alphas):
            h = prelu(layer(h), alpha)
        return self.head(h.flatten(2))


def _from_seeds(seeds: Sequence[int], build, conv: bool, in_features: int) -> LinearizableNet:
    """Copy s: ``torch.manual_seed(s)``, then ``build()`` -> (torch layers, head) with their default initialisation."""
    if not seeds:
        raise ValueError("seeds must name at least one copy")
    per_seed = []
    for seed in seeds:
        torch.manual_seed(seed)
        per_seed.append(build())
    stack = StackedConv1d.from_convs if conv else StackedLinear.from_linears
    layers = [stack([layers[i] for layers, _ in per_seed]) for i in range(len(per_seed[0][0]))]
    return LinearizableNet(layers, StackedLinear.from_linears([head for _, head in per_seed]), conv, seeds, in_features)


def cnn1d(seeds: Sequence[int], length: int, width: int, depth: int, classes: int, kernel: int = 5) -> LinearizableNet:
    """``depth`` stride-2 Conv1d layers of ``width`` channels (kernel 5, padding 2) and a linear head;
    copy s initialised as ``torch.manual_seed(s)`` and torch's default initialisation of each layer in order."""
    size = length
    for _ in range(depth):
        size = (size + 2 * (kernel // 2) - kernel) // 2 + 1

    def build():
        layers = [nn.Conv1d(1 if i == 0 else width, width, kernel, stride=2, padding=kernel // 2) for i in range(depth)]
        return layers, nn.Linear(width * size, classes)

    return _from_seeds(seeds, build, True, length)


def mlp(seeds: Sequence[int], in_features: int, width: int, depth: int, classes: int) -> LinearizableNet:
    """``depth`` dense layers of ``width`` units and a linear head (copy s initialised as in :func:`cnn1d`)."""
    sizes = [in_features] + [width] * depth

    def build():
        return [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])], nn.Linear(width, classes)

    return _from_seeds(seeds, build, False, in_features)


def slopes(model: LinearizableNet) -> list[nn.Parameter]:
    """The slope matrix ``(S, C_l)`` of every layer, in order."""
    return list(model.alphas)


def penalty(model: LinearizableNet, lam: float | Sequence[float] | torch.Tensor, kind: str = "l1_mean") -> torch.Tensor:
    """Per copy ``lam * R(alpha)`` ``(S,)``; ``lam``: one strength for every copy or one per copy.
    ``l1_mean`` mean(1 - alpha); ``l1_sum`` sum(1 - alpha); ``layerfold`` sum over layers of
    |1 - alpha^2| averaged within the layer."""
    alphas = slopes(model)
    lam = torch.as_tensor(lam, dtype=alphas[0].dtype, device=alphas[0].device)
    if kind == "l1_mean":
        return lam * torch.cat([(1 - a) for a in alphas], dim=1).mean(1)
    if kind == "l1_sum":
        return lam * torch.cat([(1 - a) for a in alphas], dim=1).sum(1)
    if kind == "layerfold":
        return lam * sum((1 - a**2).abs().mean(1) for a in alphas)
    raise ValueError(f"penalty kind must be one of {', '.join(PENALTIES)}; got {kind!r}")


@torch.no_grad()
def clamp_slopes(model: LinearizableNet) -> None:
    """Project every slope of every copy onto [0, 1]."""
    for a in slopes(model):
        a.clamp_(0.0, 1.0)


def set_slopes_trainable(model: LinearizableNet, trainable: bool) -> None:
    for a in slopes(model):
        a.requires_grad_(trainable)


def optimizer_for(model: LinearizableNet, lr: float, alpha_lr_factor: float = 1.0, weight_decay: float = 0.0):
    """Adam with two groups: weights (``weight_decay``) and slopes (no decay, LR x ``alpha_lr_factor``)."""
    alpha_ids = {id(a) for a in slopes(model)}
    others = [p for p in model.parameters() if id(p) not in alpha_ids and p.requires_grad]
    groups = [{"params": others, "weight_decay": weight_decay}]
    trainable = [a for a in slopes(model) if a.requires_grad]
    if trainable:
        groups.append({"params": trainable, "weight_decay": 0.0, "lr": lr * alpha_lr_factor})
    return torch.optim.Adam(groups, lr=lr)


def nonlinear_masks(model: LinearizableNet, eps: float = 0.01) -> list[torch.Tensor]:
    """Per layer, a bool matrix ``(S, C_l)``: True where the copy's unit is nonlinear (alpha < 1 - eps)."""
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"eps must be in [0, 1), got {eps}")
    return [(a.detach() < 1.0 - eps) if eps > 0 else (a.detach() < 1.0) for a in slopes(model)]


def layer_shares(model: LinearizableNet, eps: float = 0.01) -> list[list[float]]:
    """Per copy, p_l: the share of nonlinear units in each layer."""
    shares = torch.stack([m.double().mean(1) for m in nonlinear_masks(model, eps)], dim=1)
    return shares.cpu().tolist()


def nonlinear_share(model: LinearizableNet, eps: float = 0.01) -> list[float]:
    """Per copy, rho: the share of nonlinear units in the whole network."""
    masks = torch.cat(nonlinear_masks(model, eps), dim=1)
    return (masks.sum(1).double() / masks.shape[1]).cpu().tolist()


def soft_share(model: LinearizableNet) -> torch.Tensor:
    """Per copy, mean(1 - alpha) over every unit ``(S,)``."""
    return torch.cat([(1 - a).detach() for a in slopes(model)], dim=1).mean(1)


@torch.no_grad()
def binarise(model: LinearizableNet, eps: float = 0.01, nonlinear: str = "keep") -> LinearizableNet:
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


def accuracy(model: LinearizableNet, data: Dataset) -> list[float]:
    """Per copy, the test accuracy of ``model`` on ``data``."""
    return evaluate(model, data.x_test, data.y_test, data.task)["accuracy"].tolist()


def _train(
    model: LinearizableNet, data: Dataset, epochs: int, recipe: Recipe, snapshot_epochs: Sequence[int], **prior
) -> tuple[pd.DataFrame, dict[int, LinearizableNet]]:
    """``fit`` with :func:`optimizer_for` (each copy shuffles with its own seed); the models at ``snapshot_epochs``."""
    snapshots = Snapshots(snapshot_epochs)
    on_epoch = prior.pop("on_epoch", None)

    def record(epoch: int, net: LinearizableNet):
        snapshots(epoch, net)
        return None if on_epoch is None else on_epoch(epoch, net)

    history = fit(
        model,
        data,
        epochs=epochs,
        batch_size=recipe.batch_size,
        order="per_seed",
        measure=False,
        optimizer=optimizer_for(model, recipe.lr, recipe.alpha_lr_factor),
        on_epoch=record,
        **prior,
    )
    return history, {epoch: snapshots.at(epoch) for epoch in sorted(snapshots.states)}


def train_dense(
    model: LinearizableNet, data: Dataset, epochs: int, recipe: Recipe, snapshot_epochs: Sequence[int] = ()
) -> dict[int, LinearizableNet]:
    """Train every copy with its slopes frozen (a ReLU net at alpha = 0); the model after each snapshot epoch."""
    set_slopes_trainable(model, False)
    return _train(model, data, epochs, recipe, snapshot_epochs)[1]


def sparsify(
    model: LinearizableNet,
    data: Dataset,
    lam: float | Sequence[float],
    epochs: int,
    recipe: Recipe,
    snapshot_epochs: Sequence[int] = (),
) -> tuple[pd.DataFrame, dict[int, LinearizableNet]]:
    """Switch the prior on (``lam``: one strength, or one per copy) and train ``epochs`` epochs with a
    fresh optimiser, clamping the slopes after every step.

    Returns the per-epoch history of each copy (``copy``, ``seed``, ``epoch``, rho at ``recipe.eps``
    and the soft share mean(1 - alpha)) and the model at ``snapshot_epochs`` (counted from the switch-on).
    """
    set_slopes_trainable(model, True)
    history, snaps = _train(
        model,
        data,
        epochs,
        recipe,
        snapshot_epochs,
        penalty=lambda net: penalty(net, lam, recipe.penalty),
        on_step=lambda step, net, losses: clamp_slopes(net),
        on_epoch=lambda epoch, net: {
            "rho": torch.tensor(nonlinear_share(net, recipe.eps), dtype=torch.float64),
            "soft_share": soft_share(net),
        },
    )
    return history[["copy", "seed", "epoch", "rho", "soft_share"]], snaps


def fine_tune(model: LinearizableNet, data: Dataset, epochs: int, recipe: Recipe) -> LinearizableNet:
    """Train the weights of a binarised model ``epochs`` epochs with its slopes frozen (returns it)."""
    set_slopes_trainable(model, False)
    _train(model, data, epochs, recipe, ())
    return model


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
