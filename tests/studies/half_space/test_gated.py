"""Gated networks: the path-sum identity (Theorem 1) and the model family (stacked training: test_gated_stacked.py)."""

import math

import pytest
import torch

from linstruct.studies.half_space.experiments import scaled_error
from linstruct.studies.half_space.gated import GatedNet, path_sum, steps_to_sustained


def tiny(family, value_input="pwc", bias=True, seed=0, d=3):
    return GatedNet(family, d, 3, 3, seeds=(seed,), beta=4.0, value_input=value_input, bias=bias, dtype=torch.float64)


def inputs(n=64, d=3):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def max_relative_error(a, b):
    return scaled_error(a.detach(), b.detach())


@pytest.mark.parametrize(
    "family,value_input,bias,hard",
    [
        ("relu", "pwc", False, False),
        ("relu", "pwc", True, False),
        ("dlgn", "pwc", True, False),
        ("dlgn", "pwc", True, True),
        ("dlgn", "pwc", False, False),
        ("dlgn", "pwl", True, False),
        ("dlgn", "pwl", False, True),
        ("dlgn-sf", "pwc", True, False),
        ("dgn", "pwc", True, True),
    ],
)
def test_output_is_sum_over_all_paths(family, value_input, bias, hard):
    model, x = tiny(family, value_input, bias), inputs()
    assert max_relative_error(path_sum(model, x, hard), model(x, hard=hard)[0, :, 0]) <= 1e-10


FAMILY_CASES = [
    ("relu", "pwc", True, False),
    ("relu", "pwc", False, False),
    ("dlgn", "pwc", True, True),
    ("dlgn", "pwc", True, False),
    ("dlgn", "pwl", True, False),
    ("dlgn", "pwl", False, True),
    ("dlgn-sf", "pwl", True, False),
    ("dgn", "pwc", True, True),
]


@pytest.mark.parametrize("scale", [1e6, 1e-6])
@pytest.mark.parametrize("family,value_input,bias,hard", FAMILY_CASES)
def test_path_sum_is_exact_on_badly_scaled_inputs(family, value_input, bias, hard, scale):
    """float64 rounding only (relative to the output's scale), for inputs a million times too large or small."""
    model, x = tiny(family, value_input, bias), inputs() * scale
    with torch.no_grad():
        forward = model(x, hard=hard)[0, :, 0]
    assert scaled_error(path_sum(model, x, hard), forward) <= 1e-12


@pytest.mark.parametrize("family,value_input,bias,hard", FAMILY_CASES)
def test_path_sum_is_exact_on_tied_inputs(family, value_input, bias, hard):
    """Repeated inputs and inputs whose pre-activations are exactly 0 (x = 0 without biases) gate as the
    forward pass does: relu 1[z > 0] = 0, hard DLGN gates 1[eta >= 0] = 1."""
    model = tiny(family, value_input, bias)
    x = torch.cat([inputs(8), inputs(8), torch.zeros(4, 3, dtype=torch.float64)])
    with torch.no_grad():
        forward = model(x, hard=hard)[0, :, 0]
    total = path_sum(model, x, hard)
    assert scaled_error(total, forward) <= 1e-12
    assert torch.equal(total[:8], total[8:16]) and torch.equal(total[16:], total[16:17].expand(4))
    if not bias:
        assert all(torch.equal(z[0, 16:], torch.zeros_like(z[0, 16:])) for z in model.preactivations(x))


def test_path_sum_follows_the_model_dtype():
    model = GatedNet("dlgn", 3, 3, 3, seeds=(0,), value_input="pwl")  # float32
    x = inputs().float()
    total = path_sum(model, x)
    assert total.dtype == torch.float32 and total.device == x.device
    assert scaled_error(total.double(), model(x)[0, :, 0].detach().double()) <= 1e-5


def test_relu_without_biases_is_sum_of_active_linear_experts():
    """y(x) = sum_pi A_pi(x) <v_pi, x> with v_pi = u_{pi_L} prod W^l W^1_{pi_1,:}: one linear expert per path."""
    model, x = tiny("relu", bias=False), inputs()
    w = [p[0] for p in model.value_weights]
    u = model.head_weight[0, 0]
    active = [(z[0] > 0).double() for z in model.preactivations(x)]
    total = torch.zeros(len(x), dtype=torch.float64)
    for i in range(3):
        for j in range(3):
            for k in range(3):
                v = u[k] * w[2][k, j] * w[1][j, i] * w[0][i]
                total += active[0][:, i] * active[1][:, j] * active[2][:, k] * (x @ v)
    assert max_relative_error(total, model(x)[0, :, 0]) <= 1e-10


def test_dln_is_a_single_linear_map():
    model, x = tiny("dln"), inputs()
    w = [p[0] for p in model.value_weights] + [model.head_weight[0]]
    c = [p[0] for p in model.value_biases] + [model.head_bias[0]]
    weight, offset = torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    for wl, cl in zip(w, c):
        weight, offset = wl @ weight, wl @ offset + cl
    assert torch.allclose(model(x)[0], x @ weight.T + offset, atol=1e-12)


def test_hard_gates_do_not_depend_on_beta():
    x = inputs()
    a = GatedNet("dlgn", 3, 4, 3, beta=1.0, dtype=torch.float64).gates(x, hard=True)
    b = GatedNet("dlgn", 3, 4, 3, beta=30.0, dtype=torch.float64).gates(x, hard=True)
    assert all(torch.equal(p, q) for p, q in zip(a, b))


def test_copies_equal_separately_built_models_and_members():
    stack = GatedNet("dlgn", 2, 5, 3, seeds=(3, 7), beta=(2.0, 8.0))
    alone = GatedNet("dlgn", 2, 5, 3, seeds=(7,), beta=8.0)
    x = torch.randn(10, 2)
    # equal up to the rounding of batched products (bitwise equality depends on memory alignment)
    torch.testing.assert_close(stack(x)[1], alone(x)[0], rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(stack.member(1)(x)[0], alone(x)[0], rtol=1e-6, atol=1e-7)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="family"):
        GatedNet("cnn", 2, 4, 2)
    with pytest.raises(ValueError, match="regime"):
        GatedNet("relu", 2, 4, 2, regime="frozen-gating")
    with pytest.raises(ValueError, match="beta"):
        GatedNet("dlgn", 2, 4, 2, seeds=(0, 1), beta=(1.0,))


def test_steps_to_sustained_ignores_short_dips():
    losses = [1, 0.005, 0.2, 0.005, 0.004, 0.003, 0.002, 0.001]
    assert steps_to_sustained(losses, list(range(8)), 0.01) == 3
    assert steps_to_sustained(losses, list(range(8)), 0.001) == math.inf


def test_steps_to_sustained_needs_strictly_below():
    assert steps_to_sustained([0.01] * 5, [0, 1, 2, 3, 4], 0.01) == math.inf
    assert steps_to_sustained([0.02, 0.0099, 0.0099, 0.0099], [0, 10, 20, 30], 0.01, patience=3) == 10
    assert steps_to_sustained([0.005] * 4, [0, 1, 2, 3], 0.01, patience=5) == math.inf  # too few records
