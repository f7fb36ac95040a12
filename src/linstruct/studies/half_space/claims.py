"""Chapter 1's claims: each criterion as a function of plain measured values (numbers, per-seed lists,
small dicts of numbers) returning a :class:`~linstruct.core.claims.Claim`.

The thresholds are the module constants below; each says why it has its value. A per-seed effect is
judged by its 95% interval over seeds (:meth:`Check.interval_at_least`); MSEs by their log10, since
over seeds they are skewed (one poor random start ends ten times above the rest). A per-seed condition
without a natural effect is judged as a share of seeds: every seed reproduces, half of them partly.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from linstruct.core.claims import (
    Baseline,
    Check,
    Claim,
    baseline_checks,
    defined_interval_at_least,
    defined_interval_at_most,
    fraction_holding,
)

# "Converged" as the paper's figure caption uses it ("converge to loss 0.01"). Adam makes the loss jitter,
# so a single epoch below the level is not convergence: it must stay below for PATIENCE epochs in a row
# (the steps to sustained convergence are reported; the verdict judges the final MSE).
CONVERGED_MSE = 0.01
CONVERGED_PATIENCE = 5
CONVERGED_LOG10 = math.log10(CONVERGED_MSE)
# An exact fit (MSE 0) has no logarithm: it counts as 1e-12, far below any level judged here.
MSE_FLOOR = 1e-12

# The path sum adds m^L products of a few numbers each; float64 rounding leaves errors near 1e-15 of the
# output's scale. 1e-10 is far above that rounding, and far below the O(1) error of a wrong or missing path.
PATH_SUM_TOLERANCE = 1e-10

# Shares of seeds: "every seed" reproduces; "at least half" reproduces partly.
ALL_SEEDS = 1.0
HALF_OF_SEEDS = 0.5

# A linear function of x fits the circle target no better than MSE ~0.29 (our runs of the deep linear net
# end at 0.295); 0.25 leaves room for rounding, so only a net that bends below a linear fit fails.
LINEAR_FLOOR_MSE = 0.25

# Frozen gating "stalls" if it ends an order of magnitude above the convergence level (our calibration
# runs plateau near 0.245, learned gating ends below 0.003).
FROZEN_STALLED_MSE = 0.1

# Relative Frobenius change of the overlap kernel from initialisation: 0.3 means the kernel moved by a third
# of its own size, which no kernel method does (frozen gating changes it by exactly 0); our learned-gating
# runs reach about 0.9, so a slower but real change still counts.
KERNEL_CHANGE_MIN = 0.3

# Smooth-region allocation: the top-to-bottom overlap ratio R must grow by half of its initial value, a clear
# shift rather than a drift (frozen gating keeps R / R_0 at exactly 1; our learned-gating runs grow it ~9x).
R_GAIN_MIN = 1.5

# ReLU analogue: a hypothesis in the paper, so any shift of active-path overlap to the smooth half
# (R_T / R_0 at or above 1 over the whole interval) counts.
RELU_R_GAIN_MIN = 1.0

# Later-layer clustering: the last layer's angle entropy falls to at most 0.7 of its initial value (losing
# 30% of the entropy of an 18-bin spread is a visible bunching; our runs end near 0.3); layer 1 moves by less than 20%
# of its entropy; at least 30% of last-layer normals lie within 15 degrees of vertical (an even spread puts
# about 17% there); the shallow-features control must NOT fall to 0.7.
ENTROPY_RATIO_MAX = 0.7
FIRST_LAYER_CHANGE_MAX = 0.2
NEAR_VERTICAL_SHARE_MIN = 0.3

# Frozen versus learned gating across beta: judged only at beta <= 10 (at large beta random step gates
# already cut the circle finely, and our calibration runs saw frozen gating converge only ~2.5x slower at
# beta 30). Frozen gating counts as stalled when it ends with at least 5x the learned gating's final MSE
# (half an order of magnitude: clearly more than seed-to-seed spread, which is within 2x in our runs).
BETA_JUDGED_MAX = 10.0
FROZEN_MSE_RATIO_MIN = 5.0
MSE_RATIO_LOG10 = math.log10(FROZEN_MSE_RATIO_MIN)

# Features are indicators if the trained model keeps its fit with hard gates: ten times the convergence
# level and a fifth of the target's variance (~0.5) is still a fit; a lost fit sits at the variance or above
# (our beta = 4 models reach ~1.4 with hard gates).
HARD_GATE_MSE_MAX = 0.1

# Fashion-MNIST: "competitive" = within 3 accuracy points of ReLU (the group calls DLGNs "only marginally
# inferior"), and no worse than the deep linear net or frozen gating (0 points).
FASHION_RELU_GAP_MAX = 3.0
FASHION_CONTROL_GAP_MIN = 0.0
CLASS_RATIO_GAIN_MIN = 1.0  # within/between-class overlap ratio must rise in training


def share_check(name: str, share: float) -> Check:
    """The per-seed (or per-beta) share check: every one passes, at least half passes partly."""
    return Check.at_least(name, share, ALL_SEEDS, HALF_OF_SEEDS)


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, with +-inf (NaN for 0 / 0) instead of ZeroDivisionError."""
    if denominator == 0:
        return math.nan if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / denominator


