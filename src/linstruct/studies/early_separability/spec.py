"""Chapter 2's spec: parameters and profiles (light to import: no torch, no matplotlib)."""

from __future__ import annotations

from linstruct.core.parameters import ChapterSpec, Param

ESTIMATORS = ("sigmoid", "identity")  # straight-through gradients of the hard mask (see masks.py)

GRIDS = ("0.1", "0.03,0.1", "0.01,0.03,0.1,0.3")  # the allowed values of ``lambdas``

SPEC = ChapterSpec(
    name="early-separability",
    title="Early separability",
    notebook="notebooks/02_early_separability.ipynb",
    params=(
        Param("n_seeds", int, "seeds per run: seed, seed + 1, ...", low=1, high=10),
        Param("lambdas", str, "penalty strengths of the masked runs", choices=GRIDS),
        Param("cnn_channels", int, "channels per block of the MNIST-1D CNN", low=4, high=256),
        Param("cnn_epochs", int, "training epochs of the MNIST-1D CNN", low=1, high=500),
        Param(
            "mlp_width", int, "units per hidden layer of the MLPs (synthetic, digits, Fashion-MNIST)", low=4, high=1024
        ),
        Param("mlp_epochs", int, "training epochs of the MLPs", low=1, high=1000),
        Param(
            "n_train", int, "at most this many training examples per dataset (class-stratified)", low=100, high=60000
        ),
        Param("lr", float, "Adam learning rate of the weights (cosine schedule)", low=1e-5, high=1.0),
        Param("mask_lr", float, "Adam learning rate of the mask scores (own group)", low=1e-5, high=10.0),
        Param("warmup", float, "share of the epochs with the masks frozen", low=0.0, high=0.9),
        Param("mask_init", float, "initial mask score s0 (sigmoid(s0) > 1/2: nonlinear)", low=0.01, high=10.0),
        Param("estimator", str, "straight-through gradient of the hard mask", choices=ESTIMATORS),
        Param("batch_size", int, "minibatch size", low=8, high=4096),
        Param("fashion", bool, "also run the Fashion-MNIST subset (MLP; skipped if its files are absent)"),
    ),
    profiles={
        "smoke": dict(
            n_seeds=3,
            lambdas="0.1",
            cnn_channels=8,
            cnn_epochs=2,
            mlp_width=16,
            mlp_epochs=5,
            n_train=300,
            lr=3e-3,
            mask_lr=0.2,
            warmup=0.0,
            mask_init=0.3,
            estimator="sigmoid",
            batch_size=128,
            fashion=False,
        ),
        "book": dict(
            n_seeds=3,
            lambdas="0.03,0.1",
            cnn_channels=16,
            cnn_epochs=15,
            mlp_width=64,
            mlp_epochs=60,
            n_train=4000,
            lr=3e-3,
            mask_lr=5e-2,
            warmup=0.2,
            mask_init=1.0,
            estimator="sigmoid",
            batch_size=128,
            fashion=False,
        ),
        "full": dict(
            n_seeds=3,
            lambdas="0.01,0.03,0.1,0.3",
            cnn_channels=32,
            cnn_epochs=25,
            mlp_width=64,
            mlp_epochs=60,
            n_train=4000,
            lr=3e-3,
            mask_lr=5e-2,
            warmup=0.2,
            mask_init=1.0,
            estimator="sigmoid",
            batch_size=128,
            fashion=True,
        ),
    },
)
