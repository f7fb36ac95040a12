import math

import pytest
import torch
from torch import nn

import linstruct.studies.nonlinear_advantage.linearize as lz
from linstruct.data import Dataset


def blobs(n=256, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.randn(n, d, generator=g) + 4.0 * nn.functional.one_hot(y, d).float()
    return Dataset("blobs", x[: n // 2], y[: n // 2], x[n // 2 :], y[n // 2 :], "classification", 3, "generated")


def test_prelu_is_relu_at_zero_identity_at_one_per_copy_and_channel():
    x = torch.randn(2, 5, 3, 7)  # (S, n, C, L)
    assert torch.equal(lz.prelu(x, torch.zeros(2, 3)), torch.relu(x))
    out = lz.prelu(x, torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 1.0]]))
    assert torch.equal(out[0, :, 0], torch.relu(x[0, :, 0]))
    assert torch.equal(out[0, :, 1], x[0, :, 1])
    assert torch.allclose(out[0, :, 2], torch.where(x[0, :, 2] > 0, x[0, :, 2], 0.5 * x[0, :, 2]))
    assert torch.equal(out[1], x[1])
    flat = torch.randn(2, 5, 3)  # (S, n, C): the dense layers' activations
    assert torch.equal(lz.prelu(flat, torch.tensor([[0.0] * 3, [1.0] * 3])), torch.stack([flat[0].relu(), flat[1]]))


@pytest.mark.parametrize("shape", [(2, 4, 3, 5), (2, 4, 3)])
def test_prelu_gradients_are_exact_in_x_and_in_the_slopes(shape):
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    alpha = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lz.prelu, (x, alpha))


def test_prelu_slope_at_zero_is_alpha_and_frozen_slopes_get_no_gradient():
    x = torch.tensor([[[0.0, 2.0, -3.0]]], requires_grad=True)  # (S=1, n=1, C=3)
    alpha = torch.tensor([[0.25, 0.25, 0.25]])
    lz.prelu(x, alpha).sum().backward()
    assert x.grad.tolist() == [[[0.25, 1.0, 0.25]]]
    assert alpha.grad is None


def test_fully_linear_network_is_an_affine_map():
    torch.manual_seed(0)
    net = lz.cnn1d((0,), 40, 4, 2, 10)
    for a in lz.slopes(net):
        a.data.fill_(1.0)
    x, y = torch.randn(3, 40), torch.randn(3, 40)
    zero = net(torch.zeros(1, 40))
    # affine: f(x + y) - f(0) = (f(x) - f(0)) + (f(y) - f(0))
    assert torch.allclose(net(x + y) - zero, (net(x) - zero) + (net(y) - zero), atol=1e-5)


