"""Chapter 3's stacked PReLU networks: copy s starts as the single net under seed s did, and every
copy of a stack trained densely, under the prior (one strength per copy) or fine-tuned follows
exactly its own separate one-copy run."""

import pytest
import torch
from torch import nn

import linstruct.studies.nonlinear_advantage.linearize as lz
from linstruct.data import Dataset

SEEDS = (3, 0, 3)
LAMS = (1.0, 30.0, 30.0)  # copies are (seed, lambda) pairs: seed 3 twice, with two strengths
RECIPE = lz.Recipe(lr=1e-2, batch_size=32, alpha_lr_factor=4.0)
TIGHT = dict(atol=1e-6, rtol=1e-5)


def blobs(d, classes=3, n=160, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % classes
    x = torch.randn(n, d, generator=g) + 3.0 * nn.functional.one_hot(y, d).float()
    return Dataset("blobs", x[: n // 2], y[: n // 2], x[n // 2 :], y[n // 2 :], "classification", classes, "generated")


FAMILIES = {
    "cnn": (lambda seeds: lz.cnn1d(seeds, 24, 4, 2, 3), blobs(24)),
    "mlp": (lambda seeds: lz.mlp(seeds, 6, 8, 2, 3), blobs(6)),
}


def old_single(kind, seed):
    """The torch layers the unstacked net built under ``torch.manual_seed(seed)``, in order."""
    torch.manual_seed(seed)
    if kind == "cnn":
        return [nn.Conv1d(1, 4, 5, stride=2, padding=2), nn.Conv1d(4, 4, 5, stride=2, padding=2), nn.Linear(4 * 6, 3)]
    return [nn.Linear(6, 8), nn.Linear(8, 8), nn.Linear(8, 3)]


@pytest.mark.parametrize("kind", FAMILIES)
def test_copy_s_is_initialised_and_computes_as_the_single_net_under_seed_s(kind):
    build, data = FAMILIES[kind]
    stack = build(SEEDS)
    assert stack.seeds == SEEDS and stack.copies == 3
    x = data.x_test[:5]
    out = stack(x)
    for i, seed in enumerate(SEEDS):
        layers = old_single(kind, seed)
        for mine, torch_layer in zip([*stack.layers, stack.head], layers):
            assert torch.equal(mine.weight[i], torch_layer.weight) and torch.equal(mine.bias[i], torch_layer.bias)
        assert all(float(a[i].detach().abs().max()) == 0.0 for a in lz.slopes(stack))  # a ReLU net
        h = x.unsqueeze(1) if kind == "cnn" else x
        for layer in layers[:-1]:
            h = torch.relu(layer(h))
        torch.testing.assert_close(out[i], layers[-1](h.flatten(1)), **TIGHT)


def assert_same_copy(stack, index, alone):
    for p, q in zip(stack.member(index).parameters(), alone.parameters()):
        torch.testing.assert_close(p, q, **TIGHT)


@pytest.mark.parametrize("kind", FAMILIES)
def test_dense_training_and_fine_tuning_follow_each_separate_run(kind):
    build, data = FAMILIES[kind]
    stack = build(SEEDS)
    with torch.no_grad():
        lz.slopes(stack)[0][1] = 1.0  # copy 1 has a linear first layer (frozen, as the linear reference)
    starts = [stack.member(i) for i in range(3)]
    snaps = lz.train_dense(stack, data, 3, RECIPE, snapshot_epochs={1, 3})
    for i, alone in enumerate(starts):
        own = lz.train_dense(alone, data, 3, RECIPE, snapshot_epochs={1})
        assert_same_copy(snaps[1], i, own[1])
        assert_same_copy(stack, i, alone)
    binary = lz.binarise(stack)
    alone = [binary.member(i) for i in range(3)]
    lz.fine_tune(binary, data, 2, RECIPE)
    for i, one in enumerate(alone):
        assert_same_copy(binary, i, lz.fine_tune(one, data, 2, RECIPE))


@pytest.mark.parametrize("kind", FAMILIES)
@pytest.mark.parametrize("form", ["l1_mean", "layerfold"])
def test_sparsifying_seed_and_lambda_pairs_follows_each_separate_run(kind, form):
    build, data = FAMILIES[kind]
    recipe = lz.Recipe(lr=1e-2, batch_size=32, alpha_lr_factor=4.0, penalty=form)
    stack = build(SEEDS)
    lz.train_dense(stack, data, 1, recipe)
    starts = [stack.member(i) for i in range(3)]
    history, snaps = lz.sparsify(stack, data, LAMS, 4, recipe, snapshot_epochs={2})
    assert history["copy"].tolist() == [c for _ in range(5) for c in range(3)]
    for i, (alone, lam) in enumerate(zip(starts, LAMS)):
        own, own_snaps = lz.sparsify(alone, data, lam, 4, recipe, snapshot_epochs={2})
        assert_same_copy(snaps[2], i, own_snaps[2])
        assert_same_copy(stack, i, alone)
        mine = history[history["copy"] == i]
        assert mine["rho"].tolist() == own["rho"].tolist()
        torch.testing.assert_close(
            torch.tensor(mine["soft_share"].to_numpy()), torch.tensor(own["soft_share"].to_numpy()), **TIGHT
        )
    assert not torch.equal(stack.head.weight[0], stack.head.weight[2])  # seed 3 under two strengths differs


def test_a_stack_needs_a_copy():
    with pytest.raises(ValueError, match="at least one copy"):
        lz.mlp((), 6, 8, 2, 3)