def undefined_where_infinite(measured: Mapping[str, float], reasons: Mapping[str, str]) -> dict[str, str]:
    """{key: reason} for the keys of ``reasons`` whose measured value is NaN or infinite."""
    return {k: reason for k, reason in reasons.items() if not math.isfinite(measured[k])}


def path_claim(errors: Mapping[str, float]) -> Claim:
    """``errors``: model name -> max relative error of the path sum against the forward pass."""
    worst = max(errors.values())
    return Claim(
        id="path_sum_identity",
        statement="Neural networks can be viewed as a mixture of experts, where each expert corresponds to a "
        "(number of layers length) path through a sequence of hidden units.",
        criterion=f"network output = explicit sum over all m^L paths of gate product x path value, max error "
        f"relative to the output's scale <= {PATH_SUM_TOLERANCE:g} (float64), for ReLU and DLGN (pwc, "
        "pwl; soft and hard gates)",
        measured={"max_relative_error": worst},
        checks=[Check.at_most("max relative error", worst, PATH_SUM_TOLERANCE)],
        source="abstract; Theorem 1's form [Reconstructed]",
    )


def log10_mse(values: Sequence[float]) -> list[float]:
    """log10 of each MSE, floored at :data:`MSE_FLOOR` (an exact fit is judged as a very good one).
    MSEs over seeds are skewed (one poor start is ten times the rest): their logarithm is what the
    t-interval summarises."""
    return [math.log10(max(float(v), MSE_FLOOR)) for v in values]


def interval_or_share_at_least(name: str, values: Sequence[float], bound: float) -> Check:
    """The interval over the finite ``values`` (a ratio with an empty denominator is left out); when
    none is finite (every ratio infinite), the share of seeds at or above ``bound``."""
    share = fraction_holding([v >= bound for v in values])
    return defined_interval_at_least(
        name, values, bound, share_check(f"share of seeds with {name} >= {bound:g}", share)
    )


def interval_or_share_at_most(name: str, values: Sequence[float], bound: float) -> Check:
    """As :func:`interval_or_share_at_least`, at or below ``bound``."""
    share = fraction_holding([v <= bound for v in values])
    return defined_interval_at_most(name, values, bound, share_check(f"share of seeds with {name} <= {bound:g}", share))


def learns_claim(
    dlgn_steps: Sequence[float], dlgn_final: Sequence[float], relu_final: Sequence[float], dln_final: Sequence[float]
) -> Claim:
    """Per-seed lists: ``dlgn_steps`` = steps to sustained convergence (inf: never, reported), the
    others final full-data MSEs."""
    return Claim(
        id="dlgn_learns",
        statement="Unlike deep linear networks, the DLGN is capable of learning non-linear features; "
        "it sits midway between deep linear networks and ReLU networks.",
        criterion=f"over seeds (95% interval): DLGN log10 final MSE <= log10 {CONVERGED_MSE:g}; ReLU log10 final "
        f"MSE <= log10 {CONVERGED_MSE:g}; the deep linear net's final MSE >= {LINEAR_FLOOR_MSE} (it cannot bend)",
        measured={
            "dlgn_seeds_converged": fraction_holding([math.isfinite(s) for s in dlgn_steps]),
            "dlgn_median_final_mse": statistics.median(dlgn_final),
            "relu_median_final_mse": statistics.median(relu_final),
            "dln_min_final_mse": min(dln_final),
        },
        checks=[
            Check.interval_at_most("DLGN log10 final MSE", log10_mse(dlgn_final), CONVERGED_LOG10),
            Check.interval_at_most("ReLU log10 final MSE", log10_mse(relu_final), CONVERGED_LOG10),
            Check.interval_at_least("deep linear net final MSE", dln_final, LINEAR_FLOOR_MSE),
        ],
        source="abstract",
    )


