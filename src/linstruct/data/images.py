"""Image data sets read from local files: Fashion-MNIST, MNIST (IDX files) and CIFAR-10 (python batches).

Files are looked for in ``candidate_dirs(name)``; they are fetched from the
network only when a loader is called with ``download=True``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

import linstruct.data.files as files
from linstruct.data.base import Dataset, DatasetUnavailable

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
TITLES = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}


def cache_dir(name: str) -> Path:
    """The user cache folder of data set ``name``: ~/.cache/linstruct/<name>."""
    return Path.home() / ".cache" / "linstruct" / name


def candidate_dirs(name: str) -> list[Path]:
    """Folders searched, in order, for the files of data set ``name``.

    $LINSTRUCT_DATA/<name>/ and $LINSTRUCT_DATA/ (when the variable is set), the
    Debian package's folder (Fashion-MNIST only), then ``cache_dir(name)``.
    """
    dirs = []
    root = os.environ.get("LINSTRUCT_DATA")
    if root:
        dirs += [Path(root) / name, Path(root)]
    if name == "fashion-mnist":
        dirs.append(DEBIAN_FASHION_MNIST)
    dirs.append(cache_dir(name))
    return dirs


def fashion_mnist(*, flatten: bool = True, download: bool = False) -> Dataset:
    """Fashion-MNIST: 60000 train / 10000 test 28x28 grey images, 10 classes.

    x float32 in [0, 1]: (N, 784) if ``flatten`` else (N, 1, 28, 28); y (N,) int64.
    ``download=True`` fetches missing files into the user cache.
    """
    return _idx_dataset("fashion-mnist", FASHION_MNIST_URL, flatten=flatten, download=download)


def mnist(*, flatten: bool = True, download: bool = False) -> Dataset:
    """MNIST: 60000 train / 10000 test 28x28 grey digits, 10 classes.

    x float32 in [0, 1]: (N, 784) if ``flatten`` else (N, 1, 28, 28); y (N,) int64.
    ``download=True`` fetches missing files into the user cache.
    """
    return _idx_dataset("mnist", MNIST_URL, flatten=flatten, download=download)


def cifar10(*, flatten: bool = True, download: bool = False) -> Dataset:
    """CIFAR-10: 50000 train / 10000 test 32x32 colour images, 10 classes.

    x float32 in [0, 1]: (N, 3072) if ``flatten`` (channel-major, as stored) else
    (N, 3, 32, 32); y (N,) int64. ``download=True`` fetches and unpacks the
    archive into the user cache.
    """
    dirs = candidate_dirs("cifar10")
    batches = next((b for b in map(files.find_cifar10_batches, dirs) if b is not None), None)
    if batches is None and download:
        cache = cache_dir("cifar10")
        archive = files.download(CIFAR10_URL, cache / "cifar-10-python.tar.gz")
        files.extract_tar(archive, cache)
        archive.unlink()
        batches = files.find_cifar10_batches(cache)
    if batches is None:
        raise _unavailable("cifar10", f"the batches of {files.CIFAR10_FOLDER}/", dirs, CIFAR10_URL)
    x_train, y_train, x_test, y_test = files.read_cifar10(batches)
    return _image_dataset("cifar10", x_train, y_train, x_test, y_test, flatten, str(batches))


def _idx_dataset(name: str, url: str, *, flatten: bool, download: bool) -> Dataset:
    """The MNIST-format data set ``name`` from the first candidate folder holding all four IDX files."""
    dirs = candidate_dirs(name)
    paths = next((p for p in map(_idx_paths, dirs) if p is not None), None)
    if paths is None and download:
        paths = _fetch_idx(name, url)
    if paths is None:
        raise _unavailable(name, f"{', '.join(IDX_NAMES)} (each .gz or uncompressed)", dirs, url)
    x_train, y_train, x_test, y_test = (files.read_idx(p) for p in paths)
    source = str(paths[0].parent)
    return _image_dataset(name, x_train[:, None], y_train, x_test[:, None], y_test, flatten, source)


def _fetch_idx(name: str, url: str) -> list[Path]:
    """Paths of the four gzipped IDX files in ``cache_dir(name)``, downloading those not there yet."""
    paths = [cache_dir(name) / f"{stem}.gz" for stem in IDX_NAMES]
    return [p if p.is_file() else files.download(url + p.name, p) for p in paths]


def _idx_paths(folder: Path) -> list[Path] | None:
    """The four IDX files in ``folder`` (gzipped name preferred), or None if any is missing."""
    paths = []
    for stem in IDX_NAMES:
        path = next((p for p in (folder / f"{stem}.gz", folder / stem) if p.is_file()), None)
        if path is None:
            return None
        paths.append(path)
    return paths


def _image_dataset(
    name: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    flatten: bool,
    source: str,
) -> Dataset:
    """A 10-class Dataset from uint8 images (N, C, H, W), scaled to [0, 1] and flattened if asked."""

    def pixels(images: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(images, dtype=torch.float32).div_(255)
        return x.reshape(len(x), -1) if flatten else x

    return Dataset(
        name=name,
        x_train=pixels(x_train),
        y_train=torch.as_tensor(y_train, dtype=torch.int64),
        x_test=pixels(x_test),
        y_test=torch.as_tensor(y_test, dtype=torch.int64),
        task="classification",
        num_classes=10,
        source=source,
    )


def _unavailable(name: str, looked_for: str, dirs: list[Path], url: str) -> DatasetUnavailable:
    """The error for data set ``name`` missing from all of ``dirs``, with the ways to get it."""
    title = TITLES[name]
    ways = [f"put the files in $LINSTRUCT_DATA/{name}/ (set the LINSTRUCT_DATA environment variable)"]
    if name == "fashion-mnist":
        ways.append(
            f"install the Debian package (`apt-get install dataset-fashion-mnist`, files in {DEBIAN_FASHION_MNIST})"
        )
    ways.append(f"call with download=True on a machine with network access (fetches {url} into {cache_dir(name)})")
    return DatasetUnavailable(
        f"{title} files not found: looked for {looked_for} in {', '.join(map(str, dirs))}",
        f"To get {title}: {'; or '.join(ways)}.",
    )
