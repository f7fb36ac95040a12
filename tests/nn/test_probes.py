import torch

from linstruct.data import Dataset
from linstruct.nn.mlp import MLP
from linstruct.nn.probes import fit_linear_probe, layer_probe_accuracies, probe_accuracy


def test_separable_data_is_decoded_perfectly():
    g = torch.Generator().manual_seed(0)
    w = torch.tensor([1.0, -2.0, 0.5, 0.0, 1.0]) / 2.5
    x = torch.randn(400, 5, generator=g)
    y = (x @ w > 0).long()
    x = x + 0.5 * (2 * y[:, None] - 1) * w  # a margin of 0.5 on each side
    assert probe_accuracy(x[:300], y[:300], x[300:], y[300:], 2) == 1.0


def test_xor_is_not_linearly_decodable():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(800, 2, generator=g) * 2 - 1
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long()
    assert probe_accuracy(x[:600], y[:600], x[600:], y[600:], 2) < 0.65
    # ...but it is once the product feature is added
    z = torch.cat([x, x[:, :1] * x[:, 1:]], dim=1)
    assert probe_accuracy(z[:600], y[:600], z[600:], y[600:], 2) > 0.95


def test_probe_is_invariant_to_feature_scaling():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(200, 3, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    a = fit_linear_probe(x, y, 2)
    b = fit_linear_probe(x * 1000 + 5, y, 2)
    assert torch.equal(a.logits(x).argmax(1), b.logits(x * 1000 + 5).argmax(1))


def test_layer_probes_cover_input_and_every_hidden_layer():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(120, 4, generator=g)
    y = (x[:, 0] > 0).long()
    data = Dataset("toy", x[:80], y[:80], x[80:], y[80:], "classification", 2, "generated")
    table = layer_probe_accuracies(MLP.from_seeds((0, 1), 4, 6, 3, 2), data)
    assert list(table["layer"]) == [0, 1, 2, 3] * 2 and list(table["seed"]) == [0] * 4 + [1] * 4
    assert table[table["layer"] == 0]["test_accuracy"].nunique() == 1  # the input probe is shared
    assert table["train_accuracy"].between(0, 1).all()
    assert table["test_accuracy"].iloc[0] >= 0.9  # the input is linearly separable


def test_input_layer_can_be_left_out():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(60, 3, generator=g)
    y = (x[:, 0] > 0).long()
    data = Dataset("toy", x[:40], y[:40], x[40:], y[40:], "classification", 2, "generated")
    model = MLP.from_seeds((0,), 3, 4, 2, 2)
    full = layer_probe_accuracies(model, data)
    hidden = layer_probe_accuracies(model, data, include_input=False)
    assert list(hidden["layer"]) == [1, 2]
    single = model.member(0)
    assert layer_probe_accuracies(single, data).equals(full)
    assert hidden.reset_index(drop=True).equals(full[full["layer"] > 0].reset_index(drop=True))