def test_penalty_values_per_copy_and_unknown_kind():
    net = lz.mlp((0, 1), 4, 2, 2, 3)
    with torch.no_grad():
        lz.slopes(net)[0].copy_(torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
        lz.slopes(net)[1].copy_(torch.tensor([[0.5, 0.5], [1.0, 1.0]]))  # copy 1 is fully linear
    assert lz.penalty(net, 2.0, "l1_mean").tolist() == pytest.approx([2.0 * (0 + 1 + 0.5 + 0.5) / 4, 0.0])
    assert lz.penalty(net, 1.0, "l1_sum").tolist() == pytest.approx([2.0, 0.0])
    assert lz.penalty(net, 1.0, "layerfold").tolist() == pytest.approx([0.5 + 0.75, 0.0])
    assert lz.penalty(net, [3.0, 5.0], "l1_sum").tolist() == pytest.approx([6.0, 0.0])  # one strength per copy
    with pytest.raises(ValueError, match="penalty kind must be one of"):
        lz.penalty(net, 1.0, "l2")


def test_slopes_have_no_weight_decay_and_their_own_learning_rate():
    net = lz.mlp((0,), 4, 3, 2, 2)
    opt = lz.optimizer_for(net, lr=1e-3, alpha_lr_factor=4.0, weight_decay=0.1)
    weights, alphas = opt.param_groups
    assert weights["weight_decay"] == 0.1 and alphas["weight_decay"] == 0.0
    assert alphas["lr"] == pytest.approx(4e-3)
    assert {id(p) for p in alphas["params"]} == {id(a) for a in lz.slopes(net)}


def test_counting_binarisation_and_the_tolerance_per_copy():
    net = lz.mlp((0, 1), 4, 4, 2, 2)
    with torch.no_grad():
        lz.slopes(net)[0].copy_(torch.tensor([[1.0, 0.995, 0.3, 0.0], [0.0] * 4]))
        lz.slopes(net)[1].copy_(torch.tensor([[1.0, 1.0, 1.0, 0.2], [1.0] * 4]))
    assert lz.layer_shares(net, 0.01) == [[0.5, 0.25], [1.0, 0.0]]
    assert lz.nonlinear_share(net, 0.01) == pytest.approx([3 / 8, 4 / 8])
    assert lz.nonlinear_share(net, 1e-6) == pytest.approx([4 / 8, 4 / 8])  # 0.995 counts as nonlinear at 1e-6
    binary = lz.binarise(net, 0.01)
    assert lz.slopes(binary)[0][0].tolist() == pytest.approx([1.0, 1.0, 0.3, 0.0])
    assert float(lz.slopes(net)[0][0, 1].detach()) == pytest.approx(0.995)  # the original is untouched
    relu = lz.binarise(net, 0.01, nonlinear="relu")
    assert lz.slopes(relu)[1].tolist() == [[1.0, 1.0, 1.0, 0.0], [1.0] * 4]
    with pytest.raises(ValueError, match="eps must be in"):
        lz.nonlinear_masks(net, 1.5)


def test_sparsify_clamps_slopes_into_the_unit_interval_and_strong_prior_linearizes_all():
    torch.manual_seed(0)
    net = lz.mlp((0,), 6, 8, 2, 3)
    recipe = lz.Recipe(lr=1e-2, batch_size=32, alpha_lr_factor=10.0)
    history, snaps = lz.sparsify(net, blobs(), lam=100.0, epochs=8, recipe=recipe, snapshot_epochs={4})
    alphas = torch.cat([a.detach() for a in lz.slopes(net)])
    assert float(alphas.min()) >= 0.0 and float(alphas.max()) <= 1.0
    assert lz.nonlinear_share(net) == [0.0]
    assert history.rho.iloc[0] == 1.0 and history.rho.iloc[-1] == 0.0
    assert set(snaps) == {4} and snaps[4] is not net


def test_dense_training_keeps_slopes_frozen_at_relu():
    torch.manual_seed(0)
    net = lz.mlp((0,), 6, 8, 2, 3)
    snaps = lz.train_dense(net, blobs(), 20, lz.Recipe(lr=1e-2, batch_size=32), snapshot_epochs={1, 20})
    assert all(float(a.abs().max()) == 0.0 for a in lz.slopes(net))
    assert sorted(snaps) == [1, 20]
    assert lz.accuracy(net, blobs())[0] > 0.8


def test_fine_tune_keeps_the_mask():
    torch.manual_seed(0)
    net = lz.binarise(lz.mlp((0,), 6, 8, 2, 3))
    before = [a.clone() for a in lz.slopes(net)]
    lz.fine_tune(net, blobs(), 2, lz.Recipe(lr=1e-2, batch_size=32))
    assert all(torch.equal(a, b) for a, b in zip(lz.slopes(net), before))


def test_frontier_is_the_interpolated_upper_envelope():
    points = [(0.0, 0.3), (0.1, 0.5), (0.2, 0.4), (0.4, 0.9), (1.0, 0.85)]
    # (0.2, 0.4) is dominated by (0.1, 0.5); (1.0, 0.85) by (0.4, 0.9)
    got = lz.frontier(points, [0.0, 0.05, 0.1, 0.2, 0.25, 0.4, 0.7])
    assert got == pytest.approx([0.3, 0.4, 0.5, 0.5 + 0.4 / 3, 0.7, 0.9, 0.9])
    assert math.isnan(lz.frontier([(0.1, 0.5)], [0.05])[0])
    with pytest.raises(ValueError, match="at least one point"):
        lz.frontier([], [0.1])


def test_recipe_refuses_unknown_penalty():
    with pytest.raises(ValueError, match="penalty must be one of"):
        lz.Recipe(penalty="l0")


def test_frontier_on_tied_rho_takes_the_best_accuracy():
    # a run that linearized every unit ties the linear anchor at rho = 0, a weak prior ties the dense one at 1
    points = [(0.0, 0.3), (0.0, 0.4), (0.5, 0.6), (0.5, 0.5), (1.0, 0.8), (1.0, 0.7)]
    got = lz.frontier(points, [0.0, 0.25, 0.5, 0.75, 1.0])
    assert got == pytest.approx([0.4, 0.5, 0.6, 0.7, 0.8])
    assert lz.frontier(points[::-1], [0.0, 0.25, 0.5, 0.75, 1.0]) == got  # order does not matter
    # a tie in accuracy keeps the cheaper point
    assert lz.frontier([(0.0, 0.3), (0.2, 0.6), (0.4, 0.6)], [0.1, 0.3]) == pytest.approx([0.45, 0.6])


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_frontier_is_invariant_to_rescaling_rho(scale):
    points = [(0.0, 0.3), (0.1, 0.5), (0.2, 0.4), (0.4, 0.9), (1.0, 0.85)]
    grid = [0.0, 0.05, 0.1, 0.2, 0.25, 0.4, 0.7]
    scaled = lz.frontier([(x * scale, y) for x, y in points], [g * scale for g in grid])
    assert scaled == pytest.approx(lz.frontier(points, grid), rel=1e-12)


def test_float64_network_is_exactly_relu_or_identity_and_affine_when_linear():
    torch.manual_seed(0)
    net = lz.cnn1d((0,), 40, 4, 2, 10).double()
    assert all(a.dtype == torch.float64 for a in lz.slopes(net))
    x = torch.randn(3, 40, dtype=torch.float64)
    h = torch.randn(1, 2, 4, 5, dtype=torch.float64)
    assert torch.equal(lz.prelu(h, lz.slopes(net)[0]), torch.relu(h))
    for a in lz.slopes(net):
        a.data.fill_(1.0)
    assert torch.equal(lz.prelu(h, lz.slopes(net)[0]), h)
    y, zero = torch.randn(3, 40, dtype=torch.float64), net(torch.zeros(1, 40, dtype=torch.float64))
    assert torch.allclose(net(x + y) - zero, (net(x) - zero) + (net(y) - zero), atol=1e-12)
    assert lz.penalty(net, 1.0).dtype == torch.float64 and lz.penalty(net, 1.0).tolist() == [0.0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_tolerance_boundary_is_inclusive_in_both_dtypes(dtype):
    net = lz.mlp((0,), 4, 4, 1, 2).to(dtype)
    with torch.no_grad():
        lz.slopes(net)[0].copy_(torch.tensor([[0.99, 0.9899, 1.0, 0.0]], dtype=dtype))
    assert lz.nonlinear_masks(net, 0.01)[0].tolist() == [[False, True, False, True]]  # alpha = 1 - eps is linear
    assert lz.slopes(lz.binarise(net, 0.01))[0].dtype == dtype


def test_training_in_float64_stays_in_float64_and_on_the_models_device():
    torch.manual_seed(0)
    data = blobs()
    data = Dataset(
        "blobs64",
        data.x_train.double(),
        data.y_train,
        data.x_test.double(),
        data.y_test,
        "classification",
        3,
        "generated",
    )
    net = lz.mlp((0,), 6, 8, 2, 3).double()
    recipe = lz.Recipe(lr=1e-2, batch_size=32, alpha_lr_factor=10.0)
    lz.train_dense(net, data, 3, recipe)
    history, _ = lz.sparsify(net, data, lam=100.0, epochs=8, recipe=recipe)
    assert all(p.dtype == torch.float64 for p in net.parameters())
    assert next(net.parameters()).device == torch.device("cpu")
    alphas = torch.cat([a.detach() for a in lz.slopes(net)])
    assert float(alphas.min()) >= 0.0 and float(alphas.max()) <= 1.0
    assert history.rho.iloc[-1] == 0.0