def frozen_claim(learned_final: Sequence[float], frozen_final: Sequence[float], beta: float) -> Claim:
    """Final MSEs of learned and frozen gating, aligned by seed."""
    if len(learned_final) != len(frozen_final):
        raise ValueError(
            f"learned and frozen gating need one value per seed each; got {len(learned_final)} and {len(frozen_final)}"
        )
    return Claim(
        id="frozen_gating_stalls",
        statement="DLGN models with fixed gating take more than 2000 iterations to converge to loss 0.01 "
        "(feature learning happens, and it is what makes the DLGN fit).",
        criterion=f"over seeds (95% interval), at beta = {beta:g} and the end of training: frozen-gating final MSE "
        f">= {FROZEN_STALLED_MSE}, while learned gating's log10 final MSE <= log10 {CONVERGED_MSE:g}",
        measured={
            "frozen_median_final_mse": statistics.median(frozen_final),
            "learned_median_final_mse": statistics.median(learned_final),
        },
        checks=[
            Check.interval_at_least("frozen-gating final MSE", frozen_final, FROZEN_STALLED_MSE),
            Check.interval_at_most("learned-gating log10 final MSE", log10_mse(learned_final), CONVERGED_LOG10),
        ],
        source="the figure caption as a third-party summary lists it [Summary]; the abstract's 'feature "
        "learning in DLGNs is shown to happen'",
    )


def kernel_change_claim(
    learned_change: Sequence[float], frozen_change: Sequence[float], ntk_change: Mapping[str, float]
) -> Claim:
    """Relative change of the hard overlap kernel by the end, per seed; ``ntk_change``: learner key ->
    relative NTK change (reported only)."""
    return Claim(
        id="overlap_kernel_changes",
        statement="Feature learning in DLGNs is shown to happen (the overlap kernel of active paths changes "
        "in training; a kernel method would keep it fixed).",
        criterion=f"relative Frobenius change of the trace-normalised hard overlap kernel >= {KERNEL_CHANGE_MIN} "
        "with learned gating (95% interval over seeds), and exactly 0 with frozen gating in every seed. "
        "NTK change reported only (it also moves when only value weights train)",
        measured={
            "learned_median_change": statistics.median(learned_change),
            "frozen_max_change": max(frozen_change),
            **{f"ntk_change_{k}": v for k, v in ntk_change.items()},
        },
        checks=[
            Check.interval_at_least("learned-gating kernel change", learned_change, KERNEL_CHANGE_MIN),
            Check.at_most("frozen-gating largest kernel change", max(frozen_change), 0.0),
        ],
        source="abstract; the overlap kernel's definition [Reconstructed]",
    )


def allocation_claim(
    r_initial: Sequence[float], r_final: Sequence[float], bottom_initial: Sequence[float], bottom_final: Sequence[float]
) -> Claim:
    """Per seed (aligned): the top/bottom overlap ratio R and the bottom-block mean, at initialisation
    and at the end."""
    gains = [ratio(final, initial) for initial, final in zip(r_initial, r_final, strict=True)]
    falls = fraction_holding([after < before for before, after in zip(bottom_initial, bottom_final, strict=True)])
    measured = {
        "median_R_gain": statistics.median(gains),
        "min_R_gain": min(gains),
        "median_R0": statistics.median(r_initial),
        "median_R_final": statistics.median(r_final),
        "share_bottom_falls": falls,
    }
    empty = "the bottom block of the overlap kernel is 0 in some seed (no path shared by bottom points)"
    return Claim(
        id="smooth_region_allocation",
        statement="The mechanism is learning half-spaces in the input space that contain smooth regions of the "
        "target function (gradient descent allocates paths to the simpler regions).",
        criterion=f"R = mean overlap kernel on top x top / bottom x bottom grows by >= {R_GAIN_MIN}x from "
        "initialisation (95% interval over seeds), and the bottom-block mean decreases in every seed "
        "(partly: half)",
        measured=measured,
        checks=[
            interval_or_share_at_least("R_T / R_0", gains, R_GAIN_MIN),
            share_check("share of seeds whose bottom-block mean decreases", falls),
        ],
        source="abstract; the block-ratio measure [Reconstructed]",
        undefined=undefined_where_infinite(measured, {k: empty for k in measured if "R" in k}),
    )


