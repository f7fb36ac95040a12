import pytest
import torch

from linstruct.nn.mlp import MLP


def test_shapes_and_hidden_states_compose_to_forward():
    model = MLP.from_seeds((0, 1), in_features=6, width=5, depth=3, out_features=4, activation="tanh")
    x = torch.randn(7, 6)
    states = model.hidden_states(x)
    assert [s.shape for s in states] == [(2, 7, 5)] * 3
    assert torch.allclose(model(x), model.head(states[-1]))
    assert torch.allclose(states[0], torch.tanh(model.hidden[0](x.expand(2, 7, 6))))


def test_identity_activation_makes_a_linear_map():
    model = MLP.from_seeds((0,), 3, 4, 2, 2, activation="identity")
    x, z = torch.randn(5, 3), torch.randn(5, 3)
    bias = model(torch.zeros(1, 3))
    assert torch.allclose(model(x + z) - bias, (model(x) - bias) + (model(z) - bias), atol=1e-5)


def test_initialisation_is_torchs_default_under_the_seed():
    model = MLP.from_seeds((5,), 3, 4, 1, 2)
    torch.manual_seed(5)
    first, head = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)
    assert torch.equal(model.hidden[0].weight[0], first.weight) and torch.equal(model.head.bias[0], head.bias)


def test_initializer_is_applied_per_layer():
    model = MLP.from_seeds((0,), 3, 4, 2, 2, initializer=lambda layer: torch.nn.init.zeros_(layer.weight))
    assert all(float(layer.weight.abs().sum()) == 0 for layer in [*model.hidden, model.head])


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation must be one of relu"):
        MLP.from_seeds((0,), 3, 4, 2, 2, activation="gelu")
    with pytest.raises(ValueError, match="depth and width"):
        MLP.from_seeds((0,), 3, 4, 0, 2)
    with pytest.raises(ValueError, match="at least one copy"):
        MLP.from_seeds((), 3, 4, 2, 2)
