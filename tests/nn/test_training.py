import math

import pytest
import torch

from linstruct.data import Dataset
from linstruct.nn.models import MLP
from linstruct.nn.training import evaluate, loss_for, train


def blobs(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) + 3 * (2 * y[:, None] - 1).float()
    return Dataset("blobs", x[: n // 2], y[: n // 2], x[n // 2 :], y[n // 2 :], "classification", 2, "generated")


def fresh_model(seed=0):
    torch.manual_seed(seed)
    return MLP(2, 8, 1, 2)


def test_history_rows_and_learning():
    history = train(fresh_model(), blobs(), epochs=5, lr=0.05, batch_size=10, seed=0)
    assert list(history["epoch"]) == [0, 1, 2, 3, 4, 5]
    assert list(history["step"]) == [0, 10, 20, 30, 40, 50]  # 100 examples / batch 10
    assert math.isnan(history["batch_loss"].iloc[0])
    assert history["test_accuracy"].iloc[-1] >= 0.95
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]


def test_same_seed_same_trajectory_other_seed_other_order():
    a = train(fresh_model(), blobs(), epochs=3, lr=0.05, batch_size=16, seed=1)
    b = train(fresh_model(), blobs(), epochs=3, lr=0.05, batch_size=16, seed=1)
    c = train(fresh_model(), blobs(), epochs=3, lr=0.05, batch_size=16, seed=2)
    assert a["train_loss"].tolist() == b["train_loss"].tolist()
    assert a["train_loss"].tolist() != c["train_loss"].tolist()


def test_full_batch_equals_one_manual_step():
    data = blobs()
    model, reference = fresh_model(), fresh_model()
    train(model, data, epochs=1, lr=0.1, optimizer="sgd")
    loss = torch.nn.functional.cross_entropy(reference(data.x_train), data.y_train)
    loss.backward()
    with torch.no_grad():
        for p in reference.parameters():
            p -= 0.1 * p.grad
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_callbacks_are_called_and_recorded():
    steps = []
    history = train(fresh_model(), blobs(), epochs=2, lr=0.05, batch_size=50, seed=0,
                    on_step=lambda step, model, loss: steps.append(step),
                    on_epoch=lambda epoch, model: {"weight_norm": float(model.head.weight.norm())},
                    evaluate_every=2)
    assert steps == [1, 2, 3, 4]
    assert list(history["epoch"]) == [0, 2] and "weight_norm" in history


def test_regression_loss_and_evaluate():
    x = torch.linspace(-1, 1, 20)[:, None]
    data = Dataset("line", x, 2 * x[:, 0], x, 2 * x[:, 0], "regression", None, "generated")
    model = torch.nn.Linear(1, 1)
    history = train(model, data, epochs=200, lr=0.05)
    assert "train_accuracy" not in history
    assert history["test_loss"].iloc[-1] < 1e-3
    assert evaluate(model, x, 2 * x[:, 0], loss_for("regression"))["loss"] < 1e-3


def test_bad_arguments():
    with pytest.raises(ValueError, match="optimizer must be one of adam, sgd"):
        train(fresh_model(), blobs(), epochs=1, lr=0.1, optimizer="rmsprop")
    with pytest.raises(ValueError, match="batch_size"):
        train(fresh_model(), blobs(), epochs=1, lr=0.1, batch_size=0)
    with pytest.raises(ValueError, match="task must be"):
        loss_for("ranking")


def test_ready_optimizer_with_parameter_groups_and_penalty():
    model = fresh_model()
    frozen_group_lr = 0.0
    opt = torch.optim.SGD([{"params": model.hidden.parameters(), "lr": frozen_group_lr},
                           {"params": model.head.parameters(), "lr": 0.1}])
    hidden_before = [p.clone() for p in model.hidden.parameters()]
    head_before = [p.clone() for p in model.head.parameters()]
    history = train(model, blobs(), epochs=2, lr=123.0, batch_size=10, optimizer=opt,
                    penalty=lambda m: 3.0 * m.head.bias.pow(2).sum())
    assert all(torch.equal(p, q) for p, q in zip(model.hidden.parameters(), hidden_before))
    assert not all(torch.equal(p, q) for p, q in zip(model.head.parameters(), head_before))
    assert len(history) == 3
    free = fresh_model()
    train(free, blobs(), epochs=2, lr=0.1, batch_size=10, optimizer="sgd")
    assert float(model.head.bias.detach().norm()) < 0.5 * float(free.head.bias.detach().norm())  # the penalty shrinks the bias
