"""Chapter 3's runners: linearizing units early or late in training, and what each run measures.

The schedule [Reconstructed]: per seed, a dense ReLU net trains T epochs; *late* runs
switch the sparsity prior on after those T epochs and sparsify S epochs; *early* runs
sparsify S epochs from the same initialisation; the epoch-matched *early-long* control
sparsifies T + S epochs from scratch (early is its snapshot after S epochs); *mid* runs
switch on after round(0.2 T) epochs. Every run is binarised (alpha >= 1 - eps set to 1)
and compared on the accuracy-versus-rho frontier.

Every tensor of a study lives on the ``device`` given to :func:`run_study`; masks are
stored on the CPU for drawing. The helpers at the end turn a :class:`Study` into the
plain numbers that :mod:`.claims` judges.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

import linstruct.studies.nonlinear_advantage.linearize as lz
from linstruct.core.claims import Baseline
from linstruct.data import Dataset, load_dataset
from linstruct.data.references import baseline
from linstruct.nn.probes import fit_linear_probe
from linstruct.studies.nonlinear_advantage import claims
from linstruct.studies.nonlinear_advantage.claims import mean_se
from linstruct.studies.nonlinear_advantage.path_graphs import chain_apl

CONDITIONS = ("early", "early-long", "mid", "late")  # switch-on times, in the order tables and figures use
GRID = np.round(np.linspace(0.0, 1.0, 201), 4)  # rho values at which frontiers are drawn
MID_SHARE = 0.2  # the mid run switches the prior on after this share of the T dense epochs
ROUNDING = 1e-12  # accuracies are ratios of counts: a threshold met up to float rounding counts as met


def lambda_grid(low: float, high: float, count: int) -> list[float]:
    """``count`` prior strengths spaced evenly in log between ``low`` and ``high`` (3 significant digits)."""
    if high < low:
        raise ValueError(f"lambda_max ({high}) must be at least lambda_min ({low})")
    if count == 1:
        return [float(low)]
    return [float(f"{v:.3g}") for v in np.geomspace(low, high, count)]


@dataclass(frozen=True)
class Task:
    """One dataset with its model, schedule and prior strengths."""

    role: str  # "hard" or "easy": keys of glued values, independent of parameters
    data: Dataset
    build: Callable[[Sequence[int]], lz.LinearizableNet]  # seeds -> the stacked model, one copy per seed
    pretrain: int  # T: dense epochs before the late switch-on
    sparsify: int  # S: epochs under the prior
    lambdas: tuple[float, ...]


def mnist1d_task(
    *, n_samples: int, width: int, depth: int, pretrain: int, sparsify: int, lambdas: Sequence[float]
) -> Task:
    """The hard task: MNIST-1D (``n_samples`` examples, 80/20 split) with a ``depth``-layer 1-D CNN."""
    data = load_dataset("mnist1d", n=n_samples)
    return Task(
        "hard",
        data,
        lambda seeds: lz.cnn1d(seeds, data.in_features, width, depth, data.num_classes),
        pretrain,
        sparsify,
        tuple(lambdas),
    )


def digits_task(*, width: int, depth: int, pretrain: int, sparsify: int, lambdas: Sequence[float]) -> Task:
    """The easy task: sklearn digits (75/25 split) with a ``depth``-layer MLP of ``width`` units."""
    data = load_dataset("digits", test_fraction=0.25)
    return Task(
        "easy",
        data,
        lambda seeds: lz.mlp(seeds, data.in_features, width, depth, data.num_classes),
        pretrain,
        sparsify,
        tuple(lambdas),
    )


@dataclass
class Study:
    """Every run of one task: a row per (condition, lambda, seed) with its masks and histories."""

    task: Task
    runs: pd.DataFrame
    references: pd.DataFrame  # per seed: dense accuracy at S and T, linear-net accuracy
    logistic: float  # logistic-regression test accuracy on the raw input
    masks: dict = field(default_factory=dict)  # (condition, lam, seed) -> list of bool CPU tensors
    histories: dict = field(default_factory=dict)  # (condition, lam, seed) -> DataFrame of rho per epoch

    @property
    def depth(self) -> int:
        return len(next(iter(self.masks.values())))

    @property
    def seeds(self) -> list[int]:
        return sorted(self.references.index)

    @property
    def conditions(self) -> list[str]:
        return [c for c in CONDITIONS if c in set(self.runs.condition)]

    def rows(self, condition: str, seed: int | None = None) -> pd.DataFrame:
        """The runs of ``condition`` (of one ``seed``, or of all)."""
        rows = self.runs[self.runs.condition == condition]
        return rows if seed is None else rows[rows.seed == seed]

    def points(self, condition: str, seed: int) -> list[tuple[float, float]]:
        """(rho, binarised accuracy) of the condition's runs, anchored by the linear and dense nets."""
        rows = self.rows(condition, seed)
        ref = self.references.loc[seed]
        dense = ref.dense_at_s if condition == "early" else ref.dense_at_t
        return [(0.0, ref.linear), *zip(rows.rho, rows.accuracy), (1.0, dense)]

    def frontier(self, condition: str, seed: int, grid=GRID) -> np.ndarray:
        return np.array(lz.frontier(self.points(condition, seed), grid))

    def gaps(self, other: str, rhos: Sequence[float], condition: str = "late") -> dict[float, list[float]]:
        """rho -> per seed (in :attr:`seeds` order), the frontier gap acc(condition) - acc(other) in points."""
        curves = {s: (self.frontier(condition, s, rhos), self.frontier(other, s, rhos)) for s in self.seeds}
        return {float(r): [100 * float(a[i] - b[i]) for a, b in curves.values()] for i, r in enumerate(rhos)}


