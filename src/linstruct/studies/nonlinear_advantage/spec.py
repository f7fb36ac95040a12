"""Chapter 3's spec: parameters and profiles (light to import: no torch, no matplotlib)."""
from __future__ import annotations

from linstruct.core.parameters import ChapterSpec, Param

PENALTIES = ("l1_mean", "l1_sum", "layerfold")  # forms of the sparsity prior R(alpha) (see linearize.py)

SPEC = ChapterSpec(
    name="nonlinear-advantage",
    title="Nonlinear advantage",
    notebook="notebooks/03_nonlinear_advantage.ipynb",
    params=(
        Param("seeds", int, "seeds per condition (paired: same initialisation and data order)", low=1, high=10),
        Param("n_samples", int, "MNIST-1D examples generated (80/20 train/test split)", low=500, high=100000),
        Param("width", int, "channels per conv layer of the MNIST-1D CNN", low=4, high=256),
        Param("depth", int, "conv layers of the MNIST-1D CNN", low=1, high=5),
        Param("pretrain_epochs", int, "T on MNIST-1D: dense epochs before the late switch-on", low=1, high=500),
        Param("sparsify_epochs", int, "S on MNIST-1D: epochs under the prior", low=1, high=500),
        Param("lambda_min", float, "smallest prior strength on MNIST-1D (log grid)", low=1e-3, high=1e4),
        Param("lambda_max", float, "largest prior strength on MNIST-1D (log grid)", low=1e-3, high=1e4),
        Param("lambda_count", int, "prior strengths per dataset (log grid)", low=1, high=20),
        Param("digits_width", int, "units per layer of the digits MLP", low=4, high=1024),
        Param("digits_depth", int, "layers of the digits MLP", low=1, high=8),
        Param("digits_pretrain_epochs", int, "T on digits", low=1, high=1000),
        Param("digits_sparsify_epochs", int, "S on digits", low=1, high=1000),
        Param("digits_lambda_min", float, "smallest prior strength on digits", low=1e-4, high=1e4),
        Param("digits_lambda_max", float, "largest prior strength on digits", low=1e-4, high=1e4),
        Param("mid_runs", bool, "also switch the prior on at round(0.2 T) (the NTK-timing check)"),
        Param("lr", float, "Adam learning rate of the weights", low=1e-5, high=1.0),
        Param("alpha_lr_factor", float, "learning-rate multiplier of the slopes", low=0.1, high=100.0),
        Param("batch_size", int, "minibatch size", low=1, high=4096),
        Param("eps", float, "a unit is linear when alpha >= 1 - eps", low=1e-8, high=0.5),
        Param("penalty", str, "sparsity prior R(alpha)", choices=PENALTIES),
    ),
    profiles={
        "smoke": dict(seeds=2, n_samples=1000, width=8, depth=2, pretrain_epochs=2, sparsify_epochs=2,
                      lambda_min=3.0, lambda_max=30.0, lambda_count=2, digits_width=16, digits_depth=2,
                      digits_pretrain_epochs=2, digits_sparsify_epochs=2, digits_lambda_min=0.3,
                      digits_lambda_max=3.0, mid_runs=True, lr=1e-3, alpha_lr_factor=4.0, batch_size=128,
                      eps=0.01, penalty="l1_mean"),
        "book": dict(seeds=3, n_samples=5000, width=32, depth=3, pretrain_epochs=10, sparsify_epochs=10,
                     lambda_min=2.0, lambda_max=60.0, lambda_count=4, digits_width=64, digits_depth=3,
                     digits_pretrain_epochs=25, digits_sparsify_epochs=25, digits_lambda_min=0.1,
                     digits_lambda_max=3.0, mid_runs=True, lr=3e-3, alpha_lr_factor=2.0, batch_size=128,
                     eps=0.01, penalty="l1_mean"),
        "full": dict(seeds=5, n_samples=5000, width=32, depth=3, pretrain_epochs=80, sparsify_epochs=80,
                     lambda_min=1.0, lambda_max=300.0, lambda_count=11, digits_width=64, digits_depth=3,
                     digits_pretrain_epochs=100, digits_sparsify_epochs=100, digits_lambda_min=0.1,
                     digits_lambda_max=30.0, mid_runs=True, lr=1e-3, alpha_lr_factor=1.0, batch_size=128,
                     eps=0.01, penalty="l1_mean"),
    },
)
