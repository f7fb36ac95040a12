"""The real-data loaders: file search, fake files, missing data, fallbacks, digits, MNIST-1D, Fashion-MNIST."""

from __future__ import annotations

import random
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from linstruct.data import DatasetUnavailable, digits, images, load_dataset, mnist1d, packaged
from linstruct.data.files import write_idx

IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@pytest.fixture
def isolated(tmp_path, monkeypatch) -> Path:
    """LINSTRUCT_DATA = tmp_path/data (empty); no Debian folder; home (hence the cache) under tmp_path."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("LINSTRUCT_DATA", str(data))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(images, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    return data


def write_fake_idx(folder: Path, n_train: int = 20, n_test: int = 10, gz: bool = True) -> list[np.ndarray]:
    """Four IDX files of random 28x28 images and labels i % 10 in ``folder``; returns the arrays."""
    rng = np.random.default_rng(1)
    arrays = [
        rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        (np.arange(n_train) % 10).astype(np.uint8),
        rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        (np.arange(n_test) % 10).astype(np.uint8),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in zip(IDX_STEMS, arrays):
        write_idx(folder / (f"{stem}.gz" if gz else stem), array)
    return arrays


def test_candidate_dirs_order(isolated, tmp_path, monkeypatch):
    assert images.candidate_dirs("fashion-mnist") == [
        isolated / "fashion-mnist",
        isolated,
        tmp_path / "no-debian",
        tmp_path / "home" / ".cache" / "linstruct" / "fashion-mnist",
    ]
    assert images.candidate_dirs("mnist") == [isolated / "mnist", isolated, tmp_path / "home/.cache/linstruct/mnist"]
    monkeypatch.delenv("LINSTRUCT_DATA")
    assert images.candidate_dirs("cifar10") == [tmp_path / "home/.cache/linstruct/cifar10"]


def test_fake_fashion_mnist_found_through_env(isolated):
    arrays = write_fake_idx(isolated / "fashion-mnist")
    data = load_dataset("fashion-mnist")
    assert data.name == "fashion-mnist" and data.source == str(isolated / "fashion-mnist") and data.note == ""
    assert data.x_train.shape == (20, 784) and data.x_test.shape == (10, 784)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
    expected = torch.as_tensor(arrays[0].reshape(20, 784), dtype=torch.float32) / 255
    assert torch.allclose(data.x_train, expected)
    assert data.y_test.tolist() == list(range(10))
    square = load_dataset("fashion-mnist", flatten=False)
    assert square.x_train.shape == (20, 1, 28, 28) and torch.equal(square.x_train.reshape(20, -1), data.x_train)


def test_fake_mnist_uncompressed_directly_in_env_folder(isolated):
    arrays = write_fake_idx(isolated, n_train=30, gz=False)
    data = load_dataset("mnist", n_train=10, seed=0)
    assert data.source == str(isolated) and data.n_train == 10 and data.n_test == 10
    assert torch.bincount(data.y_train, minlength=10).tolist() == [1] * 10
    assert torch.equal(load_dataset("mnist").y_train, torch.as_tensor(arrays[1], dtype=torch.int64))


def test_fake_cifar10(isolated, cifar10_batches):
    written = cifar10_batches(isolated / "cifar10", n_per_batch=3)
    data = load_dataset("cifar10")
    assert data.source == str(isolated / "cifar10" / "cifar-10-batches-py")
    assert data.x_train.shape == (15, 3072) and data.x_test.shape == (3, 3072)
    expected = torch.as_tensor(written["test_batch"][0], dtype=torch.float32) / 255
    assert torch.allclose(data.x_test, expected)
    assert data.y_train.dtype == torch.int64 and data.y_test.tolist() == written["test_batch"][1]
    assert load_dataset("cifar10", flatten=False).x_train.shape == (15, 3, 32, 32)


def test_missing_fashion_mnist_says_where_and_how(isolated, tmp_path):
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("fashion-mnist")
    message = str(info.value)
    assert "LINSTRUCT_DATA" in message and "apt-get install dataset-fashion-mnist" in message
    assert "download=True" in message and "train-images-idx3-ubyte" in message
    for folder in (
        isolated / "fashion-mnist",
        tmp_path / "no-debian",
        tmp_path / "home/.cache/linstruct/fashion-mnist",
    ):
        assert str(folder) in message
    assert "\n" not in message


def test_missing_mnist_does_not_suggest_the_fashion_package(isolated):
    with pytest.raises(DatasetUnavailable, match="MNIST files not found") as info:
        load_dataset("mnist")
    assert "apt-get" not in str(info.value) and "LINSTRUCT_DATA" in str(info.value)


def test_fallback_loads_the_other_set_and_says_so(isolated):
    data = load_dataset("fashion-mnist", fallback="digits", n_train=100, seed=0, flatten=False)
    assert data.name == "digits" and data.x_train.shape == (100, 64)
    assert torch.bincount(data.y_train).tolist() == [10] * 10
    assert data.note.startswith("Fashion-MNIST files not found: looked for")
    assert "; using digits instead. To get Fashion-MNIST:" in data.note and "\n" not in data.note
    assert "apt-get install dataset-fashion-mnist" in data.note


def test_download_failure_with_and_without_fallback(isolated, monkeypatch):
    monkeypatch.setattr(images, "MNIST_URL", "http://127.0.0.1:9/")
    with pytest.raises(DatasetUnavailable, match=r"could not download http://127\.0\.0\.1:9/train-images"):
        load_dataset("mnist", download=True)
    data = load_dataset("mnist", download=True, fallback="spirals")
    assert data.name == "spirals" and "could not download" in data.note


def test_download_idx_into_cache(isolated, tmp_path, monkeypatch):
    server = tmp_path / "server"
    arrays = write_fake_idx(server)
    monkeypatch.setattr(images, "FASHION_MNIST_URL", server.as_uri() + "/")
    with pytest.raises(DatasetUnavailable):
        load_dataset("fashion-mnist")  # download defaults to False
    data = load_dataset("fashion-mnist", download=True)
    cache = tmp_path / "home/.cache/linstruct/fashion-mnist"
    assert data.source == str(cache) and sorted(p.name for p in cache.iterdir()) == sorted(f"{s}.gz" for s in IDX_STEMS)
    assert torch.equal(data.y_train, torch.as_tensor(arrays[1], dtype=torch.int64))
    assert load_dataset("fashion-mnist").source == str(cache)  # found in the cache afterwards


def test_download_cifar10_archive_into_cache(isolated, tmp_path, monkeypatch, cifar10_batches):
    written = cifar10_batches(tmp_path / "build", n_per_batch=2)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "build" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    monkeypatch.setattr(images, "CIFAR10_URL", archive.as_uri())
    data = load_dataset("cifar10", download=True)
    cache = tmp_path / "home/.cache/linstruct/cifar10"
    assert data.source == str(cache / "cifar-10-batches-py") and data.n_train == 10
    assert not (cache / "cifar-10-python.tar.gz").exists()
    assert data.y_test.tolist() == written["test_batch"][1]


def test_digits_split():
    data = digits()
    assert data.x_train.shape == (1258, 64) and data.x_test.shape == (539, 64)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert data.x_train.min() == 0 and data.x_train.max() == 1
    test_counts = torch.bincount(data.y_test).tolist()
    all_counts = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert test_counts == [round(0.3 * c) for c in all_counts]
    assert torch.equal(digits(seed=0).x_test, data.x_test)
    assert not torch.equal(digits(seed=1).x_test, data.x_test)


def test_mnist1d_generated_standardised_cached_and_rng_neutral(monkeypatch):
    np.random.seed(123)
    random.seed(123)
    numpy_before, python_before = np.random.random(), random.random()
    np.random.seed(123)
    random.seed(123)
    data = mnist1d(seed=7, n=500)
    assert (np.random.random(), random.random()) == (numpy_before, python_before)
    assert data.x_train.shape == (400, 40) and data.x_test.shape == (100, 40)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert torch.allclose(data.x_train.mean(0), torch.zeros(40), atol=1e-5)
    assert torch.allclose(data.x_train.std(0, unbiased=False), torch.ones(40), atol=1e-4)
    assert torch.bincount(torch.cat([data.y_train, data.y_test])).tolist() == [50] * 10
    assert (7, 500) in packaged._MNIST1D_CACHE

    def no_generation(seed, n):
        raise AssertionError("generated twice")

    monkeypatch.setattr(packaged, "_generate_mnist1d", no_generation)
    again = load_dataset("mnist1d", seed=7, n=500)
    assert torch.equal(again.x_train, data.x_train) and torch.equal(again.y_test, data.y_test)
    assert again.x_train.data_ptr() != data.x_train.data_ptr()


def test_mnist1d_never_uses_the_downloader(monkeypatch):
    import mnist1d.data as mnist1d_data

    def forbidden(*args, **kwargs):
        raise AssertionError("mnist1d.data.get_dataset downloads without a timeout")

    monkeypatch.setattr(mnist1d_data, "get_dataset", forbidden)
    monkeypatch.setattr(packaged, "_MNIST1D_CACHE", {})
    assert mnist1d(seed=1, n=100).n_train == 80


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz").is_file(),
    reason="Debian package dataset-fashion-mnist not installed",
)
def test_debian_fashion_mnist(monkeypatch, tmp_path):
    monkeypatch.delenv("LINSTRUCT_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    data = load_dataset("fashion-mnist")
    assert data.source == "/usr/share/datasets/fashion-mnist"
    assert data.x_train.shape == (60000, 784) and data.x_test.shape == (10000, 784)
    assert torch.bincount(data.y_train).tolist() == [6000] * 10
    assert torch.bincount(data.y_test).tolist() == [1000] * 10
    assert data.x_train.min() == 0 and data.x_train.max() == 1
