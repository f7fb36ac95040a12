"""The container every loader returns, and the error raised when a data set cannot be had."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

TASKS = ("classification", "regression")


class DatasetUnavailable(RuntimeError):
    """A data set's files could be neither found nor fetched.

    ``what`` says what was missing and where it was looked for, ``remedy`` how to
    get it; the message is both, on one line.
    """

    def __init__(self, what: str, remedy: str = "") -> None:
        super().__init__(f"{what}. {remedy}" if remedy else what)
        self.what = what
        self.remedy = remedy


@dataclass
class Dataset:
    """A train/test split with its provenance.

    ``x_train``: (n_train, *feature_shape) float32; ``y_train``: (n_train,) int64
    class labels 0..num_classes-1 for classification, float32 targets for
    regression; likewise ``x_test``, ``y_test``. ``source`` says where the data
    came from; ``note`` carries anything a reader must know (e.g. a fallback).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    task: str
    num_classes: int | None
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"{self.name}: task must be one of {TASKS}, got {self.task!r}")
        if (self.task == "classification") != (self.num_classes is not None):
            raise ValueError(f"{self.name}: num_classes must be an int for classification and None for regression")
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if y.ndim != 1 or x.shape[0] != y.shape[0]:
                raise ValueError(
                    f"{self.name}: x_{split} has shape {tuple(x.shape)} but y_{split} has shape "
                    f"{tuple(y.shape)}; expected (n, ...) and (n,)"
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(
                f"{self.name}: train features {tuple(self.x_train.shape[1:])} differ from "
                f"test features {tuple(self.x_test.shape[1:])}"
            )

    @property
    def feature_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. (784,) or (3, 32, 32)."""
        return tuple(self.x_train.shape[1:])

    @property
    def in_features(self) -> int:
        """Number of input features: the product of the feature shape."""
        return math.prod(self.feature_shape)

    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_test(self) -> int:
        return self.x_test.shape[0]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> Dataset:
        """A copy with every tensor on ``device``; ``dtype`` converts the inputs (and regression
        targets; class labels stay integers)."""

        def move(t: torch.Tensor, convert: bool) -> torch.Tensor:
            return t.to(device=device, dtype=dtype if convert else None)

        regression = self.num_classes is None
        return replace(
            self,
            x_train=move(self.x_train, True),
            x_test=move(self.x_test, True),
            y_train=move(self.y_train, regression),
            y_test=move(self.y_test, regression),
        )

    def subset(self, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
        """A smaller copy with ``n_train`` training and ``n_test`` test samples (None: all).

        Classification: each class gets an equal share (the first ``n % num_classes``
        classes one more), drawn at random. Regression: the first n of a random
        permutation. Selected samples keep their original order; the choice is
        fixed by ``seed``. Raises ValueError if a split or class is too small.
        """
        generator = torch.Generator().manual_seed(seed)
        train = self._pick("train", self.y_train, n_train, generator)
        test = self._pick("test", self.y_test, n_test, generator)
        return replace(
            self,
            x_train=self.x_train[train],
            y_train=self.y_train[train],
            x_test=self.x_test[test],
            y_test=self.y_test[test],
        )

    def _pick(self, split: str, y: torch.Tensor, n: int | None, generator: torch.Generator) -> torch.Tensor:
        """Sorted indices (n,) into ``y`` chosen as described in ``subset``."""
        if n is None:
            return torch.arange(len(y))
        if not 0 <= n <= len(y):
            raise ValueError(f"{self.name}: asked for {n} {split} samples, {len(y)} available")
        if self.num_classes is None:
            return torch.randperm(len(y), generator=generator)[:n].sort().values
        chosen = []
        for k in range(self.num_classes):
            share = n // self.num_classes + (k < n % self.num_classes)
            members = torch.nonzero(y == k).squeeze(1)
            if len(members) < share:
                raise ValueError(
                    f"{self.name}: class {k} has {len(members)} {split} samples, "
                    f"a stratified subset of {n} needs {share}"
                )
            chosen.append(members[torch.randperm(len(members), generator=generator)[:share]])
        return torch.cat(chosen).sort().values

    def summary(self) -> str:
        """One line: name, split sizes, feature shape, classes, source."""
        shape = "x".join(map(str, self.feature_shape))
        target = "regression" if self.num_classes is None else f"{self.num_classes} classes"
        return (
            f"{self.name}: {self.n_train} train / {self.n_test} test, {shape} features, {target}; source: {self.source}"
        )
