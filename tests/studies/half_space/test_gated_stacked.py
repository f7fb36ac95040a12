"""GatedNet on the stacked engine: each copy of a stack trained by ``fit`` equals its separate
one-copy run, for every family, regime, value input, bias setting, per-copy beta and task."""

import pytest
import torch

from linstruct.data import Dataset, load_dataset
from linstruct.nn.fit import evaluate, fit, per_copy_loss
from linstruct.studies.half_space import experiments as ex
from linstruct.studies.half_space.gated import FAMILIES, GATED_FAMILIES, REGIMES, GatedNet, hard_gates

SEEDS = (3, 7)
CASES = {  # name -> GatedNet keyword arguments
    "relu": dict(family="relu"),
    "dln": dict(family="dln"),
    "dlgn": dict(family="dlgn"),
    "dlgn pwl, no bias": dict(family="dlgn", value_input="pwl", bias=False),
    "dlgn frozen gating": dict(family="dlgn", regime="frozen-gating"),
    "dlgn frozen value": dict(family="dlgn", regime="frozen-value"),
    "dlgn-sf": dict(family="dlgn-sf"),
    "dgn": dict(family="dgn", gate_init_scale=2.0),
    "dgn frozen gating": dict(family="dgn", regime="frozen-gating"),
}
TRAINING = dict(epochs=3, lr=1e-2, batch_size=8, progress=False)


def circle():
    return load_dataset("circle", n=40)


def classes():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(48, 5, generator=g), torch.arange(48) % 3
    return Dataset("tiny", x, y, x[:20].clone(), y[:20].clone(), "classification", 3, "generated")


def gated(seeds, data, dtype=torch.float64, **kw):
    kw = {"width": 6, "depth": 3, "beta": 4.0} | kw
    return GatedNet(in_features=data.in_features, out_features=data.num_classes or 1, seeds=seeds, dtype=dtype, **kw)


def assert_copy_follows_its_run(stack, history, alone, own, index, tol):
    for (name, p), q in zip(stack.member(index).named_parameters(), alone.parameters()):
        torch.testing.assert_close(p, q, atol=tol, rtol=tol, msg=name)
    mine = history[history["copy"] == index].reset_index(drop=True)
    for column in ("step", "batch_loss", "train_loss", "test_loss"):
        torch.testing.assert_close(
            torch.tensor(mine[column].values),
            torch.tensor(own[column].values),
            atol=tol,
            rtol=tol,
            equal_nan=True,
            msg=column,
        )


@pytest.mark.parametrize("order", ["shared", "per_seed"])
@pytest.mark.parametrize("name", list(CASES))
def test_each_copy_follows_its_separate_run(name, order):
    data = circle()
    stack = gated(SEEDS, data, **CASES[name])
    frozen_before = [p.clone() for p in stack.parameters() if not p.requires_grad]
    history = fit(stack, data, order=order, order_seed=5, **TRAINING)
    for index, seed in enumerate(SEEDS):
        alone = gated((seed,), data, **CASES[name])
        own = fit(alone, data, order=order, order_seed=5, **TRAINING)
        assert_copy_follows_its_run(stack, history, alone, own, index, tol=1e-12)
    assert all(torch.equal(p, q) for p, q in zip(frozen_before, [p for p in stack.parameters() if not p.requires_grad]))


def test_each_beta_of_a_sweep_stack_follows_its_separate_run_in_float32():
    """The beta sweep's layout: one seed, one beta per copy, float32 as in the book."""
    data, betas = circle(), (1.0, 30.0)
    stack = gated((0, 0), data, dtype=torch.float32, family="dlgn", beta=betas)
    history = fit(stack, data, order="shared", order_seed=0, **TRAINING)
    for index, beta in enumerate(betas):
        alone = gated((0,), data, dtype=torch.float32, family="dlgn", beta=beta)
        own = fit(alone, data, order="shared", order_seed=0, **TRAINING)
        assert_copy_follows_its_run(stack, history, alone, own, index, tol=1e-5)


