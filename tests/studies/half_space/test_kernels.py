"""Overlap kernel and empirical NTK: identities they must satisfy."""

import itertools

import pytest
import torch

from linstruct.studies.half_space.gated import GatedNet
from linstruct.studies.half_space.kernels import (
    block_ratio,
    empirical_ntk,
    hard_overlap,
    layer_kernels,
    overlap_kernel,
    trace_normalise,
)


def model_and_inputs(family="dlgn"):
    model = GatedNet(family, 2, 3, 3, dtype=torch.float64)
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return model, x


@pytest.mark.parametrize("hard", [True, False])
def test_overlap_kernel_is_sum_over_paths_of_gate_products(hard):
    model, x = model_and_inputs()
    gates = [g[0] for g in model.gates(x, hard)]
    explicit = torch.zeros(len(x), len(x), dtype=torch.float64)
    for path in itertools.product(range(3), repeat=3):
        f = torch.stack([g[:, j] for g, j in zip(gates, path)]).prod(0)
        explicit += f[:, None] * f[None, :]
    assert torch.allclose(overlap_kernel(gates), explicit, rtol=1e-12, atol=1e-12)


def test_hard_overlap_kernel_counts_active_paths_and_is_psd():
    model, x = model_and_inputs()
    gates = [g[0] for g in model.gates(x, hard=True)]
    omega = overlap_kernel(gates)
    active = torch.stack([g.sum(1) for g in gates]).prod(0)
    assert torch.equal(omega.diagonal(), active)
    assert torch.equal(omega, omega.round())
    assert float(torch.linalg.eigvalsh(omega).min()) >= -1e-9 * float(omega.diagonal().max())
    assert all(torch.equal(k, k.T) for k in layer_kernels(gates))


def test_ntk_equals_jacobian_products_one_sample_at_a_time():
    model, x = model_and_inputs()
    x = x[:8]
    rows = []
    for xi in x:
        model.zero_grad()
        model(xi[None])[0, 0, 0].backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    jac = torch.stack(rows)
    assert torch.allclose(empirical_ntk(model, x, normalise=False), jac @ jac.T, rtol=1e-10)
    names = [n for n, _ in model.named_parameters() if n.startswith(("value", "head"))]
    value_cols = torch.cat(
        [torch.ones(p.numel(), dtype=torch.bool) * n.startswith(("value", "head")) for n, p in model.named_parameters()]
    )
    value_only = empirical_ntk(model, x, names, normalise=False)
    assert torch.allclose(value_only, jac[:, value_cols] @ jac[:, value_cols].T, rtol=1e-10)
    assert torch.trace(empirical_ntk(model, x)) == pytest.approx(1.0)


def test_trace_normalise_and_block_ratio():
    k = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    assert torch.trace(trace_normalise(k)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="trace"):
        trace_normalise(torch.zeros(2, 2))
    top, bottom, ratio = block_ratio(torch.diag(torch.tensor([4.0, 2.0])), torch.tensor([True, False]))
    assert (top, bottom, ratio) == (4.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="unknown parameter"):
        empirical_ntk(model_and_inputs()[0], torch.zeros(2, 2, dtype=torch.float64), ["nope"])


@pytest.mark.parametrize("scale", [1e6, 1e-6])
def test_hard_overlap_is_exact_on_badly_scaled_inputs(scale):
    """Without biases eta is homogeneous in x, so hard gates and path counts cannot change with the scale."""
    model = GatedNet("dlgn", 2, 4, 3, seeds=(0, 1), bias=False, dtype=torch.float64)
    x = torch.randn(20, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    for index in (0, 1):
        assert torch.equal(hard_overlap(model, x * scale, index), hard_overlap(model, x, index))


def test_hard_overlap_is_exact_on_tied_inputs_and_in_float32():
    model32 = GatedNet("dlgn", 2, 4, 3, seeds=(0,))
    x = torch.randn(10, 2, generator=torch.Generator().manual_seed(3))
    x = torch.cat([x, x[:3], torch.zeros(1, 2)])
    gates = [g[0] for g in model32.gates(x, hard=True)]
    counts = overlap_kernel(gates)
    explicit = torch.zeros_like(counts)
    for path in itertools.product(range(4), repeat=3):
        f = torch.stack([g[:, j] for g, j in zip(gates, path)]).prod(0).double()
        explicit += f[:, None] * f[None, :]
    assert counts.dtype == torch.float64 and torch.equal(counts, explicit)
    assert torch.equal(counts[10:13], counts[:3]) and torch.equal(counts[:, 10:13], counts[:, :3])
    omega = hard_overlap(model32, x, 0)
    assert omega.dtype == torch.float64 and omega.device == x.device
    assert torch.equal(omega, counts / torch.trace(counts))


def test_soft_overlap_kernel_of_float32_gates_equals_float64():
    model, x = model_and_inputs()
    gates64 = [g[0] for g in model.gates(x)]
    gates32 = [g.float() for g in gates64]
    assert torch.allclose(overlap_kernel(gates32), overlap_kernel(gates64), rtol=1e-6)


def test_ntk_in_float32_matches_float64():
    model64, x = model_and_inputs()
    model32 = GatedNet("dlgn", 2, 3, 3)  # same seed, same initial weights, float32
    theta64 = empirical_ntk(model64, x)
    theta32 = empirical_ntk(model32, x.float())
    assert theta32.dtype == torch.float64 and torch.allclose(theta32, theta64, rtol=1e-4, atol=1e-7)
