"""Chapter 2's runners: masked, unmasked and random-mask networks per task and seed, and their measurements.

[Reconstructed] protocol (He et al., ICME 2022; only the abstract could be read; see
:mod:`linstruct.studies.early_separability.masks`). Per task and seed: an unmasked baseline; one masked
run per penalty lambda (``"detach"`` routing; masks frozen for a warm-up, then trained in their own Adam
group); and, for each masked run, a control with *random* fixed masks at the same per-layer fractions,
trained from scratch for the same epochs (the controls and the probes on the first ``control_seeds``
seeds only: they feed claims judged over fewer seeds than the headline). Every masked run is measured
with its linear path ablated, physically pruned, and (MNIST-1D) probed per layer on all, detached and
kept channels.

Data, models and measurements live on the ``device`` the caller passes (the notebook passes
``run.device``); only the probes' float64 fit (``linstruct.nn.probes``) runs on the CPU, on features
moved there. The ``*_claim_inputs`` helpers turn the studies into the plain values that
:mod:`linstruct.studies.early_separability.claims` judges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd
import torch

import linstruct.studies.early_separability.masks as mk
from linstruct.core.claims import Baseline
from linstruct.data import Dataset, load_dataset
from linstruct.data.references import baseline
from linstruct.nn.fit import evaluate
from linstruct.nn.probes import probe_accuracy
from linstruct.studies.early_separability.claims import JUDGED_ROLES

SHARE_TOP = 10  # how many of the detached layer-1 units the classifier uses most enter the weight share
SYNTHETIC_LINEAR_DIMS = 10  # the linear-plus-shells task's linearly separable bit lives in input dims 0..9
RANDOM_MASK_SEED_OFFSET = 1000  # random-mask positions for seed s are drawn with seed s + 1000
MLP_DEPTH = 3  # hidden layers of the MLPs (masks on the first two)


def penalties(lambdas: str) -> list[float]:
    """The ``lambdas`` parameter ("0.03,0.1") as a list of floats."""
    return [float(v) for v in lambdas.split(",")]


@dataclass
class Task:
    """A dataset with the maskable network (``build(seeds)``: one copy per seed) and epochs used on
    it; ``role`` keys the glue."""

    role: str
    data: Dataset
    build: Callable[[Sequence[int]], mk.MaskableNet]
    epochs: int
    probe: bool = False  # per-layer and subset probes (MNIST-1D)
    lr: float | None = None  # the weights' learning rate on this task (None: run_study's lr)
    model: str = ""  # the network in words, e.g. "CNN 32x4" (names its baseline)
    family: str = "mlp"  # the model family of its reference accuracy (linstruct.data.references)


def tasks(
    *,
    n_train: int,
    cnn_channels: int,
    cnn_epochs: int,
    mlp_width: int,
    mlp_epochs: int,
    mask_init: float,
    estimator: str,
    fashion: bool,
    cnn_lr: float | None = None,
    device: torch.device | str = "cpu",
) -> list[Task]:
    """MNIST-1D (CNN, trained at ``cnn_lr``; None: run_study's lr), the linear-plus-shells task and
    digits (3-hidden-layer MLPs), and with ``fashion`` a Fashion-MNIST subset (MLP; left out when its
    files are absent); data on ``device``. ``n_train`` caps every training set: MNIST-1D has 4000
    training examples, the shells task 4000, digits 1347, so 4000 or more keeps each of them whole."""
    options = dict(mask_init=mask_init, estimator=estimator)

    def load(name: str, **extra) -> Dataset:
        return load_dataset(name, n_train=n_train, **extra).to(device)

    def mlp(data: Dataset) -> Callable[[Sequence[int]], mk.MaskableNet]:
        return lambda seeds: mk.MaskableMLP.from_seeds(
            seeds, data.in_features, mlp_width, MLP_DEPTH, data.num_classes, **options
        )

    mlp_model = f"MLP {mlp_width}x{MLP_DEPTH}"
    mnist1d, shells, digits = load("mnist1d"), load("shells"), load("digits")
    out = [
        Task(
            "mnist1d",
            mnist1d,
            lambda seeds: mk.MaskableCNN1d.from_seeds(seeds, cnn_channels, 10, length=mnist1d.in_features, **options),
            cnn_epochs,
            probe=True,
            lr=cnn_lr,
            model=f"CNN {cnn_channels}x4",  # MaskableCNN1d's four blocks (strides 1, 2, 1, 2)
            family="cnn",
        ),
        Task("shells", shells, mlp(shells), mlp_epochs, model=mlp_model),
        Task("digits", digits, mlp(digits), mlp_epochs, model=mlp_model),
    ]
    if fashion:
        data = load("fashion-mnist", n_test=2000, fallback="digits")
        if not data.note:
            out.append(Task("fashion", data, mlp(data), mlp_epochs, model=mlp_model))
    return out


def accuracy_on_test_set(model: mk.MaskableNet | mk.PrunedNet, data: Dataset) -> torch.Tensor:
    """Each copy's test accuracy, ``(S,)`` (model and data on one device)."""
    return evaluate(model, data.x_test, data.y_test, "classification")["accuracy"]


@dataclass
class Study:
    """All runs on one task: ``runs`` has one row per (seed, kind, lam); ``probes`` one row per
    probed (seed, layer, subset); ``models`` the learned masked models by (seed, lam), one copy each."""

    task: Task
    runs: pd.DataFrame
    probes: pd.DataFrame
    models: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.task.data.name

    @property
    def penalties(self) -> list[float]:
        """The penalties of the learned runs, ascending."""
        return sorted(self.runs.loc[self.runs["kind"] == "learned", "lam"].unique())


def _train(task: Task, seeds: Sequence[int], recipe: mk.MaskRecipe, device, fixed=None) -> mk.MaskableNet:
    """One stack, copy i initialised and shuffled by ``seeds[i]``; ``fixed``: constant masks ``(S, C_l)``."""
    model = task.build(seeds)
    if fixed is not None:
        model.fix_masks(fixed)
    mk.train_masked(model, task.data, recipe, device=device)
    return model


def _rows(model: mk.MaskableNet, task: Task, kind: str, lams: Sequence[float]) -> list[dict]:
    """One row per copy: seed, kind, lam, test accuracy and detached fractions."""
    accuracy, f, fractions = (
        accuracy_on_test_set(model, task.data),
        model.detached_fraction(),
        model.detached_fractions(),
    )
    return [
        {"seed": seed, "kind": kind, "lam": lam, "accuracy": float(accuracy[i]), "f": float(f[i])}
        | {f"f_{l}": float(v) for l, v in enumerate(fractions[i])}
        for i, (seed, lam) in enumerate(zip(model.seeds, lams, strict=True))
    ]


def _measure_learned(model: mk.MaskableNet, task: Task) -> list[dict]:
    """Per copy: linear-path ablation (all blocks and each block), pruning and, for the shells task,
    the layer-1 weight share on the linear input dimensions."""
    data = task.data
    columns = {"ablated": accuracy_on_test_set(mk.ablate_linear_path(model), data)}
    columns |= {
        f"ablated_{l}": accuracy_on_test_set(mk.ablate_linear_path(model, [l]), data) for l in range(len(model.masks))
    }
    out = []
    for i in range(model.copies):
        one = model.member(i)
        row = {k: float(v[i]) for k, v in columns.items()}
        pruned = mk.prune(one)
        with torch.no_grad():
            row["max_logit_diff"] = float((pruned(data.x_test) - one(data.x_test)).abs().max())
        row["pruned_accuracy"] = float(accuracy_on_test_set(pruned, data)[0])
        row["weights"], row["weights_pruned"] = mk.count_weights(one), mk.count_weights(pruned)
        row["weights_predicted_saving"] = mk.predicted_weight_saving(one)
        row["trunk_saving"] = mk.trunk_weight_saving(one)
        row["macs"], row["macs_pruned"] = mk.count_macs(one, data.x_test), mk.count_macs(pruned, data.x_test)
        row["macs_predicted_saving"] = mk.predicted_mac_saving(one, data.x_test)
        if task.role == "shells":
            row.update(layer_one_shares(one))
        out.append(row)
    return out


def layer_one_shares(model: mk.MaskableNet) -> dict:
    """Of a one-copy model: share of layer-1 input-weight energy on the linear dims: mean over kept
    units (``share_kept``) and median over the ``SHARE_TOP`` detached units with the largest
    classifier columns (``share_detached_top``); NaN where there are no such units."""
    share = mk.weight_share(model.blocks[0].weight.detach()[0], slice(0, SYNTHETIC_LINEAR_DIMS))
    keep = model.hard_masks()[0][0]
    usage = model.head.weight.detach()[0][:, model.head_segments()[0]].norm(dim=0)
    detached = torch.nonzero(~keep).squeeze(1)
    top = detached[usage[detached].argsort(descending=True)[:SHARE_TOP]]
    return {
        "share_kept": float(share[keep].mean()) if keep.any() else float("nan"),
        "share_detached_top": float(share[top].median()) if len(top) else float("nan"),
    }


def _probe(train_features: torch.Tensor, test_features: torch.Tensor, data: Dataset) -> float:
    """Test accuracy of a linear probe (fitted on the CPU in float64) on the given features."""
    return probe_accuracy(
        train_features.cpu(), data.y_train.cpu(), test_features.cpu(), data.y_test.cpu(), data.num_classes
    )


@torch.no_grad()
def probe_rows(model: mk.MaskableNet, data: Dataset, kind: str) -> list[dict]:
    """Probe test accuracies, one row per (copy, layer, subset), ``seed`` naming the copy: for
    ``kind="baseline"`` all channels of the input (layer 0) and of every block (layer l + 1 for
    block l); otherwise, for every masked block, all, detached and kept channels (a subset with
    no channel is left out)."""
    model.eval()
    states = list(zip(model.hidden_states(data.x_train), model.hidden_states(data.x_test)))  # (S, n, C) pairs
    masks = model.hard_masks()
    rows = []
    for i, seed in enumerate(model.seeds):
        if kind == "baseline":
            layers = [(data.x_train.flatten(1), data.x_test.flatten(1))] + [(a[i], b[i]) for a, b in states]
            for layer, (train_f, test_f) in enumerate(layers):
                rows.append(
                    {
                        "layer": layer,
                        "test_accuracy": _probe(train_f, test_f, data),
                        "seed": seed,
                        "kind": kind,
                        "subset": "all",
                        "channels": train_f.shape[1],
                    }
                )
            continue
        for block, keep in enumerate(m[i] for m in masks):
            train_f, test_f = states[block][0][i], states[block][1][i]
            for subset, index in (
                ("all", torch.arange(len(keep), device=keep.device)),
                ("detached", torch.nonzero(~keep).squeeze(1)),
                ("kept", torch.nonzero(keep).squeeze(1)),
            ):
                if len(index):
                    rows.append(
                        {
                            "layer": block + 1,
                            "seed": seed,
                            "kind": kind,
                            "subset": subset,
                            "test_accuracy": _probe(train_f[:, index], test_f[:, index], data),
                            "channels": len(index),
                        }
                    )
    return rows


def _copies(model: mk.MaskableNet, indices: Sequence[int]) -> mk.MaskableNet:
    """The copies ``indices`` of ``model`` as one stack."""
    return type(model).stack([model.member(i) for i in indices])


def run_study(
    task: Task,
    *,
    seeds: Sequence[int],
    lambdas: Sequence[float],
    lr: float,
    mask_lr: float,
    warmup: float,
    batch_size: int,
    control_seeds: int | None = None,
    device: torch.device | str = "cpu",
) -> Study:
    """Baseline and learned masks per lambda for every seed, random masks at the learned fractions
    for the first ``control_seeds`` seeds (None: all), on ``device`` (the task's data must live
    there), in two stacked trainings: every (seed, lambda) learned run at once (per-copy penalty),
    then every baseline (all channels kept: a constant all-ones mask) and random-mask control at
    once. Each copy follows its separate run. Probes (``task.probe``), on the first
    ``control_seeds`` seeds: the baselines, and the learned runs at the largest lambda."""
    if not lambdas or min(lambdas) <= 0:
        raise ValueError(f"lambdas must be positive penalty strengths; got {list(lambdas)}")
    n_controls = len(seeds) if control_seeds is None else min(control_seeds, len(seeds))
    if n_controls < 1:
        raise ValueError(f"control_seeds must be at least 1; got {control_seeds}")
    weights_lr = lr if task.lr is None else task.lr
    base = mk.MaskRecipe(epochs=task.epochs, lr=weights_lr, mask_lr=mask_lr, warmup=warmup, batch_size=batch_size)
    grid = [(seed, lam) for seed in seeds for lam in lambdas]
    controlled = [i for i, (seed, _) in enumerate(grid) if seed in seeds[:n_controls]]  # learned runs with a control
    learned = _train(task, [s for s, _ in grid], replace(base, lam=tuple(lam for _, lam in grid)), device)
    widths = learned.widths[:-1]
    kept = [[m[i] for m in learned.hard_masks()] for i in range(len(grid))]
    fixed = [[torch.ones(w, dtype=torch.bool, device=kept[0][0].device) for w in widths] for _ in seeds]
    fixed += [mk.random_masks_like(kept[i], seed=RANDOM_MASK_SEED_OFFSET + grid[i][0]) for i in controlled]
    controls = _train(
        task,
        [*seeds, *(grid[i][0] for i in controlled)],
        replace(base, lam=0.0, learn_masks=False),
        device,
        fixed=[torch.stack([f[l] for f in fixed]) for l in range(len(widths))],
    )
    baseline_rows = _rows(_copies(controls, range(len(seeds))), task, "baseline", [0.0] * len(seeds))
    learned_rows = [
        r | m
        for r, m in zip(_rows(learned, task, "learned", [lam for _, lam in grid]), _measure_learned(learned, task))
    ]
    random_rows = dict(
        zip(
            controlled,
            _rows(
                _copies(controls, range(len(seeds), controls.copies)), task, "random", [grid[i][1] for i in controlled]
            ),
        )
    )
    rows = []
    for s in range(len(seeds)):  # per seed: baseline, then per lambda learned and (if any) random
        rows.append(baseline_rows[s])
        for j in range(len(lambdas)):
            i = s * len(lambdas) + j
            rows += [learned_rows[i]] + ([random_rows[i]] if i in random_rows else [])
    models = {key: learned.member(i) for i, key in enumerate(grid)}
    probes = []
    if task.probe:
        probes += probe_rows(_copies(controls, range(n_controls)), task.data, "baseline")
        probes += probe_rows(
            _copies(learned, [i for i in controlled if grid[i][1] == max(lambdas)]), task.data, "learned"
        )
    return Study(task, pd.DataFrame(rows), pd.DataFrame(probes), models)


def baselines(studies: dict[str, Study]) -> dict[str, Baseline]:
    """The unmasked network of each task (mean test accuracy over seeds, %) against the book's reference
    for its family on its dataset, by role. Tasks without a reference are left out: the shells task
    (synthetic, no published accuracy; not a control) and the Fashion-MNIST subset (its reference is
    for a wider MLP on all 60,000 images)."""
    found = {}
    for role, study in studies.items():
        if role == "fashion":
            continue
        runs = study.runs[study.runs["kind"] == "baseline"]
        name = f"unmasked {study.task.model} ({study.task.epochs} epochs)".replace("  ", " ")
        found[role] = baseline(name, study.task.data.name, study.task.family, 100 * float(runs["accuracy"].mean()))
    return {role: b for role, b in found.items() if b is not None}


# ---------------------------------------------------------------- tables


def summary_table(study: Study) -> pd.DataFrame:
    """Mean over seeds per (kind, lam): accuracy (%), detached fractions, ablated accuracy (%)."""
    runs = study.runs.copy()
    for column in ("accuracy", "ablated"):
        if column in runs:
            runs[column] = 100 * runs[column]
    columns = [c for c in runs.columns if c in ("accuracy", "f", "ablated") or c.startswith("f_")]
    return runs.groupby(["kind", "lam"])[columns].mean().round(3).reset_index()


def paired(study: Study, lam: float) -> pd.DataFrame:
    """Per seed at ``lam``: baseline, learned, random and ablated accuracy (%), overall f and the
    largest per-layer fraction ``max_f_l``."""
    runs = study.runs.set_index("seed")
    learned = runs[(runs["kind"] == "learned") & (runs["lam"] == lam)]
    random = runs[(runs["kind"] == "random") & (runs["lam"] == lam)]
    baseline = runs[runs["kind"] == "baseline"]
    return pd.DataFrame(
        {
            "baseline": 100 * baseline["accuracy"],
            "learned": 100 * learned["accuracy"],
            "random": 100 * random["accuracy"],
            "ablated": 100 * learned["ablated"],
            "f": learned["f"],
            "max_f_l": learned.filter(like="f_").max(axis=1),
        }
    )


# ---------------------------------------------------------------- the claims' plain inputs


def paired_values(study: Study) -> dict[float, dict[str, list[float]]]:
    """:func:`paired` for every penalty as plain values: lambda -> column -> per-seed list."""
    return {float(lam): paired(study, lam).to_dict("list") for lam in study.penalties}


def _learned(study: Study, lam: float) -> pd.DataFrame:
    return study.runs[(study.runs["kind"] == "learned") & (study.runs["lam"] == lam)]


def early_claim_inputs(studies: dict[str, Study]) -> dict:
    """The arguments of ``claims.early_claim``: paired values of the judged tasks and, on the
    shells task at the smallest penalty, per-seed layer-1 weight shares and per-layer fractions."""
    shells = studies["shells"]
    low = _learned(shells, shells.penalties[0])
    return {
        "paired": {role: paired_values(studies[role]) for role in JUDGED_ROLES},
        "share_kept": low["share_kept"].tolist(),
        "share_detached_top": low["share_detached_top"].tolist(),
        "f_first": low["f_0"].tolist(),
        "f_second": low["f_1"].tolist(),
    }


def detachment_claim_inputs(studies: dict[str, Study]) -> dict:
    """The arguments of ``claims.detachment_claim``: paired values of the judged tasks."""
    return {"paired": {role: paired_values(studies[role]) for role in JUDGED_ROLES}}


PRUNING_COLUMNS = (
    "max_logit_diff",
    "accuracy",
    "pruned_accuracy",
    "weights",
    "weights_pruned",
    "weights_predicted_saving",
    "macs",
    "macs_pruned",
    "macs_predicted_saving",
    "trunk_saving",
)


def pruning_claim_inputs(studies: dict[str, Study]) -> dict:
    """The arguments of ``claims.pruning_claim``: per learned run of every task, and per seed of
    MNIST-1D at the largest penalty, the columns in :data:`PRUNING_COLUMNS`."""
    learned = pd.concat([s.runs[s.runs["kind"] == "learned"] for s in studies.values()])
    mnist = studies["mnist1d"]
    high = _learned(mnist, mnist.penalties[-1])
    return {
        "runs": {c: learned[c].astype(float).tolist() for c in PRUNING_COLUMNS},
        "mnist1d_high": {c: high[c].astype(float).tolist() for c in PRUNING_COLUMNS},
    }


def probe_claim_inputs(study: Study) -> dict:
    """The arguments of ``claims.probe_claim``: per seed, the baseline's all-channel probe accuracies
    from the second block on (layer >= 2); per seed of the learned runs, per masked block, the
    all-, detached- and kept-channel probe accuracies (NaN for an empty subset)."""
    base = study.probes[(study.probes["kind"] == "baseline") & (study.probes["layer"] >= 2)]
    blocks = [g.sort_values("layer")["test_accuracy"].tolist() for _, g in base.groupby("seed")]
    learned = (
        study.probes[study.probes["kind"] == "learned"]
        .pivot_table(index=["seed", "layer"], columns="subset", values="test_accuracy")
        .reindex(columns=["all", "detached", "kept"])
    )
    per_seed = [g.sort_index() for _, g in learned.groupby(level="seed")]
    return {
        "baseline_blocks": blocks,
        "all_channels": [g["all"].tolist() for g in per_seed],
        "detached": [g["detached"].tolist() for g in per_seed],
        "kept": [g["kept"].tolist() for g in per_seed],
    }
