"""Chapter 3's book-profile PReLU networks: the MNIST-1D CNN (3 stride-2 convolutions of 32
channels, kernel 5) and the digits MLP 64-64x3-10, Adam (lr 3e-3), batch 128, slopes trainable."""

from case import Case

from linstruct.data import load_dataset
from linstruct.studies.nonlinear_advantage import linearize as lz

CASES = {
    "nonlinear-advantage CNN 32x3 (MNIST-1D)": Case(
        model=lambda seeds: lz.cnn1d(seeds, 40, 32, 3, 10),
        data=lambda: load_dataset("mnist1d", n=5000),
        fit=dict(epochs=2, lr=3e-3, batch_size=128),
    ),
    "nonlinear-advantage MLP 64-64x3-10 (digits)": Case(
        model=lambda seeds: lz.mlp(seeds, 64, 64, 3, 10),
        data=lambda: load_dataset("digits", test_fraction=0.25),
        fit=dict(epochs=5, lr=3e-3, batch_size=128),
    ),
}
