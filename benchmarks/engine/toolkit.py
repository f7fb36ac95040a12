"""Chapter 0's book-profile MLP (40-128x3-10 on MNIST-1D, Adam, batch 64)."""

from case import Case

from linstruct.data import load_dataset
from linstruct.nn.mlp import MLP

CASES = {
    "toolkit MLP 40-128x3-10": Case(
        model=lambda seeds: MLP.from_seeds(seeds, 40, 128, 3, 10),
        data=lambda: load_dataset("mnist1d"),
        fit=dict(epochs=2, lr=1e-3, batch_size=64),
    ),
    "circle MLP 2-32x5-1": Case(
        model=lambda seeds: MLP.from_seeds(seeds, 2, 32, 5, 1),
        data=lambda: load_dataset("circle"),
        fit=dict(epochs=10, lr=3e-3, batch_size=32),
    ),
}
