"""Learnable binary channel masks that detach features from a network's nonlinear trunk, S copies at once.

[Reconstructed] method (He et al., "Exploring Linear Feature Disentanglement for Neural
Networks", ICME 2022; only the abstract could be read). Each masked block l has one score
s_c per channel; the forward mask is hard, m_c = 1[sigmoid(s_c) > 1/2], and the backward
pass uses a straight-through estimator (STE): dm/ds := sigmoid'(s) (``"sigmoid"``) or 1
(``"identity"``). m_c = 1 keeps channel c in the nonlinear trunk; m_c = 0 *detaches* it.

Routing ``"detach"`` (the chapter's reading): the trunk continues with ReLU(m * z_l); the
detached part u_l = (1 - m) * z_l gets no activation and goes straight to the classifier,
which reads [pool(u_1), ..., pool(u_{L-1}), pool(h_L)]: each detached feature gets exactly
one affine map. Routing ``"keep"``: detached channels stay in the trunk without their ReLU,
h_l = m * ReLU(z_l) + (1 - m) * z_l.

Stacking (see :mod:`linstruct.nn.stacked`): a :class:`MaskableNet` holds S copies; every
weight has the copy axis first, mask scores (and fixed masks) are ``(S, C_l)``, so one copy
per seed, penalty strength or random-mask control trains in one :func:`~linstruct.nn.fit.fit`
call, each copy exactly as if alone (per-copy penalty strengths: :func:`nonlinear_fraction_penalty`).

The forward mask is exactly 0 or 1 (whatever the scale of the scores), so with the
``"detach"`` routing a detached channel sends exact zeros onward: :func:`prune` deletes its
input slice of the next block and its unused classifier columns (per copy: ``model.member(i)``),
and the pruned network computes the same logits up to rounding. Weight and multiply-accumulate
counts are read from the actual modules (:func:`count_weights`, :func:`count_macs`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from linstruct.nn.fit import fit
from linstruct.nn.stacked import Stacked, StackedBatchNorm1d, StackedConv1d, StackedLinear, per_copy
from linstruct.studies.early_separability.spec import ESTIMATORS

ROUTINGS = ("detach", "keep")
WEIGHTED = (StackedLinear, StackedConv1d)  # the modules whose weights and multiply-accumulates are counted


def straight_through(scores: torch.Tensor, estimator: str = "sigmoid") -> torch.Tensor:
    """Hard mask 1[sigmoid(scores) > 1/2] forward; the estimator's gradient backward (any shape).

    ``"sigmoid"``: d mask / d scores = sigmoid'(scores); ``"identity"``: = 1.
    The forward value is exactly 0 or 1: the soft part enters as ``soft - soft.detach()``,
    which is exactly zero (``hard + soft - soft.detach()`` would lose ``hard`` to rounding
    when |scores| is large, e.g. 1 + 1e20 - 1e20 = 0).
    """
    hard = (scores > 0).to(scores.dtype)  # sigmoid(s) > 1/2  <=>  s > 0 (s = 0 detaches)
    if estimator == "sigmoid":
        soft = torch.sigmoid(scores)
    elif estimator == "identity":
        soft = scores
    else:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}")
    return hard + (soft - soft.detach())


class ChannelMask(nn.Module):
    """Scores ``(S, C)``, one per copy and channel; ``forward()`` returns the ``(S, C)`` mask, 1 = nonlinear.

    ``fix(mask)`` replaces the learned masks by constant 0/1 masks ``(S, C)`` (a buffer; the
    random-mask control); the scores then get no gradient.
    """

    def __init__(self, copies: int, channels: int, init: float = 1.0, estimator: str = "sigmoid"):
        super().__init__()
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}")
        self.scores = nn.Parameter(torch.full((copies, channels), float(init)))
        self.estimator = estimator
        self.register_buffer("fixed", None)

    def forward(self) -> torch.Tensor:
        if self.fixed is not None:
            return self.fixed
        return straight_through(self.scores, self.estimator)

    def fix(self, mask: torch.Tensor) -> None:
        if mask.shape != self.scores.shape or not torch.all((mask == 0) | (mask == 1)):
            raise ValueError(f"a fixed mask must be 0/1 of shape {tuple(self.scores.shape)} (copies, channels)")
        self.fixed = mask.to(device=self.scores.device, dtype=self.scores.dtype).clone()
        self.scores.requires_grad_(False)

    @torch.no_grad()
    def hard(self) -> torch.Tensor:
        """``(S, C)`` bool, True = kept in the nonlinear trunk."""
        return self.forward() > 0.5


class MaskableNet(Stacked):
    """S copies of a stack of L affine blocks with a ReLU trunk and channel masks on blocks 0..L-2.

    ``blocks[l]`` maps the trunk h_{l-1} ``(S, n, C_{l-1}, ...)`` to z_l with ``widths[l]``
    channels; ``pool`` turns ``(S, n, C, ...)`` into ``(S, n, C)`` (identity for an MLP, global
    average pooling for a CNN); ``head`` is a :class:`StackedLinear` on the pooled parts.
    ``forward``: x shared ``(n, ...)`` or per copy ``(S, n, *input_shape)`` -> ``(S, n, classes)``
    logits. ``hidden_states``: the pooled pre-mask features z_l of every block, a list of L
    tensors ``(S, n, widths[l])``. Build with the subclasses' ``from_seeds``.
    """

    kernel = 1  # kernel size of the blocks' weights along positions (1 for affine maps)

    def __init__(
        self,
        blocks: Sequence[nn.Module],
        widths: Sequence[int],
        head: StackedLinear,
        seeds: Sequence[int],
        input_shape: tuple[int, ...],
        routing: str = "detach",
        mask_init: float = 1.0,
        estimator: str = "sigmoid",
    ):
        super().__init__()
        if routing not in ROUTINGS:
            raise ValueError(f"routing must be one of {', '.join(ROUTINGS)}; got {routing!r}")
        if len(blocks) < 2 or len(blocks) != len(widths):
            raise ValueError(f"need at least 2 blocks and one width per block, got {len(blocks)} and {len(widths)}")
        self.seeds, self.input_shape = tuple(seeds), tuple(input_shape)
        self.blocks = nn.ModuleList(blocks)
        self.widths = tuple(widths)
        self.routing = routing
        self.masks = nn.ModuleList(ChannelMask(len(self.seeds), w, mask_init, estimator) for w in widths[:-1])
        self.head = head

    @staticmethod
    def head_features(widths: Sequence[int], routing: str) -> int:
        """The classifier's input size: every block's width (``"detach"``) or the last one's (``"keep"``)."""
        return sum(widths) if routing == "detach" else widths[-1]

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return per_copy(x, self.copies, len(self.input_shape))

    def pool(self, z: torch.Tensor) -> torch.Tensor:
        return z

    @staticmethod
    def broadcast(m: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Masks ``(S, C)`` as ``(S, 1, C, 1, ...)`` against activations ``(S, n, C, ...)``."""
        return m.view(m.shape[0], 1, m.shape[1], *([1] * (z.dim() - 3)))

    def features(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(pooled pre-mask z_l per block, the classifier's input parts), each ``(S, n, C)``."""
        h = self.prepare(x)
        states, parts = [], []
        for index, block in enumerate(self.blocks):
            z = block(h)
            states.append(self.pool(z))
            if index == len(self.masks):
                h = F.relu(z)
                break
            m = self.broadcast(self.masks[index](), z)
            if self.routing == "detach":
                parts.append(self.pool((1 - m) * z))
                h = F.relu(m * z)
            else:
                h = m * F.relu(z) + (1 - m) * z
        parts.append(self.pool(h))
        return states, parts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat(self.features(x)[1], dim=-1))

    def hidden_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.features(x)[0]

    def mask_parameters(self) -> list[nn.Parameter]:
        return [m.scores for m in self.masks]

    def weight_parameters(self) -> list[nn.Parameter]:
        scores = {id(p) for p in self.mask_parameters()}
        return [p for p in self.parameters() if id(p) not in scores]

    def hard_masks(self) -> list[torch.Tensor]:
        """Per masked block, ``(S, C_l)`` bool: True = nonlinear (kept), False = detached."""
        return [m.hard() for m in self.masks]

    def detached_fractions(self) -> torch.Tensor:
        """f_l: the detached share of each masked block's channels, ``(S, L - 1)`` float64."""
        return torch.stack([(~m).double().mean(1) for m in self.hard_masks()], dim=1)

    def detached_fraction(self) -> torch.Tensor:
        """Detached channels over all masked channels, ``(S,)`` float64."""
        return (~torch.cat(self.hard_masks(), dim=1)).double().mean(1)

    def fix_masks(self, masks: Sequence[torch.Tensor]) -> None:
        """Replace every learned mask by the given constant 0/1 (or bool) masks, ``(S, C_l)`` per
        masked block (any device: they are moved to the scores')."""
        for module, mask in zip(self.masks, masks, strict=True):
            module.fix(mask)

    def head_segments(self) -> list[slice]:
        """The classifier columns reading u_0, ..., u_{L-2}, h_L (``"detach"`` routing)."""
        bounds = [0, *accumulate(self.widths)]
        return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


