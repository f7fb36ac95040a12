"""Loading any data set of the book by name, with optional subsetting and a fallback."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import replace

from linstruct.data.base import Dataset, DatasetUnavailable
from linstruct.data.images import cifar10, fashion_mnist, mnist
from linstruct.data.packaged import digits, mnist1d
from linstruct.data.synthetic import circle, linear_plus_shells, spirals

_LOADERS: dict[str, Callable[..., Dataset]] = {
    "circle": circle,
    "spirals": spirals,
    "shells": linear_plus_shells,
    "mnist1d": mnist1d,
    "digits": digits,
    "fashion-mnist": fashion_mnist,
    "mnist": mnist,
    "cifar10": cifar10,
}
DATASETS = tuple(_LOADERS)
# Arguments of load_dataset itself; a loader parameter of the same name is not an option.
_RESERVED = ("seed", "download", "n_train", "n_test")


def dataset_options(name: str) -> tuple[str, ...]:
    """The generator options ``load_dataset(name, **options)`` accepts."""
    return tuple(p for p in inspect.signature(_loader(name)).parameters if p not in _RESERVED)


def load_dataset(
    name: str,
    *,
    seed: int | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    fallback: str | None = None,
    download: bool = False,
    **options: object,
) -> Dataset:
    """The data set ``name`` (one of DATASETS), built by its loader with ``options``.

    ``seed`` goes to loaders that take one (None: their default, e.g. 42 for
    mnist1d) and fixes the subset; ``n_train``/``n_test`` are upper bounds: a
    smaller split is kept whole, a larger one gives a stratified subset
    (Dataset.subset), so ``summary()`` tells the sizes used; ``download`` lets file-backed sets fetch missing
    files. If the set is unavailable and ``fallback`` names another set, that one
    is loaded (same seed and sizes, default options) and ``note`` says so;
    otherwise DatasetUnavailable propagates. Raises ValueError for an unknown
    name, TypeError for an unknown option.
    """
    loader = _loader(name)
    if fallback is not None:
        _loader(fallback)
    allowed = dataset_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(
            f"load_dataset({name!r}): unknown option(s) {', '.join(unknown)}; "
            f"{name} accepts {', '.join(allowed) or 'no options'}"
        )
    parameters = inspect.signature(loader).parameters
    arguments = dict(options)
    if seed is not None and "seed" in parameters:
        arguments["seed"] = seed
    if "download" in parameters:
        arguments["download"] = download
    try:
        data = loader(**arguments)
    except DatasetUnavailable as err:
        if fallback is None:
            raise
        data = load_dataset(fallback, seed=seed, n_train=n_train, n_test=n_test, download=download)
        return replace(data, note=f"{err.what}; using {fallback} instead. {err.remedy}")
    n_train = None if n_train is None or n_train >= data.n_train else n_train
    n_test = None if n_test is None or n_test >= data.n_test else n_test
    if n_train is None and n_test is None:
        return data
    return data.subset(n_train, n_test, seed=0 if seed is None else seed)


def _loader(name: str) -> Callable[..., Dataset]:
    """The loader registered under ``name``; ValueError naming the choices if there is none."""
    if name not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    return _LOADERS[name]
