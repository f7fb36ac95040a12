"""Chapter 0's runners: train MLPs over seeds at once, probe every layer, project layers for the explorer.

Everything is computed on the ``device`` the caller passes (the notebook passes ``run.device``);
only the probes' float64 fit (``linstruct.nn.probes``) runs on the CPU, on features moved there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from linstruct.core.claims import Baseline
from linstruct.data import Dataset
from linstruct.data.references import baseline
from linstruct.nn.fit import final, fit
from linstruct.nn.mlp import MLP
from linstruct.nn.probes import layer_probe_accuracies


@dataclass
class ProbedNetworks:
    """Networks trained on one dataset (one copy per seed, stacked in ``model``), their histories and
    layer probes.

    ``history``: one row per seed and epoch; ``probes``: one row per seed and layer (0 = input).
    """

    data: Dataset
    model: MLP
    history: pd.DataFrame
    probes: pd.DataFrame

    @property
    def network_accuracy(self) -> pd.Series:
        """Final test accuracy of each seed's network (indexed by seed)."""
        return final(self.history, "test_accuracy").set_axis(self.model.seeds).rename_axis("seed")

    @property
    def last_layer_probe_accuracy(self) -> pd.Series:
        """Test accuracy of the probe on each seed's last hidden layer (indexed by seed)."""
        last = self.probes[self.probes["layer"] == self.probes["layer"].max()]
        return last.set_index("seed")["test_accuracy"]

    @property
    def gap_points(self) -> pd.Series:
        """|probe - network| test accuracy in percentage points, per seed."""
        return 100 * (self.last_layer_probe_accuracy - self.network_accuracy).abs()


def train_and_probe(
    data: Dataset,
    *,
    seeds: Sequence[int],
    width: int,
    depth: int,
    epochs: int,
    lr: float,
    batch_size: int,
    schedule: str = "constant",
    device: torch.device | str = "cpu",
) -> ProbedNetworks:
    """Train one ReLU MLP per seed at once on ``data`` (Adam, learning-rate ``schedule``) on
    ``device``, then probe the input and every hidden layer of each."""
    model = MLP.from_seeds(list(seeds), data.in_features, width, depth, data.num_classes)
    history = fit(
        model, data, epochs=epochs, lr=lr, batch_size=batch_size, schedule=schedule, order="per_seed", device=device
    )
    probes = layer_probe_accuracies(model, data).drop(columns="copy")
    return ProbedNetworks(data, model, history, probes)


def probe_claim_inputs(results: Sequence[ProbedNetworks]) -> dict:
    """The plain values :func:`linstruct.studies.toolkit.claims.probe_claim` judges: per dataset,
    its name and the per-seed network and last-layer probe test accuracies."""
    return {
        "datasets": [r.data.name for r in results],
        "network_accuracy": [r.network_accuracy.tolist() for r in results],
        "probe_accuracy": [r.last_layer_probe_accuracy.tolist() for r in results],
    }


def baselines(results: Sequence[ProbedNetworks]) -> list[Baseline]:
    """Each dataset's networks (mean test accuracy over seeds, in percent) against the book's
    reference for an MLP on that dataset; datasets without a reference are left out."""
    found = []
    for r in results:
        name = f"ReLU MLP {r.model.width}x{len(r.model.hidden)}"
        found.append(baseline(name, r.data.name, "mlp", 100 * float(r.network_accuracy.mean())))
    return [b for b in found if b is not None]


def seed_table(results: Sequence[ProbedNetworks]) -> pd.DataFrame:
    """Per dataset and seed: network and last-layer probe test accuracy and their gap (points)."""
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "dataset": r.data.name,
                    "network": r.network_accuracy,
                    "probe": r.last_layer_probe_accuracy,
                    "gap_points": r.gap_points,
                }
            ).reset_index()
            for r in results
        ],
        ignore_index=True,
    )


@torch.no_grad()
def layer_projections(model: MLP, x: torch.Tensor, member: int = 0, max_points: int = 600) -> list[torch.Tensor]:
    """The features of every layer (input first) of copy ``member`` on the first ``max_points`` rows of
    ``x`` (n, ...), each centred and projected on its top two principal components: a list of
    ``depth + 1`` CPU tensors (min(n, max_points), 2), computed on ``x``'s device in ``x``'s dtype."""
    x = x[:max_points].flatten(1)
    projections = []
    for features in [x] + [h[member] for h in model.hidden_states(x)]:
        centred = features - features.mean(0)
        _, _, v = torch.linalg.svd(centred, full_matrices=False)
        projections.append((centred @ v[:2].T).cpu())
    return projections
