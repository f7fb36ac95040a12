"""Chapter 4's spec: parameters and profiles (light to import: no torch, no matplotlib)."""

from __future__ import annotations

from linstruct.core.parameters import ChapterSpec, Param
from linstruct.nn.schedules import SCHEDULES

WIDTH_GRIDS = ("8,16", "8,32,128", "8,16,32,64,128,256")  # the choices of the `widths` parameter

SPEC = ChapterSpec(
    name="md-lsm",
    title="MD-LSM synchronicity",
    notebook="notebooks/04_mdlsm_synchronicity.ipynb",
    params=(
        Param(
            "dataset", str, "main data set of the synchronicity runs", choices=("mnist1d", "digits", "fashion-mnist")
        ),
        Param(
            "n_train", int, "training samples (class-stratified subset; also the evaluation set)", low=200, high=60000
        ),
        Param("n_seeds", int, "seeds of the tanh and relu tracking runs: seed, seed + 1, ...", low=1, high=10),
        Param("width", int, "hidden units per layer", low=4, high=512),
        Param("depth", int, "hidden layers", low=1, high=6),
        Param("lr", float, "SGD learning rate (tanh, relu and the sigmoid control)", low=1e-4, high=2.0),
        Param("schedule", str, "learning-rate schedule: constant, or cosine decay to 0", choices=SCHEDULES),
        Param("weight_decay", float, "SGD L2 weight decay", low=0.0, high=0.1),
        Param("batch_size", int, "minibatch size", low=1, high=1024),
        Param("epochs", int, "training epochs of the synchronicity runs", low=1, high=500),
        Param("checkpoint_every", int, "SGD steps between checkpoints", low=1, high=10000),
        Param("baseline_every", int, "checkpoints between held-out / shuffled baselines", low=1, high=1000),
        Param("candidates", int, "alternative single steps per interventional checkpoint", low=3, high=500),
        Param("candidate_lr_factor", float, "learning rate of the alternative steps / lr", low=0.5, high=10.0),
        Param(
            "intervene_on", str, "activations that get the interventional test", choices=("relu", "tanh", "tanh,relu")
        ),
        Param("intervene_seeds", int, "seeds (the first ones) that get the interventional test", low=1, high=10),
        Param("widths", str, "hidden widths of the width study", choices=WIDTH_GRIDS),
        Param("width_epochs", int, "training epochs of each width-study network", low=1, high=500),
        Param("small_per_class", int, "samples per class of the small-sample (Cover) baseline", low=3, high=400),
        Param("spiral_epochs", int, "training epochs of the 2-D spirals network", low=1, high=5000),
        Param(
            "image_dataset",
            str,
            "optional image task (exploratory): none or a Fashion-MNIST subset",
            choices=("none", "fashion-mnist"),
        ),
        Param("image_per_class", int, "Fashion-MNIST training samples per class", low=50, high=6000),
    ),
    # book: width 100, SGD 0.1 with a cosine decay and weight decay 3e-3 over 64 epochs brings the tanh and
    # relu MLPs past the MNIST-1D reference (65%; measured 68-69% over 5 seeds), while the sigmoid network
    # at the same rate stays near 33% (the control). Checkpoints every 160 steps (50 per run) keep ten
    # seeds of both activations within the chapter's budget.
    profiles={
        "smoke": dict(
            dataset="mnist1d",
            n_train=600,
            n_seeds=2,
            width=16,
            depth=3,
            lr=0.05,
            schedule="cosine",
            weight_decay=0.0,
            batch_size=32,
            epochs=3,
            checkpoint_every=3,
            baseline_every=10,
            candidates=4,
            candidate_lr_factor=4.0,
            intervene_on="relu",
            intervene_seeds=2,
            widths="8,16",
            width_epochs=2,
            small_per_class=5,
            spiral_epochs=5,
            image_dataset="none",
            image_per_class=50,
        ),
        "book": dict(
            dataset="mnist1d",
            n_train=4000,
            n_seeds=10,
            width=100,
            depth=3,
            lr=0.1,
            schedule="cosine",
            weight_decay=3e-3,
            batch_size=32,
            epochs=64,
            checkpoint_every=160,
            baseline_every=12,
            candidates=20,
            candidate_lr_factor=2.0,
            intervene_on="relu",
            intervene_seeds=5,
            widths="8,32,128",
            width_epochs=32,
            small_per_class=25,
            spiral_epochs=400,
            image_dataset="none",
            image_per_class=500,
        ),
        "full": dict(
            dataset="mnist1d",
            n_train=4000,
            n_seeds=10,
            width=100,
            depth=3,
            lr=0.1,
            schedule="cosine",
            weight_decay=3e-3,
            batch_size=32,
            epochs=64,
            checkpoint_every=80,
            baseline_every=10,
            candidates=60,
            candidate_lr_factor=2.0,
            intervene_on="tanh,relu",
            intervene_seeds=10,
            widths="8,16,32,64,128,256",
            width_epochs=64,
            small_per_class=25,
            spiral_epochs=1500,
            image_dataset="fashion-mnist",
            image_per_class=500,
        ),
    },
)
