"""Chapter 0, "The toolkit in two minutes": train an MLP, probe its layers, judge a claim."""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from ..claims import Check, Claim
from ..data import Dataset
from ..models import MLP
from ..parameters import ChapterSpec, Param
from ..probes import layer_probe_accuracies
from ..reproducibility import select_device
from ..training import train

DATASET_CHOICES = ("mnist1d", "digits", "spirals", "shells", "fashion-mnist")
TOLERANCE_POINTS = 2.0
PARTLY_POINTS = 5.0

SPEC = ChapterSpec(
    name="toolkit",
    title="The toolkit in two minutes",
    notebook="notebooks/00_toolkit.ipynb",
    params=(
        Param("dataset", str, "main dataset", choices=DATASET_CHOICES),
        Param("second_dataset", str, "second dataset (Fashion-MNIST falls back to digits if absent)",
              choices=DATASET_CHOICES),
        Param("n_train", int, "training examples per dataset (class-stratified subset)", low=50, high=60000),
        Param("width", int, "hidden units per layer", low=4, high=1024),
        Param("depth", int, "hidden layers", low=1, high=8),
        Param("epochs", int, "training epochs", low=1, high=1000),
        Param("lr", float, "Adam learning rate", low=1e-6, high=1.0),
        Param("batch_size", int, "minibatch size", low=1, high=60000),
    ),
    profiles={
        "smoke": dict(dataset="digits", second_dataset="spirals", n_train=600, width=32, depth=2,
                      epochs=4, lr=3e-3, batch_size=64),
        "book": dict(dataset="mnist1d", second_dataset="fashion-mnist", n_train=4000, width=128, depth=3,
                     epochs=30, lr=1e-3, batch_size=64),
        "full": dict(dataset="mnist1d", second_dataset="fashion-mnist", n_train=60000, width=256, depth=4,
                     epochs=100, lr=1e-3, batch_size=128),
    },
)


@dataclass
class ProbedNetwork:
    """A trained network's history and the probe accuracy of each of its layers."""

    data: Dataset
    model: MLP
    history: pd.DataFrame
    probes: pd.DataFrame

    @property
    def network_accuracy(self) -> float:
        return float(self.history["test_accuracy"].iloc[-1])

    @property
    def last_layer_probe_accuracy(self) -> float:
        return float(self.probes["test_accuracy"].iloc[-1])


def train_and_probe(data: Dataset, config) -> ProbedNetwork:
    """Train the chapter's MLP on ``data`` and probe every layer."""
    model = MLP(data.in_features, config.width, config.depth, data.num_classes)
    history = train(model, data, epochs=config.epochs, lr=config.lr, batch_size=config.batch_size,
                    seed=config.seed, device=select_device(config.device))
    model.cpu()
    return ProbedNetwork(data, model, history, layer_probe_accuracies(model, data))


ROLES = ("main", "second")


def probe_claim(results: list[ProbedNetwork]) -> Claim:
    """"A linear probe on the last hidden layer matches the network within 2 points", per dataset.

    Measured values are keyed by the dataset's role (``main``, ``second``), not its
    name, so the prose's glue keys do not depend on the chosen datasets.
    """
    measured, checks = {}, []
    for k, r in zip(ROLES, results, strict=True):
        gap = 100 * abs(r.last_layer_probe_accuracy - r.network_accuracy)
        measured.update({f"network_{k}": r.network_accuracy, f"probe_{k}": r.last_layer_probe_accuracy,
                         f"gap_points_{k}": gap})
        checks.append(Check.at_most(f"gap on {r.data.name} (points)", gap, TOLERANCE_POINTS, PARTLY_POINTS))
    return Claim(
        id="probe_matches_network",
        statement="A linear probe on the last hidden layer matches the network's own test accuracy "
                  f"within {TOLERANCE_POINTS:g} points.",
        criterion=f"|probe - network| test accuracy <= {TOLERANCE_POINTS:g} points on every dataset "
                  f"(partly: <= {PARTLY_POINTS:g})",
        measured=measured,
        checks=checks,
        source="the book's own sanity claim (the network's head is itself a linear probe)",
    )


def figure(results: list[ProbedNetwork]) -> plt.Figure:
    """Left: test accuracy over epochs; right: probe test accuracy by layer (dashed: network)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for r in results:
        line, = left.plot(r.history["epoch"], 100 * r.history["test_accuracy"], label=r.data.name)
        right.plot(r.probes["layer"], 100 * r.probes["test_accuracy"], marker="o", color=line.get_color(),
                   label=f"{r.data.name}: probe")
        right.axhline(100 * r.network_accuracy, ls="--", color=line.get_color(), label=f"{r.data.name}: network")
    left.set(title="Training", xlabel="epoch", ylabel="test accuracy (%)")
    right.set(title="Linear probes by layer", xlabel="layer (0 = input)", ylabel="probe test accuracy (%)")
    right.set_xticks(results[0].probes["layer"])
    left.legend()
    right.legend(fontsize="small")
    fig.tight_layout()
    return fig
