"""Chapter 3, "Nonlinear advantage": linearizing units early or late in training.

Protocol A of the study brief [Reconstructed]: per seed, a dense ReLU net trains T
epochs; *late* runs switch the sparsity prior on after those T epochs and sparsify S
epochs; *early* runs sparsify S epochs from the same initialisation; the epoch-matched
*early-long* control sparsifies T + S epochs from scratch (early is its snapshot after
S epochs); *mid* runs switch on after round(0.2 T) epochs. Every run is binarised
(alpha >= 1 - eps set to 1) and compared on the accuracy-versus-rho frontier.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

import linstruct.studies.nonlinear_advantage.linearize as lz
from linstruct.core.claims import Check, Claim
from linstruct.data import Dataset, load_dataset
from linstruct.studies.nonlinear_advantage.spec import SPEC, CONDITIONS, COLORS, RHO_STARS, DIGITS_RHO_STARS
from linstruct.studies.nonlinear_advantage.path_graphs import chain_apl
from linstruct.nn.probes import fit_linear_probe

GRID = np.round(np.linspace(0.0, 1.0, 201), 4)


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
    build: object  # () -> LinearizableNet
    pretrain: int
    sparsify: int
    lambdas: tuple[float, ...]


def tasks(config) -> list[Task]:
    """MNIST-1D with the CNN (hard) and sklearn digits with the MLP (easy)."""
    hard = load_dataset("mnist1d", n=config.n_samples)
    easy = load_dataset("digits", test_fraction=0.25)
    return [
        Task("hard", hard, lambda: lz.cnn1d(hard.in_features, config.width, config.depth, 10),
             config.pretrain_epochs, config.sparsify_epochs,
             tuple(lambda_grid(config.lambda_min, config.lambda_max, config.lambda_count))),
        Task("easy", easy, lambda: lz.mlp(easy.in_features, config.digits_width, config.digits_depth, 10),
             config.digits_pretrain_epochs, config.digits_sparsify_epochs,
             tuple(lambda_grid(config.digits_lambda_min, config.digits_lambda_max, config.lambda_count))),
    ]


@dataclass
class Study:
    """Every run of one task: a row per (condition, lambda, seed) with its masks and histories."""

    task: Task
    runs: pd.DataFrame
    references: pd.DataFrame  # per seed: dense accuracy at S and T, linear-net accuracy
    logistic: float  # logistic-regression test accuracy on the raw input
    masks: dict = field(default_factory=dict)  # (condition, lam, seed) -> list of bool tensors
    histories: dict = field(default_factory=dict)  # (condition, lam, seed) -> DataFrame of rho per epoch

    @property
    def depth(self) -> int:
        return len(next(iter(self.masks.values())))

    def points(self, condition: str, seed: int) -> list[tuple[float, float]]:
        """(rho, binarised accuracy) of the condition's runs, anchored by the linear and dense nets."""
        rows = self.runs[(self.runs.condition == condition) & (self.runs.seed == seed)]
        ref = self.references.loc[seed]
        dense = ref.dense_at_s if condition == "early" else ref.dense_at_t
        return [(0.0, ref.linear), *zip(rows.rho, rows.accuracy), (1.0, dense)]

    def frontier(self, condition: str, seed: int, grid=GRID) -> np.ndarray:
        return np.array(lz.frontier(self.points(condition, seed), grid))

    def gap(self, other: str, rhos, condition: str = "late") -> pd.DataFrame:
        """Per seed, the frontier gap acc(condition) - acc(other) in points at each rho."""
        rows = [{"seed": s, "rho": r, "gap": 100 * (a - b)}
                for s in self.seeds
                for r, a, b in zip(rhos, self.frontier(condition, s, rhos), self.frontier(other, s, rhos))]
        return pd.DataFrame(rows)

    @property
    def seeds(self) -> list[int]:
        return sorted(self.references.index)

    @property
    def conditions(self) -> list[str]:
        return [c for c in CONDITIONS if c in set(self.runs.condition)]


