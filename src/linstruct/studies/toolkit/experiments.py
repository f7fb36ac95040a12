"""Chapter 0, "The toolkit in two minutes": train MLPs over seeds, probe their layers, judge a claim."""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch

from linstruct.core.claims import Check, Claim
from linstruct.data import Dataset
from linstruct.nn.ensembles import EnsembleMLP, train_ensemble
from linstruct.studies.toolkit.spec import SPEC, DATASET_CHOICES, ROLES, TOLERANCE_POINTS, SEED_SHARE, PARTLY_SEED_SHARE
from linstruct.nn.probes import layer_probe_accuracies, probe_row
from linstruct.core.reproducibility import select_device



@dataclass
class ProbedNetworks:
    """Networks trained on one dataset (one per seed), their histories and layer probes.

    ``history``: one row per seed and epoch; ``probes``: one row per seed and layer.
    """

    data: Dataset
    ensemble: EnsembleMLP
    history: pd.DataFrame
    probes: pd.DataFrame

    @property
    def network_accuracy(self) -> pd.Series:
        """Final test accuracy of each seed's network (indexed by seed)."""
        last = self.history[self.history["epoch"] == self.history["epoch"].max()]
        return last.set_index("seed")["test_accuracy"]

    @property
    def last_layer_probe_accuracy(self) -> pd.Series:
        """Test accuracy of the probe on each seed's last hidden layer (indexed by seed)."""
        last = self.probes[self.probes["layer"] == self.probes["layer"].max()]
        return last.set_index("seed")["test_accuracy"]

    @property
    def gap_points(self) -> pd.Series:
        """|probe - network| test accuracy in percentage points, per seed."""
        return 100 * (self.last_layer_probe_accuracy - self.network_accuracy).abs()


def seeds_of(config) -> list[int]:
    return list(range(config.seed, config.seed + config.n_seeds))


def train_and_probe(data: Dataset, config) -> ProbedNetworks:
    """Train ``n_seeds`` MLPs at once on ``data`` and probe every layer of each."""
    ensemble = EnsembleMLP.from_seeds(seeds_of(config), data.in_features, config.width, config.depth,
                                      data.num_classes)
    history = train_ensemble(ensemble, data, epochs=config.epochs, lr=config.lr, batch_size=config.batch_size,
                             device=select_device(config.device))
    ensemble.cpu()
    input_row = probe_row(data.x_train, data.x_test, data, layer=0)  # the same for every seed
    probes = pd.concat([pd.concat([pd.DataFrame([input_row]),
                                   layer_probe_accuracies(ensemble.member(i), data, include_input=False)])
                        .assign(seed=seed) for i, seed in enumerate(ensemble.seeds)], ignore_index=True)
    return ProbedNetworks(data, ensemble, history, probes)


def probe_claim(results: list[ProbedNetworks]) -> Claim:
    """"A linear probe on the last hidden layer matches the network within 2 points", per dataset.

    Holds on a dataset when the gap is within the tolerance in at least 80% of seeds
    (partly: 50%). Measured values are keyed by the dataset's role (``main``,
    ``second``), not its name, so the prose's glue keys do not depend on parameters.
    """
    measured, checks = {}, []
    for role, r in zip(ROLES, results, strict=True):
        holds = float((r.gap_points <= TOLERANCE_POINTS).mean())
        measured.update({f"network_{role}": float(r.network_accuracy.mean()),
                         f"probe_{role}": float(r.last_layer_probe_accuracy.mean()),
                         f"gap_points_{role}": float(r.gap_points.mean()),
                         f"seeds_holding_{role}": holds})
        checks.append(Check.at_least(f"share of seeds with gap <= {TOLERANCE_POINTS:g} points on {r.data.name}",
                                     holds, SEED_SHARE, PARTLY_SEED_SHARE))
    return Claim(
        id="probe_matches_network",
        statement="A linear probe on the last hidden layer matches the network's own test accuracy "
                  f"within {TOLERANCE_POINTS:g} points.",
        criterion=f"|probe - network| test accuracy <= {TOLERANCE_POINTS:g} points in at least "
                  f"{SEED_SHARE:.0%} of seeds on every dataset (partly: {PARTLY_SEED_SHARE:.0%})",
        measured=measured,
        checks=checks,
        source="the book's own sanity claim (the network's head is itself a linear probe)",
    )


def seed_table(results: list[ProbedNetworks]) -> pd.DataFrame:
    """Per dataset and seed: network and last-layer probe test accuracy and their gap."""
    return pd.concat([pd.DataFrame({"dataset": r.data.name, "network": r.network_accuracy,
                                    "probe": r.last_layer_probe_accuracy, "gap_points": r.gap_points})
                      .reset_index() for r in results], ignore_index=True)


def figure(results: list[ProbedNetworks]) -> plt.Figure:
    """Left: test accuracy over epochs; right: probe test accuracy by layer; mean and sd over seeds."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for r, colour in zip(results, sns.color_palette()):
        history = r.history.assign(percent=100 * r.history["test_accuracy"])
        sns.lineplot(history, x="epoch", y="percent", errorbar="sd", ax=left, color=colour, label=r.data.name)
        probes = r.probes.assign(percent=100 * r.probes["test_accuracy"])
        sns.lineplot(probes, x="layer", y="percent", errorbar="sd", marker="o", ax=right, color=colour,
                     label=f"{r.data.name}: probe")
        right.axhline(100 * r.network_accuracy.mean(), ls="--", color=colour, label=f"{r.data.name}: network")
    n_seeds = results[0].ensemble.size
    left.set(title=f"Training ({n_seeds} seeds, mean ± sd)", xlabel="epoch", ylabel="test accuracy (%)")
    right.set(title="Linear probes by layer", xlabel="layer (0 = input)", ylabel="probe test accuracy (%)")
    right.set_xticks(sorted(results[0].probes["layer"].unique()))
    right.legend(fontsize="small")
    fig.tight_layout()
    return fig


@torch.no_grad()
def layer_projections(r: ProbedNetworks, max_points: int = 600) -> list[torch.Tensor]:
    """The first seed's test features of every layer (input first) projected on their top two
    principal components: a list of (n, 2) tensors, n <= ``max_points``."""
    model = r.ensemble.member(0)
    x = r.data.x_test[:max_points]
    projections = []
    for features in [x.flatten(1)] + model.hidden_states(x):
        centred = features - features.mean(0)
        _, _, v = torch.linalg.svd(centred, full_matrices=False)
        projections.append(centred @ v[:2].T)
    return projections


def draw_layer(results: list[ProbedNetworks], projections: list[list[torch.Tensor]]):
    """A drawing function for the explorer: one panel per dataset showing layer ``layer``."""
    def draw(axes, layer: int) -> None:
        for ax, r, layers in zip(axes, results, projections):
            labels = r.data.y_test[: len(layers[layer])]
            ax.scatter(layers[layer][:, 0], layers[layer][:, 1], c=labels, cmap="tab10", s=6)
            probe = r.probes[(r.probes["layer"] == layer) & (r.probes["seed"] == r.ensemble.seeds[0])]
            ax.set(title=f"{r.data.name}, layer {layer}: probe {100 * probe['test_accuracy'].item():.0f}%",
                   xlabel="principal component 1", ylabel="principal component 2")
    return draw
