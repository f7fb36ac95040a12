"""linstruct: the package behind a book of reproducible studies on the linear structure
hidden inside nonlinear neural networks.

The names a reader's own notebook needs are available here (``from linstruct import
load_dataset, MLP, fit``); each is imported on first use, so ``import linstruct`` stays
light (no torch, no matplotlib until a name that needs them is touched). The layers:

* ``linstruct.core``: chapter parameters and profiles, claims and verdicts, seeding and threads;
* ``linstruct.data``: the datasets (synthetic, packaged, and file-based with an announced fallback);
* ``linstruct.nn``: the stacked engine (S copies of a model as one), the MLP, the training loop ``fit``, probes;
* ``linstruct.book``: the chapter session, figures and glue, explorer widgets;
* ``linstruct.studies``: one subpackage per chapter (its spec, experiments and methods);
* ``linstruct.run``: the ``linstruct`` command (``list``, ``run``, ``sweep``), chapter runs and Dask sweeps.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    # datasets
    "Dataset": "linstruct.data",
    "DatasetUnavailable": "linstruct.data",
    "DATASETS": "linstruct.data",
    "load_dataset": "linstruct.data",
    "circle": "linstruct.data",
    "spirals": "linstruct.data",
    "linear_plus_shells": "linstruct.data",
    "digits": "linstruct.data",
    "mnist1d": "linstruct.data",
    "fashion_mnist": "linstruct.data",
    # the stacked engine: models of S copies, the one training loop
    "Stacked": "linstruct.nn.stacked",
    "MLP": "linstruct.nn.mlp",
    "fit": "linstruct.nn.fit",
    "evaluate": "linstruct.nn.fit",
    "Snapshots": "linstruct.nn.fit",
    # probes
    "fit_linear_probe": "linstruct.nn.probes",
    "probe_accuracy": "linstruct.nn.probes",
    "layer_probe_accuracies": "linstruct.nn.probes",
    # claims and verdicts
    "Claim": "linstruct.core.claims",
    "Check": "linstruct.core.claims",
    "VERDICTS": "linstruct.core.claims",
    # reproducibility
    "seed_everything": "linstruct.core.reproducibility",
    "set_threads": "linstruct.core.reproducibility",
    "select_device": "linstruct.core.reproducibility",
    # the book page
    "start_chapter": "linstruct.book.session",
    "glue_figure": "linstruct.book.plotting",
    "explorer": "linstruct.book.widgets",
    # the chapters
    "CHAPTERS": "linstruct.studies",
    "get_chapter": "linstruct.studies",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Import an exported name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'linstruct' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
