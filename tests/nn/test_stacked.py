"""Stacked layers equal their torch counterparts copy by copy; member and stack are inverses."""

import pytest
import torch
from torch import nn

from linstruct.nn.mlp import MLP
from linstruct.nn.stacked import StackedBatchNorm1d, StackedConv1d, StackedLinear, per_copy


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_linear_equals_each_copy(dtype):
    torch.manual_seed(0)
    linears = [nn.Linear(5, 3).to(dtype) for _ in range(4)]
    stacked = StackedLinear.from_linears(linears)
    x = torch.randn(4, 7, 5, dtype=dtype)
    out = stacked(x)
    assert out.shape == (4, 7, 3) and out.dtype == dtype
    for i, linear in enumerate(linears):
        torch.testing.assert_close(out[i], linear(x[i]))


@pytest.mark.parametrize("bias", [True, False])
def test_conv1d_equals_each_copy_and_chains_without_copies(bias):
    torch.manual_seed(1)
    first = [nn.Conv1d(2, 6, 5, stride=2, padding=2, bias=bias).double() for _ in range(3)]
    second = [nn.Conv1d(6, 4, 3, stride=1, padding=1, bias=bias).double() for _ in range(3)]
    a, b = StackedConv1d.from_convs(first), StackedConv1d.from_convs(second)
    x = torch.randn(3, 8, 2, 21, dtype=torch.float64)
    out = b(torch.relu(a(x)))
    assert out.shape == (3, 8, 4, 11)
    for i in range(3):
        torch.testing.assert_close(out[i], second[i](torch.relu(first[i](x[i]))))


def test_conv1d_rejects_mixed_strides():
    with pytest.raises(ValueError, match="equal strides"):
        StackedConv1d.from_convs([nn.Conv1d(1, 2, 3, stride=1), nn.Conv1d(1, 2, 3, stride=2)])


@pytest.mark.parametrize("shape", [(3, 10, 4), (3, 10, 4, 6)])
def test_batch_norm_keeps_statistics_per_copy(shape):
    torch.manual_seed(2)
    norms = [nn.BatchNorm1d(4).double() for _ in range(3)]
    for m in norms:
        nn.init.uniform_(m.weight)
        nn.init.uniform_(m.bias)
    stacked = StackedBatchNorm1d.from_norms(norms)
    x = torch.randn(*shape, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.1]).double().view(
        3, *[1] * (len(shape) - 1)
    )
    for _ in range(2):  # training mode: batch statistics, running averages updated per copy
        out = stacked(x)
        expected = [norms[i](x[i]) for i in range(3)]
    for i in range(3):
        torch.testing.assert_close(out[i], expected[i])
        torch.testing.assert_close(stacked.running_mean[i], norms[i].running_mean)
        torch.testing.assert_close(stacked.running_var[i], norms[i].running_var)
    stacked.eval()
    for m in norms:
        m.eval()
    torch.testing.assert_close(stacked(x)[1], norms[1](x[1]))


def test_member_and_stack_are_inverses():
    model = MLP.from_seeds((4, 2, 9), 3, 8, 2, 2)
    members = [model.member(i) for i in range(3)]
    assert [m.seeds for m in members] == [(4,), (2,), (9,)]
    again = MLP.stack(members)
    assert again.seeds == (4, 2, 9)
    for p, q in zip(model.parameters(), again.parameters()):
        assert torch.equal(p, q)
    x = torch.randn(5, 3)
    torch.testing.assert_close(model(x)[1], members[1](x)[0])
    with pytest.raises(IndexError):
        model.member(3)


def test_copy_s_is_initialised_as_its_own_seed():
    """Copy s of any stack equals the one-copy model of seed s: a copy's initialisation does not
    depend on the other copies."""
    together = MLP.from_seeds((7, 3), 4, 6, 2, 1)
    alone = MLP.from_seeds((3,), 4, 6, 2, 1)
    for p, q in zip(together.member(1).parameters(), alone.parameters()):
        assert torch.equal(p, q)


def test_per_copy_inputs():
    x = torch.randn(5, 3)
    assert per_copy(x, 2, 1).shape == (2, 5, 3)
    assert per_copy(torch.randn(2, 5, 3), 2, 1).shape == (2, 5, 3)
    with pytest.raises(ValueError, match="one batch per copy"):
        per_copy(torch.randn(4, 5, 3), 2, 1)
