"""The one training loop: every copy of a stack follows exactly its own separate run."""

import math

import pytest
import torch

from linstruct.data import load_dataset
from linstruct.nn.fit import Snapshots, evaluate, final, fit, per_copy_loss
from linstruct.nn.mlp import MLP

SEEDS = (3, 0, 11)
SETTINGS = [
    ("spirals", dict(epochs=3, lr=1e-2, batch_size=32, optimizer="adam", weight_decay=1e-3)),
    ("circle", dict(epochs=2, lr=5e-2, batch_size=None, optimizer="sgd", momentum=0.9)),
]


def dataset(name):
    return load_dataset(name, n=200) if name == "circle" else load_dataset(name)


@pytest.mark.parametrize("name, kw", SETTINGS)
@pytest.mark.parametrize("order", ["per_seed", "shared"])
def test_each_copy_follows_its_separate_run(name, kw, order):
    data = dataset(name)
    out = data.num_classes or 1
    stack = MLP.from_seeds(SEEDS, data.in_features, 16, 2, out, "tanh")
    history = fit(stack, data, order=order, order_seed=5, progress=False, **kw)
    for index, seed in enumerate(SEEDS):
        alone = MLP.from_seeds((seed,), data.in_features, 16, 2, out, "tanh")
        own = fit(alone, data, order=order, order_seed=5, progress=False, **kw)
        for p, q in zip(alone.parameters(), stack.member(index).parameters()):
            torch.testing.assert_close(p, q, atol=2e-5, rtol=1e-4)
        mine = history[history["copy"] == index].reset_index(drop=True)
        torch.testing.assert_close(
            torch.tensor(mine["train_loss"].values), torch.tensor(own["train_loss"].values), atol=1e-5, rtol=1e-4
        )


def test_data_order_policies():
    """Per seed: copies of one seed and initialisation stay identical, other seeds see other
    minibatches; shared: every copy sees the same minibatches."""
    data = load_dataset("spirals")
    classes = data.num_classes
    common = dict(epochs=2, lr=1e-2, batch_size=16, progress=False, measure=False)
    twins = MLP.stack([MLP.from_seeds((1,), 2, 8, 1, classes)] * 2)
    fit(twins, data, order="per_seed", **common)
    assert all(torch.equal(p[0], p[1]) for p in twins.parameters())
    rows_seen = {}

    def record_batches(order):
        model = MLP.from_seeds((1, 2), 2, 8, 1, classes)
        seen = []
        hook = model.hidden[0].register_forward_hook(lambda m, inp, out: seen.append(inp[0].detach().clone()))
        fit(model, data, epochs=1, lr=1e-3, batch_size=16, order=order, order_seed=0, progress=False, measure=False)
        hook.remove()
        return seen[0]

    rows_seen["per_seed"], rows_seen["shared"] = record_batches("per_seed"), record_batches("shared")
    assert not torch.equal(rows_seen["per_seed"][0], rows_seen["per_seed"][1])
    assert torch.equal(rows_seen["shared"][0], rows_seen["shared"][1])


def test_float64_training_and_history_columns():
    data = load_dataset("circle", n=100)
    data = type(data)(
        **{
            **data.__dict__,
            "x_train": data.x_train.double(),
            "x_test": data.x_test.double(),
            "y_train": data.y_train.double(),
            "y_test": data.y_test.double(),
        }
    )
    model = MLP.from_seeds((0, 1), 2, 8, 2, 1).double()
    history = fit(
        model,
        data,
        epochs=2,
        lr=1e-2,
        batch_size=20,
        progress=False,
        on_epoch=lambda epoch, m: {"norm": torch.stack([w.norm() for w in m.head.weight])},
    )
    assert list(history.columns[:4]) == ["copy", "seed", "epoch", "step"]
    assert {"batch_loss", "train_loss", "test_loss", "norm"} <= set(history.columns)
    assert len(history) == 2 * 3 and history["step"].max() == 2 * 5
    assert math.isnan(history.loc[0, "batch_loss"])
    assert final(history, "train_loss").index.tolist() == [0, 1]


