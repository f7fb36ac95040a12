"""Linear probes: how linearly decodable the classes are from a layer's features.

A probe is a multinomial logistic regression fitted on frozen, standardised features
(training statistics) with a small L2 penalty by full-batch L-BFGS from zero, so the
result is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch.nn import functional as F

from linstruct.data import Dataset
from linstruct.nn.stacked import Stacked


@dataclass(frozen=True)
class LinearProbe:
    """A fitted probe: logits = ((features - mean) / scale) @ weight.T + bias."""

    mean: torch.Tensor  # (d,)
    scale: torch.Tensor  # (d,)
    weight: torch.Tensor  # (classes, d)
    bias: torch.Tensor  # (classes,)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """(n, d) features -> (n, classes) logits."""
        return ((features - self.mean) / self.scale) @ self.weight.T + self.bias

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        features = features.detach().double().flatten(1).to(self.weight.device)
        return float((self.logits(features).argmax(dim=1) == labels.to(features.device)).double().mean())


def fit_linear_probe(
    features: torch.Tensor, labels: torch.Tensor, num_classes: int, l2: float = 1e-4, max_iter: int = 100
) -> LinearProbe:
    """Fit a probe on (n, d) ``features`` and (n,) integer ``labels``."""
    features = features.detach().double().flatten(1)
    labels = labels.to(features.device)
    mean = features.mean(dim=0)
    scale = features.std(dim=0).clamp_min(1e-6)
    z = (features - mean) / scale
    weight = torch.zeros(num_classes, z.shape[1], dtype=torch.float64, device=z.device, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, device=z.device, requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(z @ weight.T + bias, labels) + l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return LinearProbe(mean, scale, weight.detach(), bias.detach())


def probe_accuracy(
    train_features: torch.Tensor,
    train_labels: torch.Tensor,
    test_features: torch.Tensor,
    test_labels: torch.Tensor,
    num_classes: int,
    **fit_options,
) -> float:
    """Test accuracy of a probe fitted on the training features."""
    probe = fit_linear_probe(train_features, train_labels, num_classes, **fit_options)
    return probe.accuracy(test_features, test_labels)


def probe_row(
    train_features: torch.Tensor, test_features: torch.Tensor, data: Dataset, layer: int, **fit_options
) -> dict:
    """``{"layer", "train_accuracy", "test_accuracy"}`` of a probe on one layer's features."""
    probe = fit_linear_probe(train_features, data.y_train, data.num_classes, **fit_options)
    return {
        "layer": layer,
        "train_accuracy": probe.accuracy(train_features, data.y_train),
        "test_accuracy": probe.accuracy(test_features, data.y_test),
    }


@torch.no_grad()
def layer_probe_accuracies(model: Stacked, data: Dataset, include_input: bool = True, **fit_options) -> pd.DataFrame:
    """Probe accuracy, per copy of a stacked ``model``, of the input (layer 0, unless
    ``include_input=False``; it does not depend on the model, so it is fitted once) and of
    every hidden layer.

    ``model`` provides ``hidden_states(x) -> list[(S, n, width)]``; the data go to the model's
    device. Returns columns ``copy``, ``seed``, ``layer``, ``train_accuracy``, ``test_accuracy``.
    """
    model.eval()
    where = next(model.parameters()).device
    x_train, x_test = data.x_train.to(where), data.x_test.to(where)
    states = list(zip(model.hidden_states(x_train), model.hidden_states(x_test)))
    first = [probe_row(x_train, x_test, data, 0, **fit_options)] if include_input else []
    rows = []
    for copy, seed in enumerate(model.seeds):
        rows += [{"copy": copy, "seed": seed} | row for row in first]
        rows += [
            {"copy": copy, "seed": seed} | probe_row(train[copy], test[copy], data, layer, **fit_options)
            for layer, (train, test) in enumerate(states, start=1)
        ]
    return pd.DataFrame(rows)
