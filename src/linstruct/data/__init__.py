"""Data sets of the book: synthetic generators, small packaged sets and file-backed image sets.

``load_dataset(name)`` loads any of ``DATASETS``; every loader returns a ``Dataset``.
"""

from __future__ import annotations

from linstruct.data.base import Dataset, DatasetUnavailable
from linstruct.data.images import cifar10, fashion_mnist, mnist
from linstruct.data.packaged import digits, mnist1d
from linstruct.data.registry import DATASETS, dataset_options, load_dataset
from linstruct.data.synthetic import circle, circle_angles, linear_plus_shells, spirals

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetUnavailable",
    "cifar10",
    "circle",
    "circle_angles",
    "dataset_options",
    "digits",
    "fashion_mnist",
    "linear_plus_shells",
    "load_dataset",
    "mnist",
    "mnist1d",
    "spirals",
]
