"""Chapter 1's spec: parameters and profiles (light to import: no torch, no matplotlib)."""
from __future__ import annotations

from linstruct.core.parameters import ChapterSpec, Param

BETA_GRIDS = ("4,30", "1,4,10,30", "1,2,4,10,20,30")

SPEC = ChapterSpec(
    name="half-space",
    title="Half-space features",
    notebook="notebooks/01_half_space_features.ipynb",
    aliases=("dlgn",),
    params=(
        Param("a", float, "half-cycles of the target on the smooth upper half of the circle", low=0.5, high=20),
        Param("b", float, "half-cycles of the target on the fast lower half of the circle", low=0.5, high=40),
        Param("n_points", int, "circle points (sorted by angle)", low=40, high=5000),
        Param("width", int, "hidden units per layer (m)", low=2, high=512),
        Param("depth", int, "layers (L)", low=1, high=8),
        Param("beta", float, "gate sharpness: gates are sigmoid(beta * eta)", low=0.5, high=100),
        Param("value_input", str, "value-net input: pwc (ones) or pwl (x)", choices=("pwc", "pwl")),
        Param("bias", bool, "biases in every layer"),
        Param("gate_init_scale", float, "multiplier of the initial gating weights", low=0.05, high=20),
        Param("epochs", int, "training epochs on the circle", low=1, high=2000),
        Param("lr", float, "Adam learning rate on the circle", low=1e-5, high=1.0),
        Param("batch_size", int, "minibatch size on the circle", low=1, high=5000),
        Param("n_seeds", int, "seeds trained at once: seed, seed + 1, ...", low=1, high=10),
        Param("sweep_betas", str, "betas of the frozen-versus-learned sweep", choices=BETA_GRIDS),
        Param("fmnist_n_train", int, "Fashion-MNIST training images (class-stratified subset)", low=100, high=60000),
        Param("fmnist_width", int, "hidden units per layer on Fashion-MNIST", low=4, high=1024),
        Param("fmnist_epochs", int, "training epochs on Fashion-MNIST", low=1, high=100),
        Param("fmnist_seeds", int, "seeds on Fashion-MNIST", low=1, high=10),
        Param("fmnist_lr", float, "Adam learning rate on Fashion-MNIST", low=1e-5, high=1.0),
    ),
    profiles={
        "smoke": dict(a=1.0, b=9.0, n_points=100, width=8, depth=3, beta=4.0, value_input="pwc", bias=True,
                      gate_init_scale=1.0, epochs=6, lr=3e-3, batch_size=32, n_seeds=2, sweep_betas="4,30",
                      fmnist_n_train=200, fmnist_width=16, fmnist_epochs=1, fmnist_seeds=1, fmnist_lr=1e-3),
        "book": dict(a=1.0, b=9.0, n_points=500, width=32, depth=5, beta=4.0, value_input="pwc", bias=True,
                     gate_init_scale=1.0, epochs=150, lr=3e-3, batch_size=32, n_seeds=3, sweep_betas="1,4,10,30",
                     fmnist_n_train=3000, fmnist_width=128, fmnist_epochs=3, fmnist_seeds=2, fmnist_lr=1e-3),
        "full": dict(a=1.0, b=9.0, n_points=500, width=32, depth=5, beta=4.0, value_input="pwc", bias=True,
                     gate_init_scale=1.0, epochs=250, lr=3e-3, batch_size=32, n_seeds=5,
                     sweep_betas="1,2,4,10,20,30", fmnist_n_train=10000, fmnist_width=128, fmnist_epochs=10,
                     fmnist_seeds=3, fmnist_lr=1e-3),
    },
)