def run_study(task: Task, config) -> Study:
    """Train every condition of ``task`` for every seed (Protocol A) and measure each run."""
    recipe = lz.Recipe(lr=config.lr, batch_size=config.batch_size, alpha_lr_factor=config.alpha_lr_factor,
                       penalty=config.penalty, eps=config.eps)
    T, S = task.pretrain, task.sparsify
    mid = max(1, round(0.2 * T)) if config.mid_runs else None
    rows, refs, masks, histories = [], [], {}, {}
    for seed in range(config.seed, config.seed + config.seeds):
        torch.manual_seed(seed)
        init = task.build()
        dense = copy.deepcopy(init)
        snaps = lz.train_dense(dense, task.data, T, recipe, seed, snapshot_epochs={min(S, T), T, mid or T})
        linear = copy.deepcopy(init)
        for a in lz.slopes(linear):
            a.data.fill_(1.0)
        lz.train_dense(linear, task.data, T, recipe, seed)
        refs.append({"seed": seed, "dense_at_s": lz.accuracy(snaps[min(S, T)], task.data),
                     "dense_at_t": lz.accuracy(snaps[T], task.data), "linear": lz.accuracy(linear, task.data)})
        for lam in task.lambdas:
            hist, scratch = lz.sparsify(copy.deepcopy(init), task.data, lam, T + S, recipe, seed, {S, T + S})
            runs = {"early": (scratch[S], hist[hist.epoch <= S]), "early-long": (scratch[T + S], hist)}
            starts = {"late": T} | ({"mid": mid} if mid is not None else {})
            for condition, t0 in starts.items():
                h, out = lz.sparsify(copy.deepcopy(snaps[t0]), task.data, lam, S, recipe, seed, {S})
                runs[condition] = (out[S], h)
            for condition, (model, h) in runs.items():
                binary = lz.binarise(model, recipe.eps)
                shares = lz.layer_shares(model, recipe.eps)
                rows.append({"condition": condition, "lam": lam, "seed": seed,
                             "rho": lz.nonlinear_share(model, recipe.eps),
                             "rho_strict": lz.nonlinear_share(model, 1e-6),
                             "apl": chain_apl(shares), "soft_accuracy": lz.accuracy(model, task.data),
                             "accuracy": lz.accuracy(binary, task.data),
                             **{f"p{l + 1}": p for l, p in enumerate(shares)}})
                masks[condition, lam, seed] = lz.nonlinear_masks(model, recipe.eps)
                histories[condition, lam, seed] = h
    x_train, x_test = task.data.x_train.flatten(1), task.data.x_test.flatten(1)
    probe = fit_linear_probe(x_train, task.data.y_train, task.data.num_classes)
    return Study(task, pd.DataFrame(rows), pd.DataFrame(refs).set_index("seed"),
                 probe.accuracy(x_test, task.data.y_test), masks, histories)


def summary_table(study: Study) -> pd.DataFrame:
    """Mean over seeds of rho and binarised accuracy (%) per condition and lambda."""
    table = study.runs.groupby(["condition", "lam"], sort=False)[["rho", "rho_strict", "apl", "accuracy"]].mean()
    table["accuracy"] *= 100
    return table.round(3)


