"""The synthetic generators: shapes, dtypes, determinism, known values and the intended (non)separability."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from linstruct.data import circle, circle_angles, linear_plus_shells, spirals


def test_circle_shapes_and_points():
    data = circle(n=400)
    assert data.x_train.shape == (400, 2) and data.y_train.shape == (400,)
    assert data.x_train.dtype == data.y_train.dtype == torch.float32
    assert data.task == "regression" and data.num_classes is None
    assert torch.allclose(data.x_train.norm(dim=1), torch.ones(400))
    theta = circle_angles(400)
    assert theta.dtype == torch.float32 and theta[0] == 0 and torch.all(theta[1:] > theta[:-1])
    expected = 2 * math.pi * torch.arange(400, dtype=torch.float64) / 400
    assert torch.allclose(theta.double(), expected, rtol=0, atol=1e-6)
    angle_of_x = torch.atan2(data.x_train[:, 1], data.x_train[:, 0]) % (2 * math.pi)
    assert torch.allclose(angle_of_x[1:], theta[1:], atol=1e-5)


def test_circle_test_split_is_a_clone():
    data = circle(n=100)
    assert torch.equal(data.x_test, data.x_train) and torch.equal(data.y_test, data.y_train)
    assert data.x_test.data_ptr() != data.x_train.data_ptr()
    assert data.y_test.data_ptr() != data.y_train.data_ptr()


def test_circle_known_values():
    y = circle(n=400, a=1, b=9).y_train
    # theta = 0, pi/2, pi, 3pi/2 at i = 0, 100, 200, 300
    assert y[0] == 0
    assert y[100] == pytest.approx(1.0, abs=1e-6)  # sin(pi/2)
    assert y[200] == pytest.approx(0.0, abs=1e-6)  # sin(pi)
    assert y[300] == pytest.approx(-1.0, abs=1e-6)  # sin(pi + 9 pi/2) = sin(11 pi/2)
    assert y[350] == pytest.approx(math.sin(math.pi + 9 * 3 * math.pi / 4), abs=1e-6)


@pytest.mark.parametrize(("a", "b"), [(1, 9), (1.5, 4), (2.5, 20)])
def test_circle_is_continuous_at_pi(a, b):
    n = 2000
    y = circle(n=n, a=a, b=b).y_train.double()
    step = 2 * math.pi / n
    assert y[n // 2] == pytest.approx(math.sin(a * math.pi), abs=1e-6)
    assert y[n // 2 - 1] == pytest.approx(math.sin(a * (math.pi - step)), abs=1e-6)
    # a Lipschitz bound everywhere: no jump anywhere, in particular not at pi
    assert torch.max(torch.abs(torch.diff(y))) <= max(a, b) * step + 1e-6


def test_spirals_shapes_balance_and_determinism():
    data = spirals(n=900, classes=3, seed=0)
    assert data.x_train.shape == (600, 2) and data.x_test.shape == (300, 2)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert torch.bincount(data.y_train).tolist() == [200, 200, 200]
    assert torch.bincount(data.y_test).tolist() == [100, 100, 100]
    assert data.num_classes == 3 and data.task == "classification"
    assert torch.all(data.x_train.norm(dim=1) <= 1 + 1e-6)
    assert not torch.all(data.y_train[1:] >= data.y_train[:-1])  # shuffled, not sorted by class
    again = spirals(n=900, classes=3, seed=0)
    assert torch.equal(again.x_train, data.x_train) and torch.equal(again.y_test, data.y_test)
    assert not torch.equal(spirals(seed=1).x_train, data.x_train)


def test_spirals_without_noise_are_the_textbook_curve():
    data = spirals(n=40, classes=4, noise=0.0)
    x = torch.cat([data.x_train, data.x_test]).double()
    y = torch.cat([data.y_train, data.y_test])
    assert torch.bincount(y).tolist() == [10, 10, 10, 10]
    for k in range(4):
        points = x[y == k]
        r = points.norm(dim=1)
        order = torch.argsort(r)
        expected_r = torch.linspace(0, 1, 10, dtype=torch.float64)
        assert torch.allclose(r[order], expected_r, atol=1e-6)
        t = torch.linspace(4.0 * k, 4.0 * (k + 1), 10, dtype=torch.float64)
        expected = torch.stack([expected_r * torch.sin(t), expected_r * torch.cos(t)], dim=1)
        assert torch.allclose(points[order], expected, atol=1e-6)


def test_spirals_rejects_uneven_classes():
    with pytest.raises(ValueError, match="n=100 must be a multiple of classes=3"):
        spirals(n=100, classes=3)


@pytest.fixture(scope="module")
def shells():
    return linear_plus_shells(seed=0)


def test_shells_shapes_and_statistics(shells):
    assert shells.x_train.shape == (4000, 20) and shells.x_test.shape == (2000, 20)
    assert shells.x_train.dtype == torch.float32 and shells.y_train.dtype == torch.int64
    assert shells.num_classes == 4
    counts = torch.bincount(shells.y_train, minlength=4)
    assert torch.all((counts > 900) & (counts < 1100))
    x, y = shells.x_train.double(), shells.y_train
    b1, b2 = y // 2, y % 2
    shift = 3.0 / math.sqrt(10)
    assert torch.allclose(x[b1 == 1, :10].mean(0), torch.full((10,), shift, dtype=torch.float64), atol=0.1)
    assert torch.allclose(x[b1 == 0, :10].mean(0), torch.full((10,), -shift, dtype=torch.float64), atol=0.1)
    radius = x[:, 10:].norm(dim=1)
    assert radius[b2 == 0].mean() == pytest.approx(1.0, abs=0.02)
    assert radius[b2 == 1].mean() == pytest.approx(2.0, abs=0.02)
    assert torch.allclose(x[:, 10:].mean(0), torch.zeros(10, dtype=torch.float64), atol=0.1)
    again = linear_plus_shells(seed=0)
    assert torch.equal(again.x_train, shells.x_train) and torch.equal(again.y_test, shells.y_test)


def _logistic_accuracy(x_train, y_train, x_test, y_test) -> float:
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    return float(model.score(x_test, y_test))


def test_shells_b1_is_linear_b2_is_not(shells):
    x_train, x_test = shells.x_train.numpy(), shells.x_test.numpy()
    y_train, y_test = shells.y_train.numpy(), shells.y_test.numpy()
    assert _logistic_accuracy(x_train, y_train // 2, x_test, y_test // 2) > 0.95
    assert _logistic_accuracy(x_train, y_train % 2, x_test, y_test % 2) < 0.65
    assert 0.4 < _logistic_accuracy(x_train, y_train, x_test, y_test) < 0.65
    # the shell radius (a nonlinear feature) separates b2 by a threshold between the radii
    radius = np.linalg.norm(x_test[:, 10:], axis=1)
    assert np.mean((radius > 1.5) == (y_test % 2 == 1)) > 0.99

    # with the squared radius appended, all four classes become linearly separable
    def lift(x):
        return np.concatenate([x, np.sum(x[:, 10:] ** 2, axis=1, keepdims=True)], axis=1)

    assert _logistic_accuracy(lift(x_train), y_train, lift(x_test), y_test) > 0.95
