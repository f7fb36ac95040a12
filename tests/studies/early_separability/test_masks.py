"""Masks, routing, exact pruning and counts (early_separability.masks), and probes on known toy data."""

import pytest
import torch

import linstruct.studies.early_separability.masks as mk
from linstruct.data import load_dataset
from linstruct.data.base import Dataset
from linstruct.nn.probes import probe_accuracy
from linstruct.nn.stacked import StackedBatchNorm1d


def mlp(*sizes, seeds=(0,), **options) -> mk.MaskableMLP:
    return mk.MaskableMLP.from_seeds(seeds, *sizes, **options)


def cnn(channels, classes, seeds=(0,), **options) -> mk.MaskableCNN1d:
    return mk.MaskableCNN1d.from_seeds(seeds, channels, classes, length=40, **options)


def random_scores(model: mk.MaskableNet, seed: int = 0) -> mk.MaskableNet:
    generator = torch.Generator().manual_seed(seed)
    for mask in model.masks:
        mask.scores.data = torch.randn(mask.scores.shape, generator=generator)
    return model.eval()


def trained_bn(model: mk.MaskableNet) -> mk.MaskableNet:
    """Give every batch norm non-trivial running statistics and affine parameters ``(S, C)``."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, StackedBatchNorm1d):
            shape = module.running_mean.shape
            module.running_mean.copy_(torch.randn(shape, generator=generator))
            module.running_var.copy_(torch.rand(shape, generator=generator) + 0.5)
            module.weight.data.copy_(torch.randn(shape, generator=generator))
            module.bias.data.copy_(torch.randn(shape, generator=generator))
    return model


def test_straight_through_forward_is_hard_and_backward_is_the_estimators():
    scores = torch.tensor([-2.0, -0.1, 0.3, 1.5], requires_grad=True)
    mask = mk.straight_through(scores, "sigmoid")
    assert mask.tolist() == [0.0, 0.0, 1.0, 1.0]
    weights = torch.tensor([1.0, 2.0, 3.0, 4.0])
    (mask * weights).sum().backward()
    s = torch.sigmoid(scores.detach())
    torch.testing.assert_close(scores.grad, weights * s * (1 - s))
    scores.grad = None
    (mk.straight_through(scores, "identity") * weights).sum().backward()
    torch.testing.assert_close(scores.grad, weights)


def test_unknown_estimator_and_routing_are_named():
    with pytest.raises(ValueError, match="estimator must be one of sigmoid, identity"):
        mk.straight_through(torch.zeros(2), "gumbel")
    with pytest.raises(ValueError, match="routing must be one of detach, keep"):
        mlp(4, 8, 3, 2, routing="skip")
    with pytest.raises(ValueError, match="seeds must name at least one copy"):
        mlp(4, 8, 3, 2, seeds=())


def test_penalty_gradient_reaches_scores_through_the_mask_with_one_strength_per_copy():
    model = mlp(4, 6, 3, 2, seeds=(0, 1), mask_init=0.5)
    penalty = mk.nonlinear_fraction_penalty(model, lam=torch.tensor([2.0, 0.5]))
    assert penalty.shape == (2,)
    penalty.sum().backward()
    s = torch.sigmoid(torch.tensor(0.5))
    # d/ds_c of lam * mean_l mean_c m_lc = lam / (L * C) * sigmoid'(s), per copy
    for mask in model.masks:
        for copy, lam in enumerate((2.0, 0.5)):
            torch.testing.assert_close(mask.scores.grad[copy], torch.full((6,), float(lam / (2 * 6) * s * (1 - s))))


def test_all_kept_masks_give_a_plain_relu_network():
    model = mlp(5, 7, 3, 3, seeds=(0, 4)).eval()
    x = torch.randn(10, 5)
    h = x.expand(2, 10, 5)
    for layer in model.blocks:
        h = torch.relu(layer(h))
    out = model(x)
    for i in range(2):
        torch.testing.assert_close(out[i], h[i] @ model.head.weight[i, :, -7:].T + model.head.bias[i])


def test_keep_routing_applies_identity_to_detached_units():
    model = mlp(3, 4, 2, 2, routing="keep").eval()
    model.fix_masks([torch.tensor([[1.0, 0.0, 1.0, 0.0]])])
    x = torch.randn(6, 3)
    z = model.blocks[0](x.unsqueeze(0))
    h = torch.where(torch.tensor([True, False, True, False]), torch.relu(z), z)
    torch.testing.assert_close(model(x), model.head(torch.relu(model.blocks[1](h))))


@pytest.mark.parametrize(
    "build",
    [
        lambda: mlp(12, 16, 3, 5, seeds=(0, 1)),
        lambda: trained_bn(cnn(8, 4, seeds=(0, 1), strides=(1, 2, 1, 2))),
    ],
)
def test_pruned_logits_equal_masked_logits_for_every_copy(build):
    model = random_scores(build())
    x = torch.randn(64, 12) if isinstance(model, mk.MaskableMLP) else torch.randn(64, 40)
    with torch.no_grad():
        out = model(x)
        for i in range(model.copies):
            assert (mk.prune(model.member(i))(x)[0] - out[i]).abs().max() < 1e-4
    with pytest.raises(ValueError, match="works on one copy: pass model.member"):
        mk.prune(model)


def test_pruning_a_fully_detached_block_stays_exact():
    model = trained_bn(cnn(6, 3, strides=(1, 2, 2))).eval()
    model.fix_masks([torch.ones(1, 6), torch.zeros(1, 6)])
    pruned = mk.prune(model)
    x = torch.randn(8, 40)
    with torch.no_grad():
        assert (pruned(x) - model(x)).abs().max() < 1e-5
    assert mk.count_weights(pruned) == mk.count_weights(model) - mk.predicted_weight_saving(model)


def test_parameter_and_mac_counts_after_pruning_match_the_formula():
    c, k, classes = 8, 5, 10
    model = random_scores(cnn(c, classes, strides=(1, 2, 1, 2), kernel=k), seed=3)
    # dense: first conv 1*c*k, three c*c*k convs, classifier 4c*classes
    assert mk.count_weights(model) == c * k + 3 * c * c * k + 4 * c * classes
    detached = [int((~m).sum()) for m in model.hard_masks()]  # one copy: (1, C) masks
    kept = [c - d for d in detached]
    expected = sum(d * c * k for d in detached) + sum(kp * classes for kp in kept)
    assert mk.predicted_weight_saving(model) == expected
    assert mk.trunk_weight_saving(model) == sum(d * c * k for d in detached)
    x = torch.randn(2, 40)
    pruned = mk.prune(model)
    assert mk.count_weights(model) - mk.count_weights(pruned) == expected
    lengths = [40, 20, 20, 10]  # output positions of blocks 0..3 (strides 1, 2, 1, 2; 'same' padding)
    dense_macs = c * k * lengths[0] + sum(c * c * k * n for n in lengths[1:]) + 4 * c * classes
    assert mk.count_macs(model, x) == dense_macs
    saved = sum(d * c * k * lengths[l + 1] + kp * classes for l, (d, kp) in enumerate(zip(detached, kept)))
    assert mk.predicted_mac_saving(model, x) == saved == mk.count_macs(model, x) - mk.count_macs(pruned, x)


def test_ablating_the_linear_path_zeroes_exactly_the_detached_columns():
    model = random_scores(mlp(4, 5, 3, 2, seeds=(0, 1)))
    ablated = mk.ablate_linear_path(model, [1])
    segments = model.head_segments()
    assert torch.all(ablated.head.weight[:, :, segments[1]] == 0)
    torch.testing.assert_close(ablated.head.weight[:, :, segments[0]], model.head.weight[:, :, segments[0]])
    with pytest.raises(ValueError, match="only the 'detach' routing"):
        mk.ablate_linear_path(mlp(4, 5, 3, 2, routing="keep"))


def test_random_masks_keep_per_block_counts_and_fixed_masks_get_no_gradient():
    masks = [torch.tensor([True, False, False, True, True]), torch.tensor([False] * 4 + [True])]
    random = mk.random_masks_like(masks, seed=0)
    assert [int(m.sum()) for m in random] == [3, 1]
    model = mlp(3, 5, 3, 2, seeds=(0, 1))
    model.fix_masks([torch.stack([m, ~m]) for m in random])
    assert all(not m.scores.requires_grad for m in model.masks)
    assert [m.tolist() for m in model.hard_masks()] == [[m.tolist(), (~m).tolist()] for m in random]
    with pytest.raises(ValueError, match="0/1 of shape"):
        model.masks[0].fix(torch.full((2, 5), 0.5))
    with pytest.raises(ValueError, match=r"0/1 of shape \(2, 5\)"):
        model.masks[0].fix(random[0])


def test_warmup_freezes_masks_then_training_detaches_under_pressure():
    data = load_dataset("shells", n_train=400, n_test=200)
    model = mlp(20, 16, 3, 4)
    recipe = mk.MaskRecipe(epochs=4, lam=1.0, mask_lr=1.0, warmup=0.5, batch_size=100)
    frozen = mk.MaskRecipe(epochs=2, lam=1.0, mask_lr=0.3, warmup=1.0, batch_size=100)
    mk.train_masked(model, data, frozen)
    assert all(torch.all(m.scores == 1.0) for m in model.masks)
    mk.train_masked(model, data, recipe)
    assert float(model.detached_fraction()) > 0.5


def test_weight_share_of_known_rows():
    w = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 2.0]])
    torch.testing.assert_close(mk.weight_share(w, slice(0, 1)), torch.tensor([1.0, 1 / 3, 0.0]))
    stacked = torch.stack([w, w.flip(1)])  # (S, out, in): one share per copy and unit
    torch.testing.assert_close(
        mk.weight_share(stacked, slice(0, 1)), torch.tensor([[1.0, 1 / 3, 0.0], [0.0, 1 / 3, 1.0]])
    )


def _toy(x: torch.Tensor, y: torch.Tensor) -> Dataset:
    half = len(x) // 2
    return Dataset("toy", x[:half], y[:half], x[half:], y[half:], "classification", 2, "test")


def test_probes_reach_known_accuracies_on_separable_and_xor_data():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 2, generator=generator)
    separable = _toy(x, (x[:, 0] + 0.5 * x[:, 1] > 0).long())
    xor = _toy(x, ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long())
    for data, low, high in ((separable, 0.97, 1.0), (xor, 0.4, 0.6)):
        acc = probe_accuracy(data.x_train, data.y_train, data.x_test, data.y_test, 2)
        assert low <= acc <= high, (data.name, acc)
    # the product feature makes XOR linearly separable: a subset probe on it alone is near perfect
    features = torch.cat([x, (x[:, :1] * x[:, 1:])], dim=1)
    d = _toy(features, ((x[:, 0] > 0) ^ (x[:, 1] > 0)).long())
    assert probe_accuracy(d.x_train[:, 2:], d.y_train, d.x_test[:, 2:], d.y_test, 2) > 0.97
