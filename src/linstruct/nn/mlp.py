"""Fully connected networks, S copies at once (one copy is a stack of one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from linstruct.nn.stacked import Stacked, StackedLinear, per_copy

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "identity": lambda h: h}
Initializer = Callable[[nn.Linear], None]


class MLP(Stacked):
    """``depth`` hidden layers of ``width`` units and a linear head, S copies.

    ``forward``: x ``(n, in_features)`` shared by every copy, or ``(S, n, in_features)`` one batch
    per copy -> ``(S, n, out_features)``. ``hidden_states``: the post-activation output of every
    hidden layer, a list of ``depth`` tensors ``(S, n, width)``.
    """

    def __init__(self, layers: Sequence[StackedLinear], head: StackedLinear, activation: str, seeds: Sequence[int]):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
        self.hidden = nn.ModuleList(layers)
        self.head = head
        self.activation = activation
        self.seeds = tuple(seeds)
        self.input_shape = (layers[0].in_features,)

    @classmethod
    def from_seeds(
        cls,
        seeds: Sequence[int],
        in_features: int,
        width: int,
        depth: int,
        out_features: int,
        activation: str = "relu",
        initializer: Initializer | None = None,
    ) -> MLP:
        """Copy s initialised as ``torch.manual_seed(s)`` followed by ``nn.Linear``'s default
        initialisation of each layer in order (then ``initializer(layer)``, e.g. Glorot, if given)."""
        if not seeds:
            raise ValueError("seeds must name at least one copy")
        if depth < 1 or width < 1:
            raise ValueError(f"depth and width must be at least 1; got depth={depth}, width={width}")
        sizes = [in_features] + [width] * depth + [out_features]
        per_seed = []
        for seed in seeds:
            torch.manual_seed(seed)
            linears = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
            for linear in linears if initializer is not None else ():
                initializer(linear)
            per_seed.append(linears)
        layers = [StackedLinear.from_linears([lin[i] for lin in per_seed]) for i in range(len(sizes) - 1)]
        return cls(layers[:-1], layers[-1], activation, seeds)

    @property
    def width(self) -> int:
        return self.head.in_features

    def hidden_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = per_copy(x, self.copies, 1)
        act = ACTIVATIONS[self.activation]
        states = []
        for layer in self.hidden:
            h = act(layer(h))
            states.append(h)
        return states

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden_states(x)[-1])