def relu_analogue_claim(relu_r_gain: Sequence[float]) -> Claim:
    """Per seed: the ReLU net's R at the end over R at initialisation."""
    measured = {"median_R_gain": statistics.median(relu_r_gain)}
    return Claim(
        id="relu_analogue",
        statement="We hypothesize that ReLU networks also have similar feature learning behaviour.",
        criterion=f"the ReLU net's active-path overlap kernel (gates 1[z > 0]) also shifts mass to the smooth "
        f"half: R_T / R_0 >= {RELU_R_GAIN_MIN:g} (95% interval over seeds)",
        measured=measured,
        checks=[interval_or_share_at_least("ReLU R_T / R_0", relu_r_gain, RELU_R_GAIN_MIN)],
        source="abstract (a hypothesis; the measure is the DLGN's, applied to ReLU gates)",
        undefined=undefined_where_infinite(measured, {"median_R_gain": "the ReLU net's bottom block is 0"}),
    )


def clustering_claim(
    *,
    depth: int,
    last_init: Sequence[float],
    last_final: Sequence[float],
    first_init: Sequence[float],
    first_final: Sequence[float],
    last_near_90: Sequence[float],
    sf_last_init: Sequence[float],
    sf_last_final: Sequence[float],
) -> Claim:
    """Per seed (aligned): angle entropies of the DLGN's last and first gating layer at initialisation and
    the end, the DLGN's final last-layer share of normals near vertical, and the DLGN-SF control's
    last-layer entropies."""
    ratios = [ratio(final, initial) for initial, final in zip(last_init, last_final, strict=True)]
    sf_ratios = [ratio(final, initial) for initial, final in zip(sf_last_init, sf_last_final, strict=True)]
    shape = fraction_holding(
        [
            last < first_end
            and abs(first_end - first_start) < FIRST_LAYER_CHANGE_MAX * first_start
            and near >= NEAR_VERTICAL_SHARE_MIN
            for last, first_start, first_end, near in zip(
                last_final, first_init, first_final, last_near_90, strict=True
            )
        ]
    )
    measured = {
        "median_last_layer_entropy_ratio": statistics.median(ratios),
        "median_last_layer_share_near_90": statistics.median(last_near_90),
        "median_sf_last_layer_entropy_ratio": statistics.median(sf_ratios),
        "share_layer_pattern": shape,
    }
    zero = "the last layer's normals share one angle bin at initialisation (entropy 0)"
    return Claim(
        id="later_layers_cluster",
        statement="The neurons in later layers are fundamentally the same as those in earlier layers -- they all "
        "represent a half-space -- however, the dynamics of gradient descent impart a distinct "
        "clustering to the later layer neurons.",
        criterion=f"at least 2 layers; the last layer's angle entropy falls to <= {ENTROPY_RATIO_MAX}x its initial "
        f"value (95% interval over seeds) while the DLGN-SF control's does not (its ratio >= "
        f"{ENTROPY_RATIO_MAX}); and in every seed (partly: half) the last layer ends below layer 1, layer 1 "
        f"changes < {FIRST_LAYER_CHANGE_MAX:.0%} and >= {NEAR_VERTICAL_SHARE_MIN:.0%} of last-layer normals lie "
        "within 15 degrees of vertical",
        measured=measured,
        checks=[
            Check.at_least("layers", depth, 2),
            interval_or_share_at_most("DLGN last-layer entropy ratio", ratios, ENTROPY_RATIO_MAX),
            interval_or_share_at_least("DLGN-SF last-layer entropy ratio (control)", sf_ratios, ENTROPY_RATIO_MAX),
            share_check("share of seeds with the layer pattern", shape),
        ],
        source="abstract; the clustering measures are our reconstruction [Reconstructed]",
        undefined=undefined_where_infinite(
            measured, {"median_last_layer_entropy_ratio": zero, "median_sf_last_layer_entropy_ratio": zero}
        ),
    )