def mean_se(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return float(values.mean()), float(se)


def gap_stats(study: Study, other: str, rhos) -> pd.DataFrame:
    """Mean and standard error over seeds of the late-minus-``other`` frontier gap (points)."""
    gaps = study.gap(other, rhos)
    return gaps.groupby("rho")["gap"].agg(lambda g: mean_se(g)[0]).to_frame("mean").assign(
        se=gaps.groupby("rho")["gap"].agg(lambda g: mean_se(g)[1]))


# ---- claims -------------------------------------------------------------------------------------

def _advantage_checks(stats: pd.DataFrame, label: str) -> list[Check]:
    """G > 0 at every rho*, G > 2 SE at two of them, G >= 2 points at 0.1 and 0.2."""
    positive = int((stats["mean"] > 0).sum())
    significant = int((stats["mean"] > 2 * stats["se"].fillna(math.inf)).sum())
    return [
        Check.at_least(f"rho* with mean gap > 0 vs {label}", positive, len(stats), 1),
        Check.at_least(f"rho* with gap > 2 SE vs {label}", significant, 2, 1),
        Check.at_least(f"min gap at rho 0.1, 0.2 vs {label} (points)", float(stats.loc[[0.1, 0.2], "mean"].min()),
                       2.0, 0.0),
    ]


def advantage_claim(hard: Study) -> Claim:
    """C1 (A2 + A3): late beats early on the frontier, also against the epoch-matched control."""
    vs_early = gap_stats(hard, "early", RHO_STARS)
    vs_long = gap_stats(hard, "early-long", RHO_STARS)
    measured = {}
    for name, stats in (("early", vs_early), ("long", vs_long)):
        for rho, row in stats.iterrows():
            key = f"{rho:g}".replace(".", "")
            measured[f"gap_{name}_{key}"] = row["mean"]
            measured[f"se_{name}_{key}"] = row["se"]
    return Claim(
        id="advantage",
        statement="Reducing nonlinearity late in training gives a significant performance gap over doing so "
                  "early (ICML abstract); the gap must survive the epoch-matched early-long control.",
        criterion="MNIST-1D, frontier gap late minus early and late minus early-long at rho = 0.05, 0.1, 0.2: "
                  "mean > 0 at all three, > 2 SE over seeds at two, >= 2 points at 0.1 and 0.2 [brief A2, A3]",
        measured=measured,
        checks=_advantage_checks(vs_early, "early") + _advantage_checks(vs_long, "early-long"),
        source="ICML abstract; criterion [Reconstructed], brief A2/A3",
    )


def sanity_claim(hard: Study, easy: Study) -> Claim:
    """A1: the fully linear net matches logistic regression; binarisation barely moves accuracy."""
    lin_hard, lin_easy = 100 * hard.references.linear.mean(), 100 * easy.references.linear.mean()
    shift = 100 * max((s.runs.accuracy - s.runs.soft_accuracy).abs().max() for s in (hard, easy))
    d_hard, d_easy = lin_hard - 100 * hard.logistic, lin_easy - 100 * easy.logistic
    return Claim(
        id="sanity",
        statement="Anchors: a fully linearized net is a linear classifier, and binarising alpha >= 1 - eps "
                  "to exactly 1 does not change the network.",
        criterion="linear net - logistic regression within +-2 points (MNIST-1D) and -4/+1 (digits); "
                  "largest accuracy change from binarisation <= 1 point [brief A1]",
        measured={"linear_hard": lin_hard, "logistic_hard": 100 * hard.logistic, "linear_easy": lin_easy,
                  "logistic_easy": 100 * easy.logistic, "binarise_shift": shift},
        checks=[Check.at_most("|linear - logistic| MNIST-1D (points)", abs(d_hard), 2.0, 4.0),
                Check.at_most("logistic - linear, digits (points)", -d_easy, 4.0, 6.0),
                Check.at_most("linear - logistic, digits (points)", d_easy, 1.0, 2.0),
                Check.at_most("max binarisation shift (points)", shift, 1.0, 2.0)],
        source="the book's sanity checks [Reconstructed], brief A1",
    )


def smallest_rho_within(study: Study, condition: str, drop_points: float | None = None,
                        span_share: float | None = None) -> float:
    """Mean over seeds of the smallest rho whose run keeps accuracy >= dense - drop (or >= share of span)."""
    out = []
    for s in study.seeds:
        ref = study.references.loc[s]
        floor = (ref.dense_at_t - drop_points / 100 if drop_points is not None
                 else ref.linear + span_share * (ref.dense_at_t - ref.linear))
        rows = study.runs[(study.runs.condition == condition) & (study.runs.seed == s)]
        ok = rows[rows.accuracy >= floor]
        out.append(float(ok.rho.min()) if len(ok) else 1.0)
    return float(np.mean(out))


def unused_capacity_claim(hard: Study) -> Claim:
    """C2 (A4): after training, most units linearize at little cost."""
    rho3 = smallest_rho_within(hard, "late", drop_points=3.0)
    rho95 = smallest_rho_within(hard, "late", span_share=0.95)
    return Claim(
        id="unused_capacity",
        statement="After training we are able to linearize a significant number of nonlinear units while "
                  "maintaining a high performance (ICML abstract).",
        criterion="MNIST-1D late runs: smallest rho with accuracy >= dense - 3 points is <= 0.4 "
                  "(partly <= 0.6); rho_95 (>= 95% of the dense-minus-linear span) reported [brief A4]",
        measured={"rho_within_3pts": rho3, "rho_95": rho95,
                  "dense": 100 * hard.references.dense_at_t.mean()},
        checks=[Check.at_most("smallest rho within 3 points of dense", rho3, 0.4, 0.6)],
        source="ICML abstract; criterion [Reconstructed], brief A4",
    )


def difficulty_claim(hard: Study, easy: Study) -> Claim:
    """A5: the gap depends on task difficulty and vanishes on the easy task."""
    easy_gap = gap_stats(easy, "early", DIGITS_RHO_STARS)["mean"]
    easy_long = gap_stats(easy, "early-long", DIGITS_RHO_STARS)["mean"]
    hard_gap = gap_stats(hard, "early", (0.2,))["mean"].iloc[0]
    span_hard = 100 * (hard.references.dense_at_t - hard.references.linear).mean()
    span_easy = 100 * (easy.references.dense_at_t - easy.references.linear).mean()
    return Claim(
        id="difficulty",
        statement="The gap depends on task difficulty and vanishes for easy problems (v1 abstract).",
        criterion="digits: |late - early| <= 1 point at rho = 0.02, 0.05, 0.1, 0.2; MNIST-1D gap at rho 0.2 "
                  "exceeds the digits gap by >= 3 points [brief A5]; spans (dense - linear) reported",
        measured={"max_abs_gap_easy": float(easy_gap.abs().max()), "max_abs_gap_long_easy": float(easy_long.abs().max()),
                  "gap_easy_02": float(easy_gap.loc[0.2]), "gap_hard_02": float(hard_gap),
                  "span_hard": span_hard, "span_easy": span_easy},
        checks=[Check.at_most("max |gap| on digits (points)", float(easy_gap.abs().max()), 1.0, 2.0),
                Check.at_least("MNIST-1D minus digits gap at rho 0.2 (points)",
                               float(hard_gap - easy_gap.loc[0.2]), 3.0, 1.0)],
        source="v1 abstract; criterion [Reconstructed], brief A5",
    )


def timing_claim(hard: Study) -> Claim:
    """A6: most of the advantage already arises when switching on at 0.2 T (NTK reading)."""
    late = gap_stats(hard, "early", (0.1,))["mean"].iloc[0]
    if "mid" in hard.conditions:
        mid = float(np.mean(hard.gap("early", (0.1,), condition="mid").gap))
    else:
        mid = math.nan
    share = mid / late if late > 0 else math.nan
    return Claim(
        id="ntk_timing",
        statement="Much of a network's expressivity remains unused but helps gradient descent in early stages "
                  "of training, in line with the time-evolution of the data-dependent NTK (ICML abstract).",
        criterion="MNIST-1D: gap mid (switch-on at 0.2 T) minus early at rho 0.1 is >= 50% of the late gap "
                  "(partly >= 25%); a hypothesis check [brief A6]",
        measured={"gap_mid_01": mid, "gap_late_01": float(late), "share": share},
        checks=[Check.at_least("mid gap / late gap at rho 0.1", share if not math.isnan(share) else -1.0, 0.5, 0.25)],
        source="ICML abstract; criterion [Reconstructed], brief A6",
    )


def apl_frontier(study: Study, seed: int, condition: str = "late", grid=None) -> tuple[np.ndarray, np.ndarray]:
    """Upper envelope of (APL, accuracy) for one seed, anchored at (0, linear) and (depth, dense)."""
    depth = study.depth
    grid = np.linspace(0, depth, 301) if grid is None else grid
    rows = study.runs[(study.runs.condition == condition) & (study.runs.seed == seed)]
    ref = study.references.loc[seed]
    points = [(0.0, ref.linear), *zip(rows.apl, rows.accuracy), (float(depth), ref.dense_at_t)]
    return grid, np.array(lz.frontier(points, grid))


def knee(grid: np.ndarray, accuracy: np.ndarray, floor: float) -> float:
    """The smallest APL from which the accuracy stays >= ``floor`` all the way up."""
    below = np.nonzero(accuracy < floor)[0]
    return float(grid[below[-1] + 1]) if len(below) else float(grid[0])


def collapse_claim(hard: Study) -> Claim:
    """C3 (A7): a slow decay with APL, then a rapid collapse."""
    knees, losses = [], []
    for s in hard.seeds:
        ref = hard.references.loc[s]
        span = ref.dense_at_t - ref.linear
        grid, acc = apl_frontier(hard, s)
        k = knee(grid, acc, ref.linear + 0.9 * span)
        knees.append(k)
        half = float(np.interp(k / 2, grid, acc))
        losses.append(100 * (ref.dense_at_t - half) / span if span > 0 else math.nan)
    full = float(hard.depth)
    k = float(np.mean(knees))
    return Claim(
        id="collapse",
        statement="A slow decay of performance with depth until the onset of a rapid collapse in accuracy "
                  "(v1 abstract).",
        criterion="MNIST-1D late frontier over APL (90%-of-span knee): knee <= half the full APL "
                  "(slow decay over half the depth; partly <= 0.75) and halving the knee's APL loses "
                  ">= 40% of the span (partly >= 25%) [brief A7, made non-circular]",
        measured={"apl_full": full, "apl_knee": k, "loss_at_half_knee": float(np.mean(losses))},
        checks=[Check.at_most("knee APL / full APL", k / full, 0.5, 0.75),
                Check.at_least("span lost at half the knee APL (%)", float(np.mean(losses)), 40.0, 25.0)],
        source="v1 abstract; criterion [Reconstructed], brief A7",
    )


def core_profiles(study: Study, target: float = 0.1, condition: str = "late") -> pd.DataFrame:
    """Per seed, p_l of the run whose rho is closest to ``target``."""
    rows = study.runs[study.runs.condition == condition]
    picks = rows.loc[(rows.rho - target).abs().groupby(rows.seed).idxmin()]
    return picks.set_index("seed")[["lam", "rho"] + [f"p{l + 1}" for l in range(study.depth)]]


def core_claim(hard: Study) -> Claim:
    """C5 (A8, reading across seeds): the core's per-layer profile agrees across seeds."""
    cores = core_profiles(hard)
    shares = cores[[c for c in cores if c.startswith("p")]]
    spread = float((shares.max() - shares.min()).max())
    return Claim(
        id="core",
        statement="The remaining nonlinear units organize into distinct structures, forming core-networks "
                  "of near constant effective depth and width (ICML abstract).",
        criterion="MNIST-1D late runs nearest rho = 0.1: the largest per-layer spread of p_l across seeds "
                  "<= 0.1 (partly <= 0.2) [brief A8, reading across seeds only; widths not compared here]",
        measured={"max_layer_spread": spread, "rho_mean": float(cores.rho.mean()),
                  **{f"p{l + 1}_mean": float(shares.iloc[:, l].mean()) for l in range(shares.shape[1])}},
        checks=[Check.at_most("max spread of p_l across seeds", spread, 0.1, 0.2)],
        source="ICML abstract; criterion [Reconstructed], brief A8",
    )


# ---- figures ------------------------------------------------------------------------------------

def _frontier_band(ax, study: Study, condition: str, label: str) -> None:
    curves = np.array([study.frontier(condition, s) for s in study.seeds]) * 100
    mean = curves.mean(0)
    se = curves.std(0, ddof=1) / math.sqrt(len(curves)) if len(curves) > 1 else np.zeros_like(mean)
    x = np.maximum(GRID, 1e-3)
    ax.plot(x, mean, color=COLORS[condition], label=label)
    ax.fill_between(x, mean - se, mean + se, color=COLORS[condition], alpha=0.2)
    rows = study.runs[study.runs.condition == condition]
    ax.scatter(np.maximum(rows.rho, 1e-3), 100 * rows.accuracy, s=12, color=COLORS[condition], alpha=0.7)


def frontier_figure(hard: Study, easy: Study) -> plt.Figure:
    """Accuracy against rho per condition (both tasks) and the frontier gaps with the control."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, study, name in ((axes[0], hard, "MNIST-1D, CNN"), (axes[1], easy, "digits, MLP")):
        for condition in study.conditions:
            _frontier_band(ax, study, condition, condition)
        ax.axhline(100 * study.references.dense_at_t.mean(), ls="--", color="k", lw=1, label="dense (T epochs)")
        ax.axhline(100 * study.references.linear.mean(), ls=":", color="k", lw=1, label="fully linear")
        ax.set(xscale="log", xlim=(0.01, 1.05), title=f"{name}: frontiers (mean ± SE over seeds)",
               xlabel="share of nonlinear units ρ (log)", ylabel="test accuracy (%)")
    axes[0].legend(fontsize="small")
    ax = axes[2]
    for study, marker, name in ((hard, "o", "MNIST-1D"), (easy, "s", "digits")):
        for other, color in (("early", COLORS["early"]), ("early-long", COLORS["early-long"])):
            stats = gap_stats(study, other, GRID[1:])
            ax.plot(stats.index, stats["mean"], color=color, ls="-" if marker == "o" else "--",
                    label=f"{name}: late − {other}")
            ax.fill_between(stats.index, stats["mean"] - stats["se"], stats["mean"] + stats["se"],
                            color=color, alpha=0.15)
    ax.axhline(0, color="k", lw=0.8)
    for r in RHO_STARS:
        ax.axvline(r, color="grey", lw=0.6, ls=":")
    ax.set(xscale="log", xlim=(0.01, 1.0), title="Frontier gap with the epoch-matched control",
           xlabel="share of nonlinear units ρ (log)", ylabel="accuracy gap (points)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def apl_figure(hard: Study, easy: Study) -> plt.Figure:
    """Accuracy against APL (binarised runs) with the late frontier and its knee."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    for ax, study, name in ((axes[0], hard, "MNIST-1D, CNN"), (axes[1], easy, "digits, MLP")):
        for condition in study.conditions:
            rows = study.runs[study.runs.condition == condition]
            ax.scatter(rows.apl, 100 * rows.accuracy, s=14, color=COLORS[condition], label=condition)
        curves = np.array([apl_frontier(study, s)[1] for s in study.seeds]) * 100
        grid = apl_frontier(study, study.seeds[0])[0]
        ax.plot(grid, curves.mean(0), color=COLORS["late"], lw=1.5, label="late frontier (mean)")
        ref = study.references
        floor = 100 * (ref.linear + 0.9 * (ref.dense_at_t - ref.linear)).mean()
        k = knee(grid, curves.mean(0), floor)
        ax.axvline(k, color="grey", ls="--", lw=1, label=f"knee ≈ {k:.2f}")
        ax.set(title=f"{name}: accuracy against effective depth", xlabel="average path length APL (layers)",
               ylabel="test accuracy (%)")
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def core_figure(hard: Study, easy: Study) -> plt.Figure:
    """Per-layer share of nonlinear units after late sparsification: one line per lambda and seed."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    styles = ["-", "--", ":", "-."]
    for ax, study, name in ((axes[0], hard, "MNIST-1D, CNN"), (axes[1], easy, "digits, MLP")):
        layers = np.arange(1, study.depth + 1)
        rows = study.runs[study.runs.condition == "late"]
        for i, lam in enumerate(study.task.lambdas):
            for j, seed in enumerate(study.seeds):
                r = rows[(rows.lam == lam) & (rows.seed == seed)].iloc[0]
                ax.plot(layers, [r[f"p{l}"] for l in layers], color=f"C{i}", ls=styles[j % 4], marker="o",
                        label=f"λ={lam:g}" if j == 0 else None)
        ax.set(title=f"{name}: core profile (late runs; line style = seed)", xlabel="layer",
               ylabel="share of nonlinear units p_l", xticks=layers, ylim=(-0.03, 1.03))
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def dynamics_figure(hard: Study, seed: int | None = None) -> plt.Figure:
    """rho during sparsification for each condition and lambda (one seed)."""
    seed = hard.seeds[0] if seed is None else seed
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    styles = {"early-long": "-", "mid": ":", "late": "--"}
    for i, lam in enumerate(hard.task.lambdas):
        for condition, ls in styles.items():
            if (condition, lam, seed) in hard.histories:
                h = hard.histories[condition, lam, seed]
                ax.plot(h.epoch, h.rho, color=f"C{i}", ls=ls, label=f"{condition}, λ={lam:g}")
    ax.axvline(hard.task.sparsify, color="grey", lw=0.8)
    ax.set(title=f"MNIST-1D: share of nonlinear units under the prior (seed {seed})",
           xlabel="epochs since the prior switched on", ylabel="share of nonlinear units ρ")
    ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def draw_core(study: Study, seed: int):
    """A ``draw(axes, (condition, lam))`` for the explorer: the binary layer x channel core map."""
    def draw(axes, value) -> None:
        condition, lam = value
        masks = study.masks[condition, lam, seed]
        width = max(len(m) for m in masks)
        grid = np.full((len(masks), width), np.nan)
        for l, m in enumerate(masks):
            grid[l, : len(m)] = m.numpy()
        row = study.runs[(study.runs.condition == condition) & (study.runs.lam == lam)
                         & (study.runs.seed == seed)].iloc[0]
        ax = axes[0]
        ax.imshow(grid, cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
        ax.set(title=f"{condition}, λ={lam:g}: ρ={row.rho:.2f}, acc {100 * row.accuracy:.1f}%",
               xlabel="channel", ylabel="layer", yticks=range(len(masks)),
               yticklabels=[str(l + 1) for l in range(len(masks))])
        ax.grid(False)
    return draw
