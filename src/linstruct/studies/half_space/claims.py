"""Chapter 1's claims: each criterion as a function of plain measured values (numbers, per-seed lists,
small dicts of numbers) returning a :class:`~linstruct.core.claims.Claim`.

The thresholds are the module constants below; each says why it has its value. Per-seed findings are
judged as a share of seeds: every seed reproduces, at least half of them reproduces partly.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from linstruct.core.claims import Check, Claim, fraction_holding

# "Converged" as the paper's figure caption uses it ("converge to loss 0.01"). Adam makes the loss jitter,
# so a single epoch below the level is not convergence: it must stay below for PATIENCE epochs in a row.
CONVERGED_MSE = 0.01
CONVERGED_PATIENCE = 5

# The path sum adds m^L products of a few numbers each; float64 rounding leaves errors near 1e-15 of the
# output's scale. 1e-10 is far above that rounding, and far below the O(1) error of a wrong or missing path.
PATH_SUM_TOLERANCE = 1e-10

# Shares of seeds: "every seed" reproduces; "at least half" reproduces partly.
ALL_SEEDS = 1.0
HALF_OF_SEEDS = 0.5

# The DLGN may miss the level in one seed of three (a poor random start of its gating net) and still be
# a learner; one seed in three converging is only partial evidence.
DLGN_CONVERGED_SHARE = 2 / 3
DLGN_CONVERGED_SHARE_PARTLY = 1 / 3

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
# (R_T / R_0 strictly above 1) counts.
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
# beta 30). Frozen gating counts as slower with at least 3x the steps, or with at least 5x the final MSE.
BETA_JUDGED_MAX = 10.0
FROZEN_SLOWDOWN_MIN = 3.0
FROZEN_MSE_RATIO_MIN = 5.0

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


def learns_claim(
    dlgn_steps: Sequence[float], dlgn_final: Sequence[float], relu_final: Sequence[float], dln_final: Sequence[float]
) -> Claim:
    """Per-seed lists: ``dlgn_steps`` = steps to sustained convergence (inf: never), the others final MSEs."""
    dlgn_hits = fraction_holding([math.isfinite(s) for s in dlgn_steps])
    relu_median, dln_min = statistics.median(relu_final), min(dln_final)
    return Claim(
        id="dlgn_learns",
        statement="Unlike deep linear networks, the DLGN is capable of learning non-linear features; "
        "it sits midway between deep linear networks and ReLU networks.",
        criterion=f"DLGN reaches full-data MSE < {CONVERGED_MSE} (sustained {CONVERGED_PATIENCE} epochs) in >= 2/3 "
        f"of seeds (partly: 1/3); ReLU median final MSE <= {CONVERGED_MSE}; the deep linear net ends at "
        f">= {LINEAR_FLOOR_MSE} in every seed",
        measured={
            "dlgn_seeds_converged": dlgn_hits,
            "dlgn_median_final_mse": statistics.median(dlgn_final),
            "relu_median_final_mse": relu_median,
            "dln_min_final_mse": dln_min,
        },
        checks=[
            Check.at_least(
                "share of DLGN seeds converged", dlgn_hits, DLGN_CONVERGED_SHARE, DLGN_CONVERGED_SHARE_PARTLY
            ),
            Check.at_most("ReLU median final MSE", relu_median, CONVERGED_MSE),
            Check.at_least("deep linear net min final MSE", dln_min, LINEAR_FLOOR_MSE),
        ],
        source="abstract",
    )


def frozen_claim(learned_final: Sequence[float], frozen_final: Sequence[float], beta: float) -> Claim:
    """Final MSEs of learned and frozen gating, aligned by seed."""
    holds = fraction_holding(
        [
            frozen > FROZEN_STALLED_MSE and learned < CONVERGED_MSE
            for learned, frozen in zip(learned_final, frozen_final, strict=True)
        ]
    )
    return Claim(
        id="frozen_gating_stalls",
        statement="DLGN models with fixed gating take more than 2000 iterations to converge to loss 0.01 "
        "(feature learning happens, and it is what makes the DLGN fit).",
        criterion=f"per seed, at beta = {beta:g} and the end of training: frozen-gating MSE > {FROZEN_STALLED_MSE} "
        f"while learned gating < {CONVERGED_MSE}; in every seed (partly: half)",
        measured={
            "seeds_holding": holds,
            "frozen_median_final_mse": statistics.median(frozen_final),
            "learned_median_final_mse": statistics.median(learned_final),
        },
        checks=[share_check("share of seeds holding", holds)],
        source="figure 2 caption as listed on a summary site [Summary]; the abstract's 'feature learning in "
        "DLGNs is shown to happen'",
    )


def kernel_change_claim(
    learned_change: Sequence[float], frozen_change: Sequence[float], ntk_change: Mapping[str, float]
) -> Claim:
    """Relative change of the hard overlap kernel by the end, per seed (aligned); ``ntk_change``:
    learner key -> relative NTK change (reported only)."""
    holds = fraction_holding(
        [
            learned >= KERNEL_CHANGE_MIN and frozen == 0.0
            for learned, frozen in zip(learned_change, frozen_change, strict=True)
        ]
    )
    return Claim(
        id="overlap_kernel_changes",
        statement="Feature learning in DLGNs is shown to happen (the overlap kernel of active paths changes "
        "in training; a kernel method would keep it fixed).",
        criterion=f"per seed: relative Frobenius change of the trace-normalised hard overlap kernel >= "
        f"{KERNEL_CHANGE_MIN} with learned gating and exactly 0 with frozen gating; every seed (partly: "
        "half). NTK change reported only (it also moves when only value weights train)",
        measured={
            "seeds_holding": holds,
            "learned_median_change": statistics.median(learned_change),
            "frozen_max_change": max(frozen_change),
            **{f"ntk_change_{k}": v for k, v in ntk_change.items()},
        },
        checks=[share_check("share of seeds holding", holds)],
        source="abstract; the overlap kernel's definition [Reconstructed]",
    )


def allocation_claim(
    r_initial: Sequence[float], r_final: Sequence[float], bottom_initial: Sequence[float], bottom_final: Sequence[float]
) -> Claim:
    """Per seed (aligned): the top/bottom overlap ratio R and the bottom-block mean, at initialisation
    and at the end."""
    gains = [ratio(final, initial) for initial, final in zip(r_initial, r_final, strict=True)]
    holds = fraction_holding(
        [
            gain >= R_GAIN_MIN and after < before
            for gain, before, after in zip(gains, bottom_initial, bottom_final, strict=True)
        ]
    )
    measured = {
        "seeds_holding": holds,
        "median_R_gain": statistics.median(gains),
        "min_R_gain": min(gains),
        "median_R0": statistics.median(r_initial),
        "median_R_final": statistics.median(r_final),
    }
    empty = "the bottom block of the overlap kernel is 0 in some seed (no path shared by bottom points)"
    return Claim(
        id="smooth_region_allocation",
        statement="The mechanism is learning half-spaces in the input space that contain smooth regions of the "
        "target function (gradient descent allocates paths to the simpler regions).",
        criterion=f"per seed: R = mean overlap kernel on top x top / bottom x bottom grows by >= {R_GAIN_MIN}x from "
        "initialisation and the bottom-block mean decreases; every seed (partly: half)",
        measured=measured,
        checks=[share_check("share of seeds holding", holds)],
        source="abstract; the block-ratio measure [Reconstructed]",
        undefined=undefined_where_infinite(measured, {k: empty for k in measured if k != "seeds_holding"}),
    )


def relu_analogue_claim(relu_r_gain: Sequence[float]) -> Claim:
    """Per seed: the ReLU net's R at the end over R at initialisation."""
    holds = fraction_holding([gain > RELU_R_GAIN_MIN for gain in relu_r_gain])
    measured = {"seeds_holding": holds, "median_R_gain": statistics.median(relu_r_gain)}
    return Claim(
        id="relu_analogue",
        statement="We hypothesize that ReLU networks also have similar feature learning behaviour.",
        criterion=f"per seed: the ReLU net's active-path overlap kernel (gates 1[z > 0]) also shifts mass to "
        f"the smooth half, R_T / R_0 > {RELU_R_GAIN_MIN:g}; every seed (partly: half)",
        measured=measured,
        checks=[share_check("share of seeds holding", holds)],
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
    flags = [
        depth > 1
        and last_ratio <= ENTROPY_RATIO_MAX
        and last < first_end
        and abs(first_end - first_start) < FIRST_LAYER_CHANGE_MAX * first_start
        and near >= NEAR_VERTICAL_SHARE_MIN
        and sf_ratio > ENTROPY_RATIO_MAX
        for last_ratio, last, first_start, first_end, near, sf_ratio in zip(
            ratios, last_final, first_init, first_final, last_near_90, sf_ratios, strict=True
        )
    ]
    holds = fraction_holding(flags)
    measured = {
        "seeds_holding": holds,
        "median_last_layer_entropy_ratio": statistics.median(ratios),
        "median_last_layer_share_near_90": statistics.median(last_near_90),
    }
    return Claim(
        id="later_layers_cluster",
        statement="The neurons in later layers are fundamentally the same as those in earlier layers -- they all "
        "represent a half-space -- however, the dynamics of gradient descent impart a distinct "
        "clustering to the later layer neurons.",
        criterion=f"per seed: last layer's angle entropy falls to <= {ENTROPY_RATIO_MAX}x its initial value and "
        f"below layer 1's; layer 1 changes < {FIRST_LAYER_CHANGE_MAX:.0%}; >= {NEAR_VERTICAL_SHARE_MIN:.0%} "
        f"of last-layer normals within 15 degrees of vertical; and the DLGN-SF control's last layer does "
        f"not fall so (> {ENTROPY_RATIO_MAX}x); every seed (partly: half)",
        measured=measured,
        checks=[share_check("share of seeds holding", holds)],
        source="abstract; the clustering measures are our reconstruction [Reconstructed]",
        undefined=undefined_where_infinite(
            measured,
            {
                "median_last_layer_entropy_ratio": "the last layer's normals share one angle bin at initialisation "
                "(entropy 0)"
            },
        ),
    )


def beta_claim(per_beta: Mapping[float, Mapping[str, float]]) -> Claim:
    """``per_beta``: beta -> {"learned_steps", "frozen_steps" (steps to sustained convergence, inf: never),
    "learned_mse", "frozen_mse" (final MSEs)} of the learned and frozen-gating DLGN at that beta."""
    flags, measured, undefined = [], {}, {}
    for beta in sorted(per_beta):
        run = per_beta[beta]
        learned_converges = math.isfinite(run["learned_steps"])
        slower = run["frozen_steps"] >= FROZEN_SLOWDOWN_MIN * run["learned_steps"]  # true when frozen never does
        mse_ratio = ratio(run["frozen_mse"], run["learned_mse"])
        if beta <= BETA_JUDGED_MAX:
            flags.append((learned_converges and slower) or mse_ratio >= FROZEN_MSE_RATIO_MIN)
        key = f"beta_{beta:g}_final_mse_ratio".replace(".", "p")
        measured[key] = mse_ratio
        if not math.isfinite(mse_ratio):
            undefined[key] = "learned gating fit the data exactly (final MSE 0)"
    share = fraction_holding(flags) if flags else math.nan
    if not flags:
        undefined["share_of_betas_holding"] = f"no swept beta is <= {BETA_JUDGED_MAX:g}"
    return Claim(
        id="frozen_vs_beta",
        statement="DLGN models with fixed gating take more than 2000 iterations to converge to loss 0.01.",
        criterion=f"at every swept beta <= {BETA_JUDGED_MAX:g}: learned gating converges and frozen gating never "
        f"does or needs >= {FROZEN_SLOWDOWN_MIN:g}x the steps, or frozen gating ends with >= "
        f"{FROZEN_MSE_RATIO_MIN:g}x the learned MSE (larger betas reported, not judged; our calibration "
        "runs saw frozen gating converge ~2.5x slower at beta 30)",
        measured={"share_of_betas_holding": share, **measured},
        checks=[share_check(f"share of betas <= {BETA_JUDGED_MAX:g} holding", share)],
        source="figure 2 caption [Summary]; the beta dependence is ours [Pilot]",
        undefined=undefined,
    )


def hard_gate_claim(main_hard_mse: Sequence[float], sweep_hard_mse: Mapping[float, float], beta: float) -> Claim:
    """``main_hard_mse``: per seed, the hard-gate MSE of the chapter's DLGN (at ``beta``);
    ``sweep_hard_mse``: beta -> hard-gate MSE of the sweep's learned-gating DLGN."""
    main = statistics.median(main_hard_mse)
    top_beta = max(sweep_hard_mse)
    top = sweep_hard_mse[top_beta]
    return Claim(
        id="features_are_indicators",
        statement="Each feature is effectively an indicator function for a region compactly described as an "
        "intersection of (number of layers) half-spaces in the input space.",
        criterion=f"the trained soft-gate DLGN keeps its fit with hard gates 1[eta >= 0]: hard-gate MSE <= "
        f"{HARD_GATE_MSE_MAX} at the chapter's beta ({beta:g}, median over seeds) and at the sweep's "
        f"largest beta ({top_beta:g})",
        measured={"hard_gate_mse_main_beta": main, "hard_gate_mse_largest_beta": top},
        checks=[
            Check.at_most(f"hard-gate MSE at beta {beta:g}", main, HARD_GATE_MSE_MAX),
            Check.at_most(f"hard-gate MSE at beta {top_beta:g}", top, HARD_GATE_MSE_MAX),
        ],
        source="abstract ('effectively'); soft-versus-hard evaluation is ours [Pilot]",
    )


def fashion_claim(
    accuracy: Mapping[str, Sequence[float]], class_ratio_init: float, class_ratio_final: float, dataset: str
) -> Claim:
    """``accuracy``: learner key ("dlgn", "relu", "frozen", "dln") -> per-seed test accuracies (%);
    the DLGN's within/between-class overlap ratio before and after training; the data set's name."""
    mean = {key: statistics.fmean(values) for key, values in accuracy.items()}
    gain = ratio(class_ratio_final, class_ratio_init)
    measured = {
        "dlgn_accuracy": mean["dlgn"],
        "relu_accuracy": mean["relu"],
        "frozen_accuracy": mean["frozen"],
        "dln_accuracy": mean["dln"],
        "class_ratio_gain": gain,
    }
    return Claim(
        id="fashion_mnist_competitive",
        statement="DLGNs are competitive on real data (Fashion-MNIST in the paper's tables; values unread).",
        criterion=f"on {dataset} (provisional, uncalibrated): DLGN mean test accuracy >= ReLU - "
        f"{FASHION_RELU_GAP_MAX:g} points, >= deep linear net, >= frozen gating; within/between-class "
        "overlap-kernel ratio rises",
        measured=measured,
        checks=[
            Check.at_least("DLGN - ReLU (points)", mean["dlgn"] - mean["relu"], -FASHION_RELU_GAP_MAX),
            Check.at_least("DLGN - deep linear (points)", mean["dlgn"] - mean["dln"], FASHION_CONTROL_GAP_MIN),
            Check.at_least("DLGN - frozen gating (points)", mean["dlgn"] - mean["frozen"], FASHION_CONTROL_GAP_MIN),
            Check.at_least("within/between overlap ratio gain", gain, CLASS_RATIO_GAIN_MIN),
        ],
        source="[Summary] (tables listed, values unread); [Related] 'only marginally inferior to ReLU'",
        undefined=undefined_where_infinite(
            measured, {"class_ratio_gain": "no image pair across classes shares an active path"}
        ),
    )
