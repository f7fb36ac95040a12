import pytest
import torch

from linstruct.nn.models import MLP


def test_shapes_and_hidden_states_compose_to_forward():
    torch.manual_seed(0)
    model = MLP(in_features=6, width=5, depth=3, out_features=4, activation="tanh")
    x = torch.randn(7, 6)
    states = model.hidden_states(x)
    assert [s.shape for s in states] == [(7, 5)] * 3
    assert torch.allclose(model(x), model.head(states[-1]))
    assert torch.allclose(states[0], torch.tanh(model.hidden[0](x)))


def test_identity_activation_makes_a_linear_map():
    torch.manual_seed(0)
    model = MLP(3, 4, 2, 2, activation="identity")
    x, z = torch.randn(5, 3), torch.randn(5, 3)
    bias = model(torch.zeros(1, 3))
    assert torch.allclose(model(x + z) - bias, (model(x) - bias) + (model(z) - bias), atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation must be one of relu"):
        MLP(3, 4, 2, 2, activation="gelu")
    with pytest.raises(ValueError, match="depth and width"):
        MLP(3, 4, 0, 2)
