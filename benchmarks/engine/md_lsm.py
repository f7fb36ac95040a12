"""Chapter 4's book-profile MLPs: Glorot 40-64x3-10 tanh (the synchronicity runs) and the widest
width-study net 40-128x3-10, on 4,000 MNIST-1D samples, plain SGD lr 0.05, batch 32."""

from case import Case

from linstruct.data import load_dataset
from linstruct.studies.md_lsm.experiments import glorot_mlp

SGD = dict(epochs=2, lr=0.05, batch_size=32, optimizer="sgd")


def mnist1d():
    return load_dataset("mnist1d", n_train=4000)


CASES = {
    "md-lsm MLP 40-64x3-10 tanh (SGD)": Case(
        model=lambda seeds: glorot_mlp(seeds, 40, 64, 3, 10, "tanh"), data=mnist1d, fit=SGD
    ),
    "md-lsm width-study MLP 40-128x3-10 tanh (SGD)": Case(
        model=lambda seeds: glorot_mlp(seeds, 40, 128, 3, 10, "tanh"), data=mnist1d, fit=SGD
    ),
}