def beta_claim(per_beta: Mapping[float, Mapping[str, Sequence[float]]]) -> Claim:
    """``per_beta``: beta -> {"learned_mse", "frozen_mse"}: per-seed final MSEs (aligned) of the learned
    and frozen-gating DLGN at that beta."""
    judged = [beta for beta in sorted(per_beta) if beta <= BETA_JUDGED_MAX]
    checks, measured = [], {}
    for beta in sorted(per_beta):
        run = per_beta[beta]
        gaps = [
            math.log10(max(frozen, MSE_FLOOR) / max(learned, MSE_FLOOR))
            for learned, frozen in zip(run["learned_mse"], run["frozen_mse"], strict=True)
        ]
        measured[f"beta_{beta:g}_log10_mse_ratio".replace(".", "p")] = statistics.fmean(gaps)
        if beta in judged:
            checks.append(
                Check.interval_at_least(f"beta {beta:g}: log10 frozen / learned final MSE", gaps, MSE_RATIO_LOG10)
            )
    if not judged:
        checks.append(Check(f"no swept beta is <= {BETA_JUDGED_MAX:g}: nothing to judge", False))
    return Claim(
        id="frozen_vs_beta",
        statement="DLGN models with fixed gating take more than 2000 iterations to converge to loss 0.01.",
        criterion=f"at every swept beta <= {BETA_JUDGED_MAX:g}: frozen gating ends with >= {FROZEN_MSE_RATIO_MIN:g}x "
        "the learned gating's final MSE, log10 of the ratio per seed, 95% interval (larger betas reported, not "
        "judged; our calibration runs saw frozen gating converge ~2.5x slower at beta 30)",
        measured=measured,
        checks=checks,
        source="the figure caption as a third-party summary lists it [Summary]; the beta dependence is ours [Pilot]",
    )


def hard_gate_claim(
    main_hard_mse: Sequence[float], top_hard_mse: Sequence[float], beta: float, top_beta: float
) -> Claim:
    """Per seed, the hard-gate MSE of the chapter's learned-gating DLGN (at ``beta``) and of the sweep's
    at its largest beta ``top_beta``."""
    return Claim(
        id="features_are_indicators",
        statement="Each feature is effectively an indicator function for a region compactly described as an "
        "intersection of (number of layers) half-spaces in the input space.",
        criterion=f"the trained soft-gate DLGN keeps its fit with hard gates 1[eta >= 0]: hard-gate MSE <= "
        f"{HARD_GATE_MSE_MAX} (95% interval over seeds) at the chapter's beta ({beta:g}) and at the sweep's "
        f"largest beta ({top_beta:g})",
        measured={
            "hard_gate_mse_main_beta": statistics.median(main_hard_mse),
            "hard_gate_mse_largest_beta": statistics.median(top_hard_mse),
        },
        checks=[
            Check.interval_at_most(f"hard-gate MSE at beta {beta:g}", main_hard_mse, HARD_GATE_MSE_MAX),
            Check.interval_at_most(f"hard-gate MSE at beta {top_beta:g}", top_hard_mse, HARD_GATE_MSE_MAX),
        ],
        source="abstract ('effectively'); soft-versus-hard evaluation is ours [Pilot]",
    )


def fashion_claim(
    accuracy: Mapping[str, Sequence[float]],
    class_ratio_init: float,
    class_ratio_final: float,
    dataset: str,
    baselines: Sequence[Baseline] = (),
) -> Claim:
    """``accuracy``: learner key ("dlgn", "relu", "frozen", "dln") -> per-seed test accuracies (%), aligned
    by seed; the DLGN's within/between-class overlap ratio before and after training; the data set's
    name; ``baselines``: the trained ReLU MLP and DLGN against their references."""

    def gap(other: str) -> list[float]:
        return [d - o for d, o in zip(accuracy["dlgn"], accuracy[other], strict=True)]

    gain = ratio(class_ratio_final, class_ratio_init)
    measured = {
        **{f"{key}_accuracy": statistics.fmean(accuracy[key]) for key in ("dlgn", "relu", "frozen", "dln")},
        "class_ratio_gain": gain,
    }
    return Claim(
        id="fashion_mnist_competitive",
        statement="DLGNs are competitive on real data (Fashion-MNIST in the paper's tables; values unread).",
        criterion=f"on {dataset}, per seed and over seeds (95% interval): DLGN test accuracy >= ReLU's - "
        f"{FASHION_RELU_GAP_MAX:g} points, >= the deep linear net's and >= frozen gating's; the within/between-"
        "class overlap-kernel ratio rises; both networks at their references",
        measured=measured,
        checks=[
            Check.interval_at_least("DLGN - ReLU (points)", gap("relu"), -FASHION_RELU_GAP_MAX),
            Check.interval_at_least("DLGN - deep linear (points)", gap("dln"), FASHION_CONTROL_GAP_MIN),
            Check.interval_at_least("DLGN - frozen gating (points)", gap("frozen"), FASHION_CONTROL_GAP_MIN),
            Check.at_least("within/between overlap ratio gain", gain, CLASS_RATIO_GAIN_MIN),
            *baseline_checks(baselines),
        ],
        source="[Summary] (tables listed, values unread); the group's later paper: 'only marginally inferior "
        "to ReLU' [Related]",
        undefined=undefined_where_infinite(
            measured, {"class_ratio_gain": "no image pair across classes shares an active path"}
        ),
    )
