"""The toolkit's runners: probes per seed and layer, and the explorer's principal-component projections."""

import pytest
import torch

from linstruct.data import load_dataset
from linstruct.nn.mlp import MLP
from linstruct.studies.toolkit import experiments as ex


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_layer_projections_are_the_top_two_principal_components(dtype):
    torch.manual_seed(0)
    model = MLP.from_seeds([0, 1], in_features=5, width=6, depth=2, out_features=3).to(dtype)
    x = torch.randn(40, 5, dtype=dtype)
    projections = ex.layer_projections(model, x, member=1, max_points=30)
    assert len(projections) == 3 and all(p.shape == (30, 2) and p.dtype == dtype for p in projections)
    features = model.member(1).hidden_states(x[:30])[-1][0]
    centred = features - features.mean(0)
    singular = torch.linalg.svdvals(centred)
    # Projections on principal axes: uncorrelated columns whose norms are the top singular values.
    gram = projections[-1].T @ projections[-1]
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    assert torch.allclose(gram.diagonal().sqrt(), singular[:2], rtol=tol)
    assert abs(float(gram[0, 1])) <= tol * float(gram[0, 0])


def test_train_and_probe_records_every_seed_and_layer():
    data = load_dataset("spirals", seed=0, n_train=120)
    r = ex.train_and_probe(data, seeds=[3, 4], width=8, depth=2, epochs=2, lr=1e-2, batch_size=32, device="cpu")
    assert sorted(r.probes["seed"].unique()) == [3, 4] and sorted(r.probes["layer"].unique()) == [0, 1, 2]
    inputs = r.probes[r.probes["layer"] == 0]["test_accuracy"]
    assert inputs.nunique() == 1  # the input probe does not depend on the network
    values = ex.probe_claim_inputs([r, r])
    assert values["datasets"] == [data.name, data.name]
    assert values["network_accuracy"][0] == r.network_accuracy.tolist()
    gaps = [abs(100 * p - 100 * n) for n, p in zip(values["network_accuracy"][0], values["probe_accuracy"][0])]
    assert gaps == pytest.approx(r.gap_points.tolist())


def test_baselines_are_the_mean_network_accuracy_against_the_datasets_reference():
    digits = load_dataset("digits", seed=0, n_train=200)
    spirals = load_dataset("spirals", seed=0, n_train=120)
    runs = [
        ex.train_and_probe(d, seeds=[0, 1], width=8, depth=2, epochs=1, lr=1e-2, batch_size=64, schedule="cosine")
        for d in (digits, spirals)
    ]
    (only,) = ex.baselines(runs)  # spirals has no reference
    assert (only.name, only.dataset, only.target) == ("ReLU MLP 8x2", "digits", 95.0)
    assert only.accuracy == pytest.approx(100 * runs[0].network_accuracy.mean())
