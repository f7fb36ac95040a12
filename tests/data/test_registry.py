"""The Dataset container and the load_dataset registry (name, options, subsetting)."""

from __future__ import annotations

import pytest
import torch

from linstruct.data import DATASETS, Dataset, dataset_options, load_dataset


def _toy(num_classes: int | None = 3, n_train: int = 30, n_test: int = 12) -> Dataset:
    """A dataset whose x rows record their index, with labels i % num_classes (or float targets)."""

    def labels(n: int) -> torch.Tensor:
        if num_classes is None:
            return torch.arange(n, dtype=torch.float32)
        return torch.arange(n) % num_classes

    return Dataset(
        name="toy",
        x_train=torch.arange(n_train, dtype=torch.float32)[:, None].repeat(1, 2),
        y_train=labels(n_train),
        x_test=torch.arange(n_test, dtype=torch.float32)[:, None].repeat(1, 2),
        y_test=labels(n_test),
        task="classification" if num_classes else "regression",
        num_classes=num_classes,
        source="test",
    )


def test_properties_and_summary():
    data = Dataset(
        name="img",
        x_train=torch.zeros(5, 3, 4, 4),
        y_train=torch.zeros(5, dtype=torch.int64),
        x_test=torch.zeros(2, 3, 4, 4),
        y_test=torch.zeros(2, dtype=torch.int64),
        task="classification",
        num_classes=10,
        source="here",
    )
    assert (data.n_train, data.n_test, data.in_features, data.feature_shape) == (5, 2, 48, (3, 4, 4))
    assert data.summary() == "img: 5 train / 2 test, 3x4x4 features, 10 classes; source: here"
    assert _toy(None).summary() == "toy: 30 train / 12 test, 2 features, regression; source: test"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"task": "clustering"}, "task must be one of"),
        ({"num_classes": None}, "num_classes must be an int for classification"),
        ({"y_train": torch.zeros(29, dtype=torch.int64)}, "x_train has shape (30, 2) but y_train has shape (29,)"),
        ({"x_test": torch.zeros(12, 3)}, "train features (2,) differ from test features (3,)"),
    ],
)
def test_inconsistent_dataset_rejected(changes, message):
    fields = {**_toy().__dict__, **changes}
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Dataset(**fields)


def test_subset_is_stratified_sorted_and_deterministic():
    data = _toy(num_classes=3, n_train=300, n_test=90)
    sub = data.subset(n_train=31, n_test=9, seed=5)
    assert (sub.n_train, sub.n_test) == (31, 9)
    assert torch.bincount(sub.y_train, minlength=3).tolist() == [11, 10, 10]
    assert torch.bincount(sub.y_test, minlength=3).tolist() == [3, 3, 3]
    # rows stay paired with their labels and keep their original order
    rows = sub.x_train[:, 0].long()
    assert torch.equal(sub.y_train, rows % 3)
    assert torch.all(rows[1:] > rows[:-1])
    again = data.subset(n_train=31, n_test=9, seed=5)
    assert torch.equal(again.x_train, sub.x_train) and torch.equal(again.x_test, sub.x_test)
    other = data.subset(n_train=31, n_test=9, seed=6)
    assert not torch.equal(other.x_train, sub.x_train)
    assert sub.name == data.name and sub.source == data.source


def test_subset_none_keeps_split_and_regression_subset():
    data = _toy(num_classes=None, n_train=50, n_test=20)
    sub = data.subset(n_train=10, seed=1)
    assert sub.n_test == 20 and torch.equal(sub.x_test, data.x_test)
    rows = sub.x_train[:, 0]
    assert sub.n_train == 10 and torch.equal(sub.y_train, rows)
    assert torch.all(rows[1:] > rows[:-1]) and len(torch.unique(rows)) == 10


def test_subset_too_large_raises():
    data = _toy(num_classes=3, n_train=30, n_test=12)
    with pytest.raises(ValueError, match="asked for 31 train samples, 30 available"):
        data.subset(n_train=31)
    unbalanced = Dataset(**{**data.__dict__, "y_train": torch.tensor([0] * 20 + [1] * 5 + [2] * 5)})
    with pytest.raises(ValueError, match="class 1 has 5 train samples, a stratified subset of 21 needs 7"):
        unbalanced.subset(n_train=21)


def test_registry_names():
    assert DATASETS == ("circle", "spirals", "shells", "mnist1d", "digits", "fashion-mnist", "mnist", "cifar10")
    with pytest.raises(ValueError, match="unknown data set 'cifar100'; choose one of circle, spirals, shells"):
        load_dataset("cifar100")
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        load_dataset("circle", fallback="nope")


def test_registry_options():
    assert dataset_options("circle") == ("n", "a", "b")
    assert dataset_options("shells") == ("d_linear", "d_shell", "margin", "radii")
    data = load_dataset("circle", n=40, a=2, b=3)
    assert data.n_train == 40 and data.source == "generated (n=40, a=2, b=3; test = train)"
    with pytest.raises(
        TypeError, match=r"load_dataset\('circle'\): unknown option\(s\) c, noise; circle accepts n, a, b"
    ):
        load_dataset("circle", c=1, noise=0.1)
    with pytest.raises(TypeError, match="unknown option"):
        load_dataset("shells", n_train_total=10)


def test_registry_seed_and_subset():
    a = load_dataset("spirals", seed=3, n_train=60, n_test=30)
    b = load_dataset("spirals", seed=3, n_train=60, n_test=30)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert torch.bincount(a.y_train).tolist() == [20, 20, 20]
    assert torch.bincount(a.y_test).tolist() == [10, 10, 10]
    assert a.source == "generated (noise=0.2, seed=3)"
    assert load_dataset("spirals").source == "generated (noise=0.2, seed=0)"
    assert not torch.equal(load_dataset("spirals", seed=4).x_train, load_dataset("spirals", seed=3).x_train)


def test_sizes_are_upper_bounds_in_load_dataset():
    data = load_dataset("spirals", n_train=10_000, n_test=30)
    assert (data.n_train, data.n_test) == (600, 30)
    assert "600 train / 30 test" in data.summary()


def test_dataset_to_moves_and_converts_inputs_but_keeps_labels_integer():
    data = load_dataset("spirals")
    moved = data.to("cpu", torch.float64)
    assert moved.x_train.dtype == moved.x_test.dtype == torch.float64
    assert moved.y_train.dtype == torch.int64 and torch.equal(moved.y_train, data.y_train)
    circle = load_dataset("circle", n=50).to(dtype=torch.float64)
    assert circle.y_train.dtype == torch.float64 and data.x_train.dtype == torch.float32
