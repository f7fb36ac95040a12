"""Chapter 1's book-profile gated networks: the circle DLGN and ReLU net (2-32x5-1, beta 4, 500
points, Adam, batch 32) and the Fashion-MNIST DLGN (784-128x5-10, 3000 images, Adam, batch 32),
with the chapter's one shared minibatch order."""

from case import Case

from linstruct.data import load_dataset
from linstruct.studies.half_space.gated import GatedNet

CIRCLE_FIT = dict(epochs=10, lr=3e-3, batch_size=32, order="shared")


def circle():
    return load_dataset("circle", n=500, a=1.0, b=9.0)


CASES = {
    "circle DLGN 2-32x5-1": Case(
        model=lambda seeds: GatedNet("dlgn", 2, 32, 5, 1, seeds=seeds, beta=4.0), data=circle, fit=CIRCLE_FIT
    ),
    "circle ReLU GatedNet 2-32x5-1": Case(
        model=lambda seeds: GatedNet("relu", 2, 32, 5, 1, seeds=seeds), data=circle, fit=CIRCLE_FIT
    ),
    "Fashion-MNIST DLGN 784-128x5-10": Case(
        model=lambda seeds: GatedNet("dlgn", 784, 128, 5, 10, seeds=seeds, beta=4.0),
        data=lambda: load_dataset("fashion-mnist", seed=0, n_train=3000),
        fit=dict(epochs=1, lr=1e-3, batch_size=32, order="shared"),
    ),
}