@pytest.mark.parametrize("regime", ["both", "frozen-gating"])
def test_each_classifier_copy_follows_its_separate_run(regime):
    data = classes()
    stack = gated(SEEDS, data, family="dlgn", regime=regime)
    history = fit(stack, data, order="shared", order_seed=SEEDS[0], **TRAINING)
    for index, seed in enumerate(SEEDS):
        alone = gated((seed,), data, family="dlgn", regime=regime)
        own = fit(alone, data, order="shared", order_seed=SEEDS[0], **TRAINING)
        assert_copy_follows_its_run(stack, history, alone, own, index, tol=1e-12)
        torch.testing.assert_close(
            torch.tensor(history[history["copy"] == index]["test_accuracy"].values),
            torch.tensor(own["test_accuracy"].values),
            atol=0,
            rtol=0,
        )


@pytest.mark.parametrize("family", FAMILIES)
def test_every_regime_leaves_parameters_to_train(family):
    """``fit`` builds its optimiser over the parameters with requires_grad; no regime leaves none."""
    for regime in REGIMES if family in GATED_FAMILIES else ("both",):
        model = GatedNet(family, 2, 4, 2, regime=regime)
        assert any(p.requires_grad for p in model.parameters())


def test_stack_of_members_is_the_stack():
    model = GatedNet("dlgn", 2, 4, 3, seeds=(1, 2, 5), beta=(1.0, 4.0, 30.0), regime="frozen-gating")
    again = GatedNet.stack([model.member(i) for i in range(3)])
    assert again.seeds == model.seeds and again.input_shape == (2,)
    for (name, p), q in zip(again.named_parameters(), model.parameters()):
        assert torch.equal(p, q) and p.requires_grad == q.requires_grad, name
    assert torch.equal(again.betas, model.betas)


def test_copies_accept_one_batch_each():
    """Equal to rounding: a batched matrix product may sum in another order than one copy's."""
    model = GatedNet("dgn", 2, 4, 3, seeds=(1, 2), dtype=torch.float64)
    x = torch.randn(2, 10, 2, dtype=torch.float64)
    together = model(x)
    for i in range(2):
        torch.testing.assert_close(together[i], model.member(i)(x[i])[0], rtol=1e-12, atol=1e-14)


def test_hard_gates_switch_every_evaluation_to_step_gates_and_back():
    data = circle()
    model = gated(SEEDS, data, family="dlgn", beta=(1.0, 30.0))
    x, y = data.x_train, data.y_train
    with hard_gates(model) as hard:
        assert torch.equal(hard(x), model(x, hard=True))
    assert not model.hard
    soft = evaluate(model, x, y, "regression")["loss"]
    expected = per_copy_loss(model(x, hard=True), y, "regression").double()
    torch.testing.assert_close(ex.hard_gate_mse(model, data), expected)
    assert not torch.equal(ex.hard_gate_mse(model, data), soft)


def test_fit_stack_snapshots_and_shared_order():
    data = circle()
    model = ex.build("frozen", ex.Architecture(width=4, depth=3), 2, 1, SEEDS)
    initial = [p.clone() for p in model.parameters()]
    run = ex.fit_stack(model, data, epochs=3, lr=1e-2, batch_size=8, order_seed=SEEDS[0], snapshots=(0, 3))
    assert sorted(run.snapshots.states) == [0, 3]
    assert all(torch.equal(p, q) for p, q in zip(run.snapshots.at(0).parameters(), initial))
    assert all(torch.equal(p, q) for p, q in zip(run.snapshots.at(3).parameters(), model.parameters()))
    assert list(run.history["train_loss"]) == list(run.history["test_loss"])  # circle: test set = training set
    first = run.history[run.history["epoch"] == 0]["train_loss"].to_numpy()
    assert (run.history[run.history["epoch"] == 3]["train_loss"].to_numpy() < first).all()
    with pytest.raises(KeyError, match="no snapshot at epoch 2"):
        run.snapshots.at(2)