def test_penalty_and_step_callback_act_per_copy():
    data = load_dataset("spirals")
    model = MLP.from_seeds((0, 0), 2, 8, 1, data.num_classes)
    strength = torch.tensor([0.0, 10.0])
    steps = []
    fit(
        model,
        data,
        epochs=2,
        lr=1e-2,
        batch_size=64,
        progress=False,
        measure=False,
        order="shared",
        penalty=lambda m: strength * m.head.weight.pow(2).sum((1, 2)),
        on_step=lambda step, m, losses: steps.append((step, tuple(losses.shape))),
    )
    norms = model.head.weight.pow(2).sum((1, 2))
    assert norms[1] < norms[0]  # only the penalised copy shrinks
    assert steps[0] == (1, (2,)) and len(steps) == 2 * math.ceil(data.n_train / 64)


def test_evaluate_and_loss_shapes():
    model = MLP.from_seeds((0, 1, 2), 4, 8, 1, 3)
    x, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    result = evaluate(model, x, y, "classification", batch_size=3)
    assert result["loss"].shape == (3,) and result["accuracy"].shape == (3,)
    torch.testing.assert_close(result["loss"].float(), per_copy_loss(model(x), y, "classification"))
    with pytest.raises(ValueError, match="task must be"):
        per_copy_loss(model(x), y, "ranking")


def test_bad_arguments_fail_clearly():
    data = load_dataset("spirals")
    model = MLP.from_seeds((0,), 2, 8, 1, data.num_classes)
    with pytest.raises(ValueError, match="order must be one of per_seed, shared"):
        fit(model, data, epochs=1, order="random")
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, data, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="optimizer must be one of adam, sgd"):
        fit(model, data, epochs=1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="schedule must be one of constant, cosine"):
        fit(model, data, epochs=1, schedule="step")


def test_cosine_schedule_decays_every_group_from_its_rate_to_zero():
    data = load_dataset("spirals", n_train=100)
    model = MLP.from_seeds((0,), 2, 8, 1, data.num_classes)
    opt = torch.optim.SGD(
        [{"params": model.hidden.parameters(), "lr": 0.1}, {"params": model.head.parameters()}], lr=0.4
    )
    rates = []
    steps_per_epoch = math.ceil(100 / 30)
    fit(
        model,
        data,
        epochs=2,
        batch_size=30,
        optimizer=opt,
        schedule="cosine",
        progress=False,
        measure=False,
        on_step=lambda step, m, losses: rates.append([g["lr"] for g in opt.param_groups]),
    )
    total = 2 * steps_per_epoch
    assert len(rates) == total
    for done, (hidden, head) in enumerate(rates, start=1):
        factor = 0.5 * (1 + math.cos(math.pi * done / total))
        assert hidden == pytest.approx(0.1 * factor) and head == pytest.approx(0.4 * factor)
    assert rates[-1] == [pytest.approx(0.0, abs=1e-12)] * 2


def test_snapshots_return_the_model_as_it_was():
    data = load_dataset("spirals")
    model = MLP.from_seeds((0, 1), 2, 8, 1, data.num_classes)
    start = [p.detach().clone() for p in model.parameters()]
    snapshots = Snapshots([0, 2])
    fit(model, data, epochs=3, lr=1e-2, batch_size=64, progress=False, measure=False, on_epoch=snapshots)
    assert all(torch.equal(p, q) for p, q in zip(snapshots.at(0).parameters(), start))
    assert not all(torch.equal(p, q) for p, q in zip(snapshots.at(2).parameters(), model.parameters()))
    with pytest.raises(KeyError, match="no snapshot at epoch 1"):
        snapshots.at(1)


def test_rate_factors_of_each_schedule():
    from linstruct.nn.schedules import rate_factor

    assert [rate_factor("constant", d, 4) for d in range(5)] == [1.0] * 5
    assert [rate_factor("cosine", d, 4) for d in range(5)] == pytest.approx(
        [1.0, 0.853553, 0.5, 0.146447, 0.0], abs=1e-6
    )
    assert rate_factor("cosine", 0, 0) == 1.0
    with pytest.raises(ValueError, match="schedule must be one of constant, cosine; got 'linear'"):
        rate_factor("linear", 0, 1)
