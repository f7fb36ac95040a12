"""Synthetic data sets, generated on the fly; each is fixed by its arguments and ``seed``."""

from __future__ import annotations

import math

import numpy as np
import torch

from linstruct.data.base import Dataset
from linstruct.data.split import stratified_split


def circle_angles(n: int = 500) -> torch.Tensor:
    """Angles theta_i = 2 pi i / n, i = 0..n-1, of the ``circle`` data set: (n,) float32."""
    return _angles(n).float()


def _angles(n: int) -> torch.Tensor:
    """The angles of ``circle_angles`` in float64: (n,)."""
    return 2 * math.pi * torch.arange(n, dtype=torch.float64) / n


def circle(n: int = 500, a: float = 1, b: float = 9) -> Dataset:
    """Regression on the unit circle, sorted by angle.

    x_i = (cos theta_i, sin theta_i) with theta_i = 2 pi i / n: (n, 2) float32.
    y_i = sin(a theta_i) for theta_i < pi, else sin(a pi + b (theta_i - pi)):
    (n,) float32, continuous at pi; a slow wave on the upper half, a fast one
    (frequency b) on the lower half. There is no held-out split: the test
    tensors are clones of the training tensors.
    """
    theta = _angles(n)
    y = torch.where(theta < math.pi, torch.sin(a * theta), torch.sin(a * math.pi + b * (theta - math.pi)))
    x = torch.stack([torch.cos(theta), torch.sin(theta)], dim=1).float()
    y = y.float()
    return Dataset(
        name="circle",
        x_train=x,
        y_train=y,
        x_test=x.clone(),
        y_test=y.clone(),
        task="regression",
        num_classes=None,
        source=f"generated (n={n}, a={a}, b={b}; test = train)",
    )


def spirals(n: int = 900, classes: int = 3, noise: float = 0.2, seed: int = 0) -> Dataset:
    """The CS231n spirals: ``classes`` interleaved arms of n / classes points each.

    Class k: r = linspace(0, 1), t = linspace(4k, 4(k+1)) + noise * N(0, 1) per
    point, x = (r sin t, r cos t). Split stratified, 2/3 train and 1/3 test, in
    random order: x (n_split, 2) float32, y (n_split,) int64.
    """
    if n % classes:
        raise ValueError(f"spirals: n={n} must be a multiple of classes={classes}")
    rng = np.random.default_rng(seed)
    per_class = n // classes
    r = np.linspace(0.0, 1.0, per_class)
    xs, ys = [], []
    for k in range(classes):
        t = np.linspace(4.0 * k, 4.0 * (k + 1), per_class) + noise * rng.standard_normal(per_class)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(per_class, k))
    x, y = np.concatenate(xs), np.concatenate(ys)
    train, test = stratified_split(y, 1 / 3, rng)
    return _classification("spirals", x, y, train, test, classes, f"generated (noise={noise}, seed={seed})")


def linear_plus_shells(
    n_train: int = 4000,
    n_test: int = 2000,
    d_linear: int = 10,
    d_shell: int = 10,
    margin: float = 3.0,
    radii: tuple[float, float] = (1.0, 2.0),
    seed: int = 0,
) -> Dataset:
    """Four classes y = 2 b1 + b2 from two independent fair bits; x: (n, d_linear + d_shell) float32.

    The first d_linear dims are N(0, I) shifted by (2 b1 - 1) margin / sqrt(d_linear)
    per dim (class means at distance ``margin`` from the origin): b1 is linearly
    separable. The other d_shell dims are a uniformly random unit direction times
    radii[b2] (1 + 0.1 eps), eps ~ N(0, 1): concentric shells, so b2 needs a
    nonlinearity (e.g. the norm). A linear classifier reaches about 50%, an MLP
    about 99%. Labels (n,) int64.
    """
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    b1 = rng.integers(0, 2, n)
    b2 = rng.integers(0, 2, n)
    linear = rng.standard_normal((n, d_linear)) + (2 * b1[:, None] - 1) * margin / math.sqrt(d_linear)
    direction = rng.standard_normal((n, d_shell))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    radius = np.asarray(radii)[b2] * (1 + 0.1 * rng.standard_normal(n))
    x = np.concatenate([linear, direction * radius[:, None]], axis=1)
    indices = np.arange(n)
    return _classification(
        "shells",
        x,
        2 * b1 + b2,
        indices[:n_train],
        indices[n_train:],
        4,
        f"generated (margin={margin}, radii={tuple(radii)}, seed={seed})",
    )


def _classification(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    num_classes: int,
    source: str,
) -> Dataset:
    """A classification Dataset from arrays x (n, d), y (n,) and the index arrays of each split."""
    x_t = torch.as_tensor(x, dtype=torch.float32)
    y_t = torch.as_tensor(y, dtype=torch.int64)
    return Dataset(
        name=name,
        x_train=x_t[train],
        y_train=y_t[train],
        x_test=x_t[test],
        y_test=y_t[test],
        task="classification",
        num_classes=num_classes,
        source=source,
    )
