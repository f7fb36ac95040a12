"""Chapter 2's book-profile masked networks: the MNIST-1D CNN (4 blocks of Conv1d(k=5) -> BN -> mask,
strides 1, 2, 1, 2) and the 3-hidden-layer MLP of the linear-plus-shells task, with channel masks
learned under the nonlinear-fraction penalty. Channels, widths, training-set size and batch size are
the book profile's; a few epochs (the chapter's own two-group optimiser and schedules are left out:
they cost nothing per step)."""

from case import Case

from linstruct.data import load_dataset
from linstruct.studies.early_separability.masks import MaskableCNN1d, MaskableMLP, nonlinear_fraction_penalty
from linstruct.studies.early_separability.spec import SPEC

BOOK = SPEC.profiles["book"]
FIT = dict(
    epochs=3, lr=BOOK["lr"], batch_size=BOOK["batch_size"], penalty=lambda model: nonlinear_fraction_penalty(model, 0.1)
)
CNN_FIT = FIT | dict(lr=BOOK["cnn_lr"])

CASES = {
    f"early-separability masked CNN {BOOK['cnn_channels']}ch": Case(
        model=lambda seeds: MaskableCNN1d.from_seeds(seeds, BOOK["cnn_channels"], 10, length=40),
        data=lambda: load_dataset("mnist1d", n_train=BOOK["n_train"]),
        fit=CNN_FIT,
    ),
    f"early-separability masked MLP 20-{BOOK['mlp_width']}x3-4": Case(
        model=lambda seeds: MaskableMLP.from_seeds(seeds, 20, BOOK["mlp_width"], 3, 4),
        data=lambda: load_dataset("shells", n_train=BOOK["n_train"]),
        fit=FIT,
    ),
}
