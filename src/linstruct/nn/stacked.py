"""S copies of a network as one module: every weight carries a leading copy axis.

Small networks are overhead-bound on a CPU, so S copies (one per seed, or one per
setting of a sweep) cost little more than one when their weights are stacked and each
layer runs as one batched operation: ``torch.baddbmm`` for affine maps, a grouped
convolution for 1-D convolutions, per-(copy, channel) statistics for batch norm.

Layout. Weights: ``(S, *torch_shape)`` (an affine map's weight is ``(S, out, in)``, as
``nn.Linear``'s ``(out, in)`` per copy). Activations: ``(S, n, features)`` or
``(S, n, channels, length)``. A model's input may be shared by every copy, ``(n, ...)``,
or one batch per copy, ``(S, n, ...)``.

Exactness. A copy never reads another copy's numbers: batch statistics, gradients and
(elementwise) optimiser updates are per copy, so copy ``i`` of a stack follows exactly the
run of the one-copy model ``stack.member(i)`` given the same data order, up to the
rounding of batched products (see ``tests/nn/test_stacked.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TypeVar

import torch
from torch import nn
from torch.nn import functional as F

S = TypeVar("S", bound="Stacked")


def per_copy(x: torch.Tensor, copies: int, item_dims: int) -> torch.Tensor:
    """Inputs shared by every copy, ``(n, *item)``, as ``(S, n, *item)`` (a view); inputs that are
    already one batch per copy, ``(S, n, *item)``, pass through. ``item_dims``: ``len(item)``."""
    if x.dim() == item_dims + 1:
        return x.expand(copies, *x.shape)
    if x.dim() == item_dims + 2 and x.shape[0] == copies:
        return x
    raise ValueError(
        f"expected inputs (n, ...) with {item_dims} item dimension(s), or ({copies}, n, ...) one batch "
        f"per copy; got shape {tuple(x.shape)}"
    )


class Stacked(nn.Module):
    """Base of every stacked model: ``seeds`` names the copies; every parameter and buffer has the
    copy axis first, so :meth:`member` and :meth:`stack` work for any subclass."""

    seeds: tuple[int, ...]
    input_shape: tuple[int, ...]  # the shape of one example, e.g. (in_features,) or (1, length)

    @property
    def copies(self) -> int:
        return len(self.seeds)

    def member(self: S, index: int) -> S:
        """Copy ``index`` alone: a one-copy model of the same class with its own tensors."""
        if not -self.copies <= index < self.copies:
            raise IndexError(f"copy index {index} out of range for {self.copies} copies")
        index %= self.copies
        one = copy.deepcopy(self)
        for tensor in [*one.parameters(), *one.buffers()]:
            tensor.data = tensor.data[index : index + 1].clone()
        one.seeds = (self.seeds[index],)
        return one

    @classmethod
    def stack(cls: type[S], members: Sequence[S]) -> S:
        """One model holding the copies of ``members`` (models of this class with equal shapes)."""
        if not members:
            raise ValueError("stack needs at least one member")
        out = copy.deepcopy(members[0])
        sources = [dict(m.named_parameters()) | dict(m.named_buffers()) for m in members]
        for name, tensor in [*out.named_parameters(), *out.named_buffers()]:
            tensor.data = torch.cat([s[name].data for s in sources]).clone()
        out.seeds = tuple(seed for m in members for seed in m.seeds)
        return out


def stack_tensors(tensors: Sequence[torch.Tensor | None]) -> torch.Tensor | None:
    """``(S, *shape)`` from S tensors of one shape (``None`` if they are ``None``)."""
    if tensors[0] is None:
        return None
    return torch.stack([t.detach() for t in tensors]).clone()


class StackedLinear(nn.Module):
    """S affine maps: x ``(S, n, in)`` -> ``(S, n, out)``; weight ``(S, out, in)``, bias ``(S, out)``."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = None if bias is None else nn.Parameter(bias)

    @classmethod
    def from_linears(cls, linears: Sequence[nn.Linear]) -> StackedLinear:
        return cls(stack_tensors([m.weight for m in linears]), stack_tensors([m.bias for m in linears]))

    @property
    def in_features(self) -> int:
        return self.weight.shape[2]

    @property
    def out_features(self) -> int:
        return self.weight.shape[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return stacked_linear(x, self.weight, self.bias)


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x ``(S, n, in)``, weight ``(S, out, in)``, bias ``(S, out)`` or None -> ``(S, n, out)``."""
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


class StackedConv1d(nn.Module):
    """S 1-D convolutions as one grouped convolution: x ``(S, n, in, L)`` -> ``(S, n, out, L')``.

    weight ``(S, out, in, k)``, bias ``(S, out)``. The convolution runs as a grouped 2-D one in
    channels-last memory (on a CPU about twice as fast as the grouped 1-D form for S = 10, and
    4x for one input channel); the result is a view whose memory is laid out ``(n, L', S, out)``,
    so a following stacked convolution reads it without a copy.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 1, padding: int = 0):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = None if bias is None else nn.Parameter(bias)
        self.stride, self.padding = stride, padding

    @classmethod
    def from_convs(cls, convs: Sequence[nn.Conv1d]) -> StackedConv1d:
        first = convs[0]
        if any((c.stride, c.padding, c.dilation, c.groups) != (first.stride, first.padding, (1,), 1) for c in convs):
            raise ValueError("stacked convolutions need equal strides and paddings, no dilation and no groups")
        return cls(
            stack_tensors([c.weight for c in convs]),
            stack_tensors([c.bias for c in convs]),
            first.stride[0],
            first.padding[0],
        )

    @property
    def in_channels(self) -> int:
        return self.weight.shape[2]

    @property
    def out_channels(self) -> int:
        return self.weight.shape[1]

    @property
    def kernel_size(self) -> int:
        return self.weight.shape[3]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        copies, n, channels, length = x.shape
        grouped = x.transpose(0, 1).reshape(n, copies * channels, 1, length)
        grouped = grouped.contiguous(memory_format=torch.channels_last)
        weight = self.weight.reshape(copies * self.out_channels, channels, 1, self.kernel_size)
        weight = weight.contiguous(memory_format=torch.channels_last)
        bias = None if self.bias is None else self.bias.reshape(-1)
        out = F.conv2d(grouped, weight, bias, (1, self.stride), (0, self.padding), groups=copies)
        return out.squeeze(2).view(n, copies, self.out_channels, out.shape[-1]).transpose(0, 1)


class StackedBatchNorm1d(nn.Module):
    """Batch norm with statistics per copy and channel: x ``(S, n, C)`` or ``(S, n, C, L)``.

    Exactly ``nn.BatchNorm1d`` applied to each copy (training: batch statistics over n and L,
    running averages with ``momentum``; eval: the running averages).
    """

    def __init__(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor,
        running_mean: torch.Tensor,
        running_var: torch.Tensor,
        eps: float = 1e-5,
        momentum: float = 0.1,
    ):
        super().__init__()
        self.weight, self.bias = nn.Parameter(weight), nn.Parameter(bias)
        self.register_buffer("running_mean", running_mean)
        self.register_buffer("running_var", running_var)
        self.eps, self.momentum = eps, momentum

    @classmethod
    def from_norms(cls, norms: Sequence[nn.BatchNorm1d]) -> StackedBatchNorm1d:
        first = norms[0]
        if first.momentum is None or not (first.affine and first.track_running_stats):
            raise ValueError("stacked batch norm needs affine=True, track_running_stats=True and a momentum")
        return cls(
            stack_tensors([m.weight for m in norms]),
            stack_tensors([m.bias for m in norms]),
            stack_tensors([m.running_mean for m in norms]),
            stack_tensors([m.running_var for m in norms]),
            first.eps,
            first.momentum,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        copies, n, channels = x.shape[:3]
        length = x.shape[3:]
        # Sequences go through as (n, S * C, 1, L): in the channels-last memory that StackedConv1d
        # leaves, batch norm then takes its fast path (7x faster than on the 3-D strided view).
        grouped = x.transpose(0, 1).reshape(n, copies * channels, *([1] if length else []), *length)
        running_mean, running_var = self.running_mean.view(-1), self.running_var.view(-1)
        out = F.batch_norm(
            grouped,
            running_mean,
            running_var,
            self.weight.reshape(-1),
            self.bias.reshape(-1),
            self.training,
            self.momentum,
            self.eps,
        )
        if length:
            out = out.squeeze(2)
        return out.view(n, copies, channels, *length).transpose(0, 1)
