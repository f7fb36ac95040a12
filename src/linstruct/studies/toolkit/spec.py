"""Chapter 0's spec: parameters and profiles (light to import: no torch, no matplotlib)."""

from __future__ import annotations

from linstruct.core.parameters import ChapterSpec, Param
from linstruct.nn.schedules import SCHEDULES

DATASET_CHOICES = ("mnist1d", "digits", "spirals", "shells", "fashion-mnist")

SPEC = ChapterSpec(
    name="toolkit",
    title="The toolkit in two minutes",
    notebook="notebooks/00_toolkit.ipynb",
    params=(
        Param("dataset", str, "main dataset", choices=DATASET_CHOICES),
        Param(
            "second_dataset",
            str,
            "second dataset (Fashion-MNIST falls back to digits if absent)",
            choices=DATASET_CHOICES,
        ),
        Param("n_train", int, "at most this many training examples per dataset (class-stratified)", low=50, high=60000),
        Param("n_seeds", int, "seeds trained at once: seed, seed + 1, ...", low=1, high=20),
        Param("width", int, "hidden units per layer", low=4, high=1024),
        Param("depth", int, "hidden layers", low=1, high=8),
        Param("epochs", int, "training epochs", low=1, high=1000),
        Param("lr", float, "Adam learning rate", low=1e-6, high=1.0),
        Param("schedule", str, "learning-rate schedule: constant, or cosine decay to 0", choices=SCHEDULES),
        Param("batch_size", int, "minibatch size", low=1, high=60000),
    ),
    profiles={
        "smoke": dict(
            dataset="digits",
            second_dataset="spirals",
            n_train=600,
            n_seeds=2,
            width=32,
            depth=2,
            epochs=4,
            lr=3e-3,
            schedule="cosine",
            batch_size=64,
        ),
        # Both datasets whole (MNIST-1D's 4,000 training examples, digits' 1,258); Adam 1e-2 with a
        # cosine decay over 40 epochs trains the MLP past its references (MNIST-1D 65%, digits 95%).
        "book": dict(
            dataset="mnist1d",
            second_dataset="digits",
            n_train=60000,
            n_seeds=10,
            width=128,
            depth=3,
            epochs=40,
            lr=1e-2,
            schedule="cosine",
            batch_size=100,
        ),
        "full": dict(
            dataset="mnist1d",
            second_dataset="fashion-mnist",
            n_train=60000,
            n_seeds=10,
            width=256,
            depth=4,
            epochs=100,
            lr=1e-3,
            schedule="cosine",
            batch_size=128,
        ),
    },
)