def run_study(
    task: Task, *, seeds: Sequence[int], recipe: lz.Recipe, mid_runs: bool, device: torch.device | str = "cpu"
) -> Study:
    """Train every condition of ``task`` for every seed in ``seeds`` and measure each run on ``device``.

    Seed s fixes the initialisation (built on the CPU, so it does not depend on the
    device) and the data order, shared by every condition and prior strength. Runs that
    share a schedule train stacked, each copy exactly as its separate run: the dense and
    fully linear references (one copy per seed each), the early-long runs (one copy per
    (seed, lambda)) and the late and mid runs (one copy per (condition, seed, lambda)).
    """
    data = task.data.to(device)
    T, S = task.pretrain, task.sparsify
    mid = max(1, round(MID_SHARE * T)) if mid_runs else None
    seeds = list(seeds)
    init = task.build(seeds).to(device)
    linear = copy.deepcopy(init)
    for a in lz.slopes(linear):
        a.data.fill_(1.0)
    references = lz.LinearizableNet.stack([init, linear])  # copies: dense per seed, then linear per seed
    snaps = lz.train_dense(references, data, T, recipe, snapshot_epochs={min(S, T), T, mid or T})
    k = len(seeds)
    refs = pd.DataFrame(
        {
            "seed": seeds,
            "dense_at_s": lz.accuracy(snaps[min(S, T)], data)[:k],
            "dense_at_t": lz.accuracy(snaps[T], data)[:k],
            "linear": lz.accuracy(references, data)[k:],
        }
    )
    pairs = [(i, lam) for i in range(k) for lam in task.lambdas]  # the copies of one condition
    lams = [lam for _, lam in pairs]

    def stacked(starts: Sequence[lz.LinearizableNet]) -> lz.LinearizableNet:
        return lz.LinearizableNet.stack([start.member(i) for start in starts for i, _ in pairs])

    hist, scratch = lz.sparsify(stacked([init]), data, lams, T + S, recipe, {S, T + S})
    starts = {"late": T} | ({"mid": mid} if mid is not None else {})
    h, out = lz.sparsify(stacked([snaps[t0] for t0 in starts.values()]), data, lams * len(starts), S, recipe, {S})
    stages = [
        (["early"], scratch[S], hist[hist.epoch <= S]),
        (["early-long"], scratch[T + S], hist),
        (list(starts), out[S], h),
    ]  # (conditions, model, history): copy c is condition c // P, pair c % P
    measured, masks, histories = {}, {}, {}
    for conditions, model, history in stages:
        layer_masks = [m.cpu() for m in lz.nonlinear_masks(model, recipe.eps)]
        for c, values in enumerate(measure_runs(model, data, recipe.eps)):
            i, lam = pairs[c % len(pairs)]
            key = (conditions[c // len(pairs)], lam, seeds[i])
            measured[key] = {"condition": key[0], "lam": lam, "seed": seeds[i], **values}
            masks[key] = [m[c] for m in layer_masks]
            histories[key] = history[history["copy"] == c][["epoch", "rho", "soft_share"]].reset_index(drop=True)
    conditions = ["early", "early-long", *starts]
    rows = [measured[c, lam, s] for s in seeds for lam in task.lambdas for c in conditions]
    return Study(task, pd.DataFrame(rows), refs.set_index("seed"), logistic_accuracy(task.data), masks, histories)


def measure_runs(model: lz.LinearizableNet, data: Dataset, eps: float) -> list[dict[str, float]]:
    """Per copy: rho (at ``eps`` and at 1e-6), APL, per-layer shares p1.., and test accuracy before
    and after binarising."""
    shares = lz.layer_shares(model, eps)
    rho, strict = lz.nonlinear_share(model, eps), lz.nonlinear_share(model, 1e-6)
    soft, binary = lz.accuracy(model, data), lz.accuracy(lz.binarise(model, eps), data)
    return [
        {
            "rho": rho[c],
            "rho_strict": strict[c],
            "apl": chain_apl(shares[c]),
            "soft_accuracy": soft[c],
            "accuracy": binary[c],
            **{f"p{l + 1}": p for l, p in enumerate(shares[c])},
        }
        for c in range(model.copies)
    ]


def logistic_accuracy(data: Dataset) -> float:
    """Test accuracy of a logistic regression on the raw (flattened) input.

    Fitted on CPU copies: :func:`linstruct.nn.probes.fit_linear_probe` creates its
    weights on the CPU.
    """
    probe = fit_linear_probe(data.x_train.flatten(1).cpu(), data.y_train.cpu(), data.num_classes)
    return probe.accuracy(data.x_test.flatten(1).cpu().double(), data.y_test.cpu())


def summary_table(study: Study) -> pd.DataFrame:
    """Mean over seeds of rho and binarised accuracy (%) per condition and lambda."""
    table = study.runs.groupby(["condition", "lam"], sort=False)[["rho", "rho_strict", "apl", "accuracy"]].mean()
    table["accuracy"] *= 100
    return table.round(3)


def gap_stats(study: Study, other: str, rhos: Sequence[float], condition: str = "late") -> pd.DataFrame:
    """Per rho, mean and standard error over seeds of the ``condition``-minus-``other`` frontier gap (points)."""
    stats = {rho: mean_se(g) for rho, g in study.gaps(other, rhos, condition).items()}
    return pd.DataFrame.from_dict(stats, orient="index", columns=["mean", "se"]).rename_axis("rho")


def smallest_rho_within(
    study: Study, condition: str, drop_points: float | None = None, span_share: float | None = None
) -> list[float]:
    """Per seed, the smallest rho whose run keeps accuracy >= dense - ``drop_points``
    (or >= linear + ``span_share`` of the dense-minus-linear span); 1.0 if none does."""
    if (drop_points is None) == (span_share is None):
        raise ValueError("give exactly one of drop_points and span_share")
    out = []
    for s in study.seeds:
        ref = study.references.loc[s]
        floor = (
            ref.dense_at_t - drop_points / 100
            if drop_points is not None
            else ref.linear + span_share * (ref.dense_at_t - ref.linear)
        )
        rows = study.rows(condition, s)
        ok = rows[rows.accuracy >= floor - ROUNDING]
        out.append(float(ok.rho.min()) if len(ok) else 1.0)
    return out


def apl_frontier(study: Study, seed: int, condition: str = "late", grid=None) -> tuple[np.ndarray, np.ndarray]:
    """Upper envelope of (APL, accuracy) for one seed, anchored at (0, linear) and (depth, dense)."""
    depth = study.depth
    grid = np.linspace(0, depth, 301) if grid is None else np.asarray(grid)
    rows = study.rows(condition, seed)
    ref = study.references.loc[seed]
    points = [(0.0, ref.linear), *zip(rows.apl, rows.accuracy), (float(depth), ref.dense_at_t)]
    return grid, np.array(lz.frontier(points, grid))


def knee(grid: np.ndarray, accuracy: np.ndarray, floor: float) -> float:
    """The smallest APL in ``grid`` from which ``accuracy`` stays >= ``floor`` all the way up
    (the last grid value if even the last point is below)."""
    below = np.nonzero(np.asarray(accuracy) < floor - ROUNDING)[0]
    if not len(below):
        return float(grid[0])
    return float(grid[min(below[-1] + 1, len(grid) - 1)])


def core_profiles(study: Study, target: float = 0.1, condition: str = "late") -> pd.DataFrame:
    """Per seed, lambda, rho and p_l of the run whose rho is closest to ``target`` (first on ties)."""
    rows = study.rows(condition)
    picks = rows.loc[(rows.rho - target).abs().groupby(rows.seed).idxmin()]
    return picks.set_index("seed")[["lam", "rho"] + [f"p{l + 1}" for l in range(study.depth)]]


# ---- plain values for the claims (keyword arguments of each claims.*_claim) ------------------


def sanity_values(hard: Study, easy: Study) -> dict:
    """Per-seed linear-net accuracies (%) per task, the logistic accuracies (%) and, per seed, the
    largest binarisation shift (points) over both tasks' runs."""
    shifts = pd.concat(
        [(s.runs.accuracy - s.runs.soft_accuracy).abs().groupby(s.runs.seed).max() for s in (hard, easy)], axis=1
    ).max(axis=1)
    return {
        "linear_hard": [100 * float(v) for v in hard.references.linear[hard.seeds]],
        "logistic_hard": 100 * hard.logistic,
        "linear_easy": [100 * float(v) for v in easy.references.linear[easy.seeds]],
        "logistic_easy": 100 * easy.logistic,
        "binarise_shift": [100 * float(shifts[s]) for s in hard.seeds],
    }


def baselines(hard: Study, easy: Study) -> dict[str, Baseline]:
    """Each task's dense net after T epochs (mean test accuracy over seeds, %) against the book's
    reference for its family on its dataset: ``{"hard": ..., "easy": ...}``."""
    found = {}
    for study, family, kind in ((hard, "cnn", "CNN"), (easy, "mlp", "MLP")):
        name = f"dense {kind} (T = {study.task.pretrain} epochs)"
        found[study.task.role] = baseline(
            name, study.task.data.name, family, 100 * float(study.references.dense_at_t.mean())
        )
    return {role: b for role, b in found.items() if b is not None}


def advantage_values(hard: Study) -> dict:
    """Per-seed gaps late minus early and late minus early-long at the advantage's budgets."""
    return {"gaps_early": hard.gaps("early", claims.RHO_STARS), "gaps_long": hard.gaps("early-long", claims.RHO_STARS)}


def unused_capacity_values(hard: Study) -> dict:
    """Per-seed smallest rho of late runs within the claim's drop and share of the span; dense accuracy (%)."""
    return {
        "rho_within": smallest_rho_within(hard, "late", drop_points=claims.DROP_POINTS),
        "rho_95": smallest_rho_within(hard, "late", span_share=claims.SPAN_SHARE),
        "dense": 100 * float(hard.references.dense_at_t.mean()),
    }


def spans(study: Study) -> list[float]:
    """Per seed, dense (T epochs) minus fully linear accuracy, in points."""
    refs = study.references
    return [100 * float(refs.dense_at_t[s] - refs.linear[s]) for s in study.seeds]


def difficulty_values(hard: Study, easy: Study) -> dict:
    """Per-seed digits gaps at its budgets, the MNIST-1D gap at the comparison budget, and the spans."""
    return {
        "easy_gaps": easy.gaps("early", claims.DIGITS_RHO_STARS),
        "easy_long_gaps": easy.gaps("early-long", claims.DIGITS_RHO_STARS),
        "hard_gaps": hard.gaps("early", (claims.DIFFICULTY_RHO,))[claims.DIFFICULTY_RHO],
        "span_hard": spans(hard),
        "span_easy": spans(easy),
    }


def timing_values(hard: Study) -> dict:
    """Per-seed gaps mid minus early (None without mid runs) and late minus early at the timing budget."""
    rho = claims.TIMING_RHO
    mid = hard.gaps("early", (rho,), condition="mid")[rho] if "mid" in hard.conditions else None
    return {"mid_gaps": mid, "late_gaps": hard.gaps("early", (rho,))[rho]}


def collapse_values(hard: Study, condition: str = "late") -> dict:
    """Per seed, the knee of the APL frontier and the share of the span (%) lost at half the knee's APL
    (NaN where dense is no better than linear); the dense net's APL."""
    knees, losses = [], []
    for s in hard.seeds:
        ref = hard.references.loc[s]
        span = ref.dense_at_t - ref.linear
        grid, acc = apl_frontier(hard, s, condition)
        k = knee(grid, acc, ref.linear + claims.KNEE_SPAN_SHARE * span)
        knees.append(k)
        half = float(np.interp(k / 2, grid, acc))
        losses.append(100 * float((ref.dense_at_t - half) / span) if span > 0 else math.nan)
    return {"knees": knees, "losses": losses, "apl_full": float(hard.depth)}


def core_values(hard: Study) -> dict:
    """Per seed, p_l and rho of the late run nearest the core budget."""
    cores = core_profiles(hard, claims.CORE_RHO)
    layers = [f"p{l + 1}" for l in range(hard.depth)]
    return {"layer_shares": cores[layers].to_numpy(dtype=float).tolist(), "rhos": cores.rho.astype(float).tolist()}
