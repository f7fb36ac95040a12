import pytest
import torch

from linstruct.data import load_dataset
from linstruct.nn.ensembles import EnsembleMLP, train_ensemble
from linstruct.nn.models import MLP
from linstruct.nn.training import train

SEEDS = (3, 0, 11)


def separate_run(data, seed, **kw):
    torch.manual_seed(seed)
    model = MLP(data.in_features, 16, 2, data.num_classes or 1, "tanh")
    history = train(model, data, seed=seed, progress=False, **kw)
    return model, history


@pytest.mark.parametrize("name, kw", [
    ("spirals", dict(epochs=3, lr=1e-2, batch_size=32, optimizer="adam", weight_decay=1e-3)),
    ("circle", dict(epochs=2, lr=5e-2, batch_size=None, optimizer="sgd", momentum=0.9)),
])
def test_each_copy_follows_its_separate_run(name, kw):
    data = load_dataset(name, n=200) if name == "circle" else load_dataset(name)
    ensemble = EnsembleMLP.from_seeds(SEEDS, data.in_features, 16, 2, data.num_classes or 1, "tanh")
    history = train_ensemble(ensemble, data, progress=False, **kw)
    for index, seed in enumerate(SEEDS):
        model, alone = separate_run(data, seed, **kw)
        for p, q in zip(model.parameters(), ensemble.member(index).parameters()):
            torch.testing.assert_close(p, q, atol=2e-5, rtol=1e-4)
        mine = history[history["seed"] == seed].reset_index(drop=True)
        torch.testing.assert_close(torch.tensor(mine["train_loss"].values), torch.tensor(alone["train_loss"].values),
                                   atol=1e-5, rtol=1e-4)
        if data.task == "classification":
            assert mine["test_accuracy"].tolist() == pytest.approx(alone["test_accuracy"].tolist(), abs=1e-9)


def test_members_are_independent_and_shapes():
    ensemble = EnsembleMLP.from_seeds((0, 1), 4, 8, 3, 5)
    x = torch.randn(6, 4)
    out, states = ensemble(x), ensemble.hidden_states(x)
    assert out.shape == (2, 6, 5) and [s.shape for s in states] == [(2, 6, 8)] * 3
    torch.testing.assert_close(out[1], ensemble.member(1)(x))
    assert not torch.allclose(out[0], out[1])
    with pytest.raises(ValueError, match="flatten images first"):
        ensemble(torch.randn(3, 6, 4))
    with pytest.raises(ValueError, match="distinct"):
        EnsembleMLP.from_seeds((1, 1), 4, 8, 3, 5)
