"""Small models shared by the chapters."""
from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}


class MLP(nn.Module):
    """A fully connected network: ``depth`` hidden layers of ``width`` units.

    ``forward``: x (n, in_features) -> outputs (n, out_features).
    ``hidden_states``: the post-activation output of every hidden layer,
    a list of ``depth`` tensors of shape (n, width).
    """

    def __init__(self, in_features: int, width: int, depth: int, out_features: int, activation: str = "relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
        if depth < 1 or width < 1:
            raise ValueError(f"depth and width must be at least 1, got depth={depth}, width={width}")
        sizes = [in_features] + [width] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = ACTIVATIONS[activation]()
        self.head = nn.Linear(width, out_features)

    def hidden_states(self, x: torch.Tensor) -> list[torch.Tensor]:
        states = []
        h = x.flatten(1)
        for layer in self.hidden:
            h = self.activation(layer(h))
            states.append(h)
        return states

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden_states(x)[-1])
