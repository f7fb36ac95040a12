"""Masks and pruning in float64 and float32, on tied and badly scaled inputs, and dtype/device following."""

import pytest
import torch

import linstruct.studies.early_separability.masks as mk
from linstruct.nn.stacked import StackedBatchNorm1d


def with_bn_statistics(model: mk.MaskableNet, seed: int = 1) -> mk.MaskableNet:
    """Non-trivial BatchNorm running statistics and affine parameters (in the model's dtype)."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, StackedBatchNorm1d):
            c, dtype = module.running_mean.shape, module.running_mean.dtype
            module.running_mean.copy_(torch.randn(c, generator=generator, dtype=dtype))
            module.running_var.copy_(torch.rand(c, generator=generator, dtype=dtype) + 0.5)
            module.weight.data.copy_(torch.randn(c, generator=generator, dtype=dtype))
            module.bias.data.copy_(torch.randn(c, generator=generator, dtype=dtype))
    return model


def scored(model: mk.MaskableNet, seed: int = 0) -> mk.MaskableNet:
    """Random mask scores, some exactly 0 (a tie at the threshold: detached)."""
    generator = torch.Generator().manual_seed(seed)
    for mask in model.masks:
        scores = torch.randn(mask.scores.shape, generator=generator, dtype=mask.scores.dtype)
        scores[:, ::3] = 0.0
        mask.scores.data = scores
    return model.eval()


def build(kind: str, dtype: torch.dtype) -> tuple[mk.MaskableNet, torch.Tensor]:
    if kind == "mlp":
        model, x = mk.MaskableMLP.from_seeds((0,), 12, 16, 3, 5), torch.randn(64, 12)
    else:
        model, x = mk.MaskableCNN1d.from_seeds((0,), 8, 4, length=40, strides=(1, 2, 1, 2)), torch.randn(64, 40)
    model = model.to(dtype)
    return scored(with_bn_statistics(model)), x.to(dtype)


def relative_gap(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("scale", [1.0, 1e6, 1e-6])
def test_pruned_logits_match_in_float64_at_any_input_scale(kind, scale):
    model, x = build(kind, torch.float64)
    pruned = mk.prune(model)
    assert all(p.dtype == torch.float64 for p in pruned.parameters())
    with torch.no_grad():
        assert relative_gap(pruned(scale * x), model(scale * x)) < 1e-13


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_pruned_logits_match_in_float32(kind):
    model, x = build(kind, torch.float32)
    with torch.no_grad():
        assert relative_gap(mk.prune(model)(x), model(x)) < 1e-5


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_score_of_exactly_zero_detaches_everywhere(dtype):
    model, x = build("mlp", dtype)
    scores = model.masks[0].scores.detach()
    assert bool((scores == 0).any())
    assert torch.equal(model.hard_masks()[0], scores > 0)
    assert torch.equal(model.masks[0]() == 0, scores <= 0)  # the forward mask agrees with the hard mask
    pruned = mk.prune(model)
    assert mk.count_weights(model) - mk.count_weights(pruned) == mk.predicted_weight_saving(model)
    assert mk.count_macs(model, x) - mk.count_macs(pruned, x) == mk.predicted_mac_saving(model, x)


@pytest.mark.parametrize("estimator", ["sigmoid", "identity"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_forward_mask_is_exactly_hard_even_for_huge_scores(estimator, dtype):
    scores = torch.tensor([1e20, -1e20, 1e-30, -1e-30, 0.0], dtype=dtype, requires_grad=True)
    mask = mk.straight_through(scores, estimator)
    assert mask.tolist() == [1.0, 0.0, 1.0, 0.0, 0.0] and mask.dtype == dtype
    mask.sum().backward()
    expected = (
        torch.ones_like(scores)
        if estimator == "identity"
        else torch.sigmoid(scores.detach()) * (1 - torch.sigmoid(scores.detach()))
    )
    torch.testing.assert_close(scores.grad, expected)


def test_kept_channels_send_exact_zeros_on_the_linear_path_for_huge_scores():
    model = mk.MaskableMLP.from_seeds((0,), 4, 6, 3, 2, estimator="identity").double().eval()
    for mask in model.masks:
        mask.scores.data = torch.tensor([[1e20, -1e20] * 3], dtype=torch.float64)
    x = torch.randn(5, 4, dtype=torch.float64)
    _, parts = model.features(x)
    assert torch.all(parts[0][..., 0::2] == 0) and torch.all(parts[0][..., 1::2] != 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale", [1e-30, 1e-8, 1.0, 1e8, 1e30])
def test_weight_share_ignores_the_scale_of_the_weights(dtype, scale):
    w = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]], dtype=dtype)
    share = mk.weight_share(scale * w, slice(0, 1))
    assert share.dtype == dtype
    torch.testing.assert_close(share, torch.tensor([1.0, 1 / 3, 0.0, 0.0], dtype=dtype))


def test_fixed_and_random_masks_follow_the_model():
    model = mk.MaskableMLP.from_seeds((0,), 3, 5, 3, 2).double()
    masks = mk.random_masks_like([torch.tensor([True, False, True, False, True])] * 2, seed=0)
    assert all(m.dtype == torch.bool and m.device == torch.device("cpu") for m in masks)
    model.fix_masks([m.unsqueeze(0) for m in masks])  # bool masks are accepted as they are
    assert all(m.fixed.dtype == torch.float64 for m in model.masks)
    assert [m[0].tolist() for m in model.hard_masks()] == [m.tolist() for m in masks]