class MaskableMLP(MaskableNet):
    """MLP in_features -> width x depth with masks on hidden layers 1..depth-1 (per neuron), S copies.

    x: ``(n, in_features)`` shared or ``(S, n, in_features)`` -> ``(S, n, classes)``.
    """

    @classmethod
    def from_seeds(
        cls,
        seeds: Sequence[int],
        in_features: int,
        width: int,
        depth: int,
        classes: int,
        routing: str = "detach",
        **options,
    ) -> MaskableMLP:
        """Copy s initialised as ``torch.manual_seed(s)`` followed by ``nn.Linear``'s default
        initialisation of the ``depth`` layers and then of the classifier."""
        sizes = [in_features] + [width] * depth
        layers, heads = [], []
        for seed in _checked(seeds):
            torch.manual_seed(seed)
            layers.append([nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
            heads.append(nn.Linear(cls.head_features([width] * depth, routing), classes))
        blocks = [StackedLinear.from_linears([per_seed[l] for per_seed in layers]) for l in range(depth)]
        head = StackedLinear.from_linears(heads)
        return cls(blocks, [width] * depth, head, seeds, (in_features,), routing, **options)


class MaskableCNN1d(MaskableNet):
    """1-D CNN, S copies: blocks Conv1d(k, no bias, 'same'-style padding) -> BN -> [mask] -> ReLU
    with ``channels`` channels each.

    x: ``(n, length)``, ``(n, 1, length)`` or ``(S, n, 1, length)`` -> ``(S, n, classes)``; masks per
    channel on every block but the last; the classifier reads global averages over positions.
    """

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return super().prepare(x.unsqueeze(1) if x.dim() == 2 else x)

    def pool(self, z: torch.Tensor) -> torch.Tensor:
        return z.mean(dim=-1)

    @classmethod
    def from_seeds(
        cls,
        seeds: Sequence[int],
        channels: int,
        classes: int,
        length: int,
        strides: Sequence[int] = (1, 2, 1, 2),
        kernel: int = 5,
        routing: str = "detach",
        **options,
    ) -> MaskableCNN1d:
        """Copy s initialised as ``torch.manual_seed(s)`` followed by the default initialisation of
        each block's ``nn.Conv1d`` and ``nn.BatchNorm1d`` in order and then of the classifier."""
        ins = [1] + [channels] * (len(strides) - 1)
        widths = [channels] * len(strides)
        convs, norms, heads = [], [], []
        for seed in _checked(seeds):
            torch.manual_seed(seed)
            pairs = [
                (nn.Conv1d(i, channels, kernel, s, padding=kernel // 2, bias=False), nn.BatchNorm1d(channels))
                for i, s in zip(ins, strides)
            ]
            convs.append([c for c, _ in pairs])
            norms.append([b for _, b in pairs])
            heads.append(nn.Linear(cls.head_features(widths, routing), classes))
        blocks = [
            nn.Sequential(
                StackedConv1d.from_convs([per_seed[l] for per_seed in convs]),
                StackedBatchNorm1d.from_norms([per_seed[l] for per_seed in norms]),
            )
            for l in range(len(strides))
        ]
        model = cls(blocks, widths, StackedLinear.from_linears(heads), seeds, (1, length), routing, **options)
        model.kernel = kernel
        return model


def _checked(seeds: Sequence[int]) -> Sequence[int]:
    if not seeds:
        raise ValueError("seeds must name at least one copy")
    return seeds


def nonlinear_fraction_penalty(model: MaskableNet, lam: float | torch.Tensor) -> torch.Tensor:
    """Per copy, lam * mean over masked blocks of the *nonlinear* (kept) fraction, through the STE:
    ``(S,)``. ``lam``: one strength, or one per copy ``(S,)``."""
    fractions = torch.stack([m().mean(1) for m in model.masks]).mean(0)
    return torch.as_tensor(lam, dtype=fractions.dtype, device=fractions.device) * fractions


def mask_optimizer(model: MaskableNet, lr: float, mask_lr: float) -> torch.optim.Adam:
    """Adam with two groups: the weights at ``lr``, the mask scores at ``mask_lr``."""
    return torch.optim.Adam(
        [{"params": model.weight_parameters(), "lr": lr}, {"params": model.mask_parameters(), "lr": mask_lr}]
    )


def _set_masks_trainable(model: MaskableNet, trainable: bool) -> None:
    """Frozen scores get no gradient, so Adam leaves them alone; fixed masks stay frozen."""
    for mask in model.masks:
        mask.scores.requires_grad_(trainable and mask.fixed is None)


def random_masks_like(masks: Sequence[torch.Tensor], seed: int) -> list[torch.Tensor]:
    """One copy's bool masks ``(C_l,)`` per block, redrawn with the same number of kept channels
    per block at random positions, on each mask's device (the positions depend only on ``seed``,
    not on the device)."""
    generator = torch.Generator().manual_seed(seed)
    out = []
    for mask in masks:
        keep = torch.zeros(len(mask), dtype=torch.bool, device=mask.device)
        keep[torch.randperm(len(mask), generator=generator)[: int(mask.sum())].to(mask.device)] = True
        out.append(keep)
    return out


@torch.no_grad()
def ablate_linear_path(model: MaskableNet, blocks: Sequence[int] | None = None) -> MaskableNet:
    """A copy of a ``"detach"``-routed model whose classifier ignores, in every copy, the detached
    features of ``blocks`` (None: every masked block): their columns are zeroed."""
    if model.routing != "detach":
        raise ValueError("only the 'detach' routing has a linear path to ablate")
    ablated = copy.deepcopy(model)
    segments = ablated.head_segments()
    for index in range(len(model.masks)) if blocks is None else blocks:
        ablated.head.weight[:, :, segments[index]] = 0
    return ablated


def _one_copy_masks(model: MaskableNet) -> list[torch.Tensor]:
    """The hard masks ``(C_l,)`` of a one-copy model (per-copy analyses take ``model.member(i)``)."""
    if model.copies != 1:
        raise ValueError(f"this analysis works on one copy: pass model.member(i); got {model.copies} copies")
    return [m[0] for m in model.hard_masks()]


class PrunedNet(Stacked):
    """One copy of a ``"detach"``-routed network with detached channels physically removed (see
    :func:`prune`); a one-copy stack: x shared ``(n, ...)`` -> ``(1, n, classes)``.

    Block l reads only the kept channels of block l-1; the classifier reads the pooled
    detached channels of blocks 0..L-2 and the pooled output of the last block.
    """

    def __init__(
        self, source: MaskableNet, blocks: Sequence[nn.Module], kept: Sequence[torch.Tensor], head: StackedLinear
    ):
        super().__init__()
        self.seeds, self.input_shape = source.seeds, source.input_shape
        self.blocks = nn.ModuleList(blocks)
        self._prepare, self._pool = source.prepare, source.pool
        for index, keep in enumerate(kept):
            self.register_buffer(f"kept_{index}", torch.nonzero(keep).squeeze(1).unsqueeze(0))
            self.register_buffer(f"detached_{index}", torch.nonzero(~keep).squeeze(1).unsqueeze(0))
        self.masked = len(kept)
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self._prepare(x)
        parts = []
        for index, block in enumerate(self.blocks):
            z = block(h)
            if index == self.masked:
                parts.append(self._pool(F.relu(z)))
                break
            parts.append(self._pool(z[:, :, getattr(self, f"detached_{index}")[0]]))
            h = F.relu(z[:, :, getattr(self, f"kept_{index}")[0]])
        return self.head(torch.cat(parts, dim=-1))


@torch.no_grad()
def prune(model: MaskableNet) -> PrunedNet:
    """Remove every detached channel of a one-copy ``"detach"``-routed model (eval-mode BN).

    Keeps block l whole (its detached channels still compute u_l), slices block l+1's
    input to the kept channels of block l, and keeps only the classifier columns that
    read detached channels (u_l of kept channels is exactly zero) and the last block.
    The pruned network computes the same logits up to rounding (the removed terms are
    exact zeros; the remaining sums may round in another order). It lives on the
    model's device in the model's dtype.
    """
    if model.routing != "detach":
        raise ValueError("prune needs the 'detach' routing: with 'keep', detached channels still feed the trunk")
    kept = _one_copy_masks(model)
    blocks = [copy.deepcopy(b) for b in model.blocks]
    for index, keep in enumerate(kept):
        _slice_input(blocks, index + 1, keep)
    segments = model.head_segments()
    weight = model.head.weight
    columns = [torch.arange(s.start, s.stop, device=weight.device)[~keep] for s, keep in zip(segments, kept)]
    columns.append(torch.arange(segments[-1].start, segments[-1].stop, device=weight.device))
    head = StackedLinear(weight[:, :, torch.cat(columns)].clone(), model.head.bias.clone())
    return PrunedNet(model, blocks, kept, head).eval()


class EmptyInputConv1d(nn.Module):
    """A bias-free stacked Conv1d left with no input channels: ``(S, n, 0, length)`` -> zeros
    ``(S, n, out, length_out)``. (A convolution with zero input channels returns zero output
    channels instead.)"""

    def __init__(self, conv: StackedConv1d):
        super().__init__()
        self.out_channels, self.kernel, self.stride, self.padding = (
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        length = (h.shape[-1] + 2 * self.padding - self.kernel) // self.stride + 1
        return h.new_zeros(*h.shape[:2], self.out_channels, length)


def _slice_input(blocks: list[nn.Module], index: int, keep: torch.Tensor) -> None:
    """Keep only the input channels ``keep`` of the first stacked Linear/Conv1d of ``blocks[index]``."""
    block = blocks[index]
    layer = block if isinstance(block, StackedLinear) else block[0]
    if isinstance(layer, StackedConv1d) and not keep.any():
        if layer.bias is not None:
            raise ValueError("cannot prune every input of a Conv1d with a bias")
        block[0] = EmptyInputConv1d(layer)
        return
    layer.weight = nn.Parameter(layer.weight[:, :, keep].clone())


def count_weights(model: nn.Module) -> int:
    """Entries of one copy's weight matrices/kernels of every stacked Linear and Conv1d (no biases, no BN)."""
    return sum(m.weight[0].numel() for m in model.modules() if isinstance(m, WEIGHTED))


@torch.no_grad()
def count_macs(model: nn.Module, x: torch.Tensor) -> int:
    """One copy's multiply-accumulates of the stacked Linear and Conv1d layers for one example like ``x[:1]``."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, StackedLinear):
            total += module.in_features * module.out_features
        else:  # output (S, n, C, L)
            total += output.shape[2] * output.shape[3] * module.in_channels * module.kernel_size

    _forward_one(model, x, [m for m in model.modules() if isinstance(m, WEIGHTED)], hook)
    return total


def _forward_one(model: nn.Module, x: torch.Tensor, modules, hook) -> None:
    """Pass one example of ``x`` through ``model`` in eval mode with ``hook`` on ``modules``."""
    handles = [m.register_forward_hook(hook) for m in modules]
    was_training = model.training
    model.eval()
    try:
        model(x[:1])
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()


def predicted_weight_saving(model: MaskableNet) -> int:
    """One copy's (``model.member(i)``): sum over masked blocks l of #detached_l * (C_{l+1} * k) trunk
    weights, plus the classifier columns of kept channels' (zero) detached parts: #kept_l * classes."""
    classes = model.head.out_features
    return trunk_weight_saving(model) + sum(int(keep.sum()) * classes for keep in _one_copy_masks(model))


@torch.no_grad()
def predicted_mac_saving(model: MaskableNet, x: torch.Tensor) -> int:
    """Multiply-accumulates per example that :func:`prune` removes from one copy (``model.member(i)``):
    per masked block l, #detached_l * C_{l+1} * k * (output positions of block l+1), plus #kept_l * classes."""
    positions = []
    _forward_one(model, x, model.blocks, lambda m, i, out: positions.append(math.prod(out.shape[3:])))
    return sum(
        int((~keep).sum()) * model.widths[l + 1] * model.kernel * positions[l + 1]
        + int(keep.sum()) * model.head.out_features
        for l, keep in enumerate(_one_copy_masks(model))
    )


def trunk_weight_saving(model: MaskableNet) -> int:
    """The trunk's share of :func:`predicted_weight_saving`: sum_l #detached_l * C_{l+1} * k, the
    weights of the next blocks' input slices alone (classifier columns excluded)."""
    return sum(
        int((~keep).sum()) * model.widths[index + 1] * model.kernel for index, keep in enumerate(_one_copy_masks(model))
    )


def weight_share(first_layer: torch.Tensor, inputs: slice) -> torch.Tensor:
    """Per unit j of an ``(..., out, in)`` weight matrix (e.g. a stack ``(S, out, in)``):
    sum_{i in inputs} W_ji^2 / sum_i W_ji^2, ``(..., out)``.

    Invariant to the scale of each row (rows are divided by their largest |W_ji| first, so
    tiny or huge weights neither underflow nor overflow); an all-zero row has share 0.
    """
    largest = first_layer.abs().amax(dim=-1, keepdim=True)
    energy = (first_layer / torch.where(largest > 0, largest, torch.ones_like(largest))).pow(2)
    total = energy.sum(-1)
    return torch.where(total > 0, energy[..., inputs].sum(-1) / torch.where(total > 0, total, 1.0), 0.0)


@dataclass(frozen=True)
class MaskRecipe:
    """How a maskable network is trained: Adam with a cosine schedule for both groups,
    masks in their own group at ``mask_lr`` and frozen for the first ``warmup`` share of
    the epochs, penalty ``lam`` times the nonlinear fraction (one strength, or a tuple with
    one per copy; ``lam = 0`` and ``learn_masks=False`` give the unmasked baseline)."""

    epochs: int
    lr: float = 3e-3
    mask_lr: float = 5e-2
    lam: float | tuple[float, ...] = 0.0
    warmup: float = 0.2
    batch_size: int = 128
    learn_masks: bool = True


def train_masked(
    model: MaskableNet,
    data,
    recipe: MaskRecipe,
    *,
    device: torch.device | str | None = None,
    measure: bool = False,
    evaluate_every: int | None = None,
) -> pd.DataFrame:
    """Train every copy of ``model`` on ``data`` by ``recipe`` with :func:`~linstruct.nn.fit.fit`
    (copy i shuffles with its seed, ``model.seeds[i]``) on ``device``; the model is left there, in
    eval mode. Returns fit's history (by default only the last epoch, no measurements)."""
    if device is not None:
        model.to(device)
    lam = torch.as_tensor(recipe.lam, dtype=torch.float64)
    if lam.dim() == 1 and len(lam) != model.copies:
        raise ValueError(f"lam needs one strength per copy ({model.copies}); got {len(lam)}")
    steps_per_epoch = math.ceil(data.n_train / min(recipe.batch_size, data.n_train))
    total = recipe.epochs * steps_per_epoch
    warmup_steps = round(recipe.warmup * recipe.epochs) * steps_per_epoch if recipe.learn_masks else total + 1
    _set_masks_trainable(model, warmup_steps == 0)
    optimizer = mask_optimizer(model, recipe.lr, recipe.mask_lr)
    cosine = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)))

    def on_step(step: int, net: MaskableNet, losses: torch.Tensor) -> None:
        cosine.step()
        if step == warmup_steps:
            _set_masks_trainable(net, True)

    weights = next(model.parameters())
    strengths = lam.to(dtype=weights.dtype, device=weights.device)
    penalty = (lambda net: nonlinear_fraction_penalty(net, strengths)) if bool((lam > 0).any()) else None
    history = fit(
        model,
        data,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        optimizer=optimizer,
        order="per_seed",
        measure=measure,
        evaluate_every=evaluate_every or max(recipe.epochs, 1),
        penalty=penalty,
        on_step=on_step,
        progress=False,
    )
    model.eval()
    return history
