"""Chapter 2's claims, judged from plain measured values.

Each ``*_claim`` function takes per-seed (or per-run) lists and small dicts of them, as built
by the ``*_claim_inputs`` helpers of :mod:`linstruct.studies.early_separability.experiments`,
and returns a :class:`Claim`. Accuracies are in percentage points unless said otherwise.
A "paired" mapping is ``{task: {lambda: {column: per-seed list}}}`` with the columns
``baseline``, ``learned``, ``random``, ``ablated`` (accuracy, points), ``f`` (overall detached
fraction) and ``max_f_l`` (largest per-layer detached fraction); ``random`` may be NaN for seeds
without a random-mask control (the controls can run on fewer seeds than the masked runs).

Every criterion on a per-seed quantity judges its 95% Student-t interval over seeds
(:meth:`Check.interval_at_least` / :meth:`Check.interval_at_most`): reproduced when the whole
interval lies on the claim's side of the threshold, partly when it straddles it, not reproduced
when it lies wholly on the other side. A claim's first such check is its headline (its effect,
interval and seeds go to ``results.json``). Exact identities (pruning: logits, counts) stay plain
checks. A claim resting on the unmasked MNIST-1D CNN also carries that network's baseline check
(:func:`linstruct.core.claims.baseline_checks`): a gate that lowers ``reproduced`` to ``partly``
when the network misses its reference, and lifts nothing.
"""

from __future__ import annotations

import math
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

Paired = Mapping[float, Mapping[str, Sequence[float]]]  # lambda -> column -> per-seed values

JUDGED_ROLES = ("mnist1d", "shells")  # the real task and the task with a known linear part (digits: shown only)

# Early separability: a quarter of a layer's units is the smallest share we would call a real part of
# the layer rather than a few stray units (judged on the per-seed largest f_l at one penalty)...
EARLY_LAYER_FRACTION = 0.25
# ...and it must cost at most 1 point (baseline minus learned, paired per seed at that penalty), about
# the seed-to-seed spread of our baselines and the binomial standard error of one accuracy on 1000 test
# examples near 90% (0.95 point).
EARLY_DROP_POINTS = 1.0
# "Mostly detached": the ablation and high-detachment checks apply once 70% of the masked units have left
# (a mean over seeds: it selects where a check applies, it is not itself judged).
HIGH_FRACTION = 0.7
# Zeroing the linear path must cost clearly more than seed noise (5 points, five binomial standard errors
# of a 1000-example test accuracy) to show that the detached features are used, not merely discarded.
ABLATION_COST_POINTS = 5.0
# On the synthetic task the linear dims are 10 of 20 inputs, so a unit with no preference puts a share
# 0.5 of its squared weights on them. Kept units ignore them when their share is a tenth of that (0.05)...
SHARE_KEPT_MAX = 0.05
# ...and the most used detached units read them when they weigh them at least as much as a unit with
# no preference would (median >= 0.5).
SHARE_DETACHED_MIN = 0.5

# Cheap detachment: at a moderate share (mean f >= 0.3 of masked units) the model must stay within 1 point
# of the baseline (one binomial standard error, as above), at a high share (0.7) within 2.5 points (the
# "barely affects" we would still accept once most units have left the trunk).
MODERATE_FRACTION, MODERATE_DROP_POINTS = 0.3, 1.0
HIGH_DROP_POINTS = 2.5
# Learned masks must beat random masks at the same per-layer counts by more than the standard error of a
# paired difference of two 1000-example accuracies (about 1.3 points; 1.5) where most units are detached.
LEARNED_OVER_RANDOM_POINTS = 1.5

# Pruning removes exact zeros, so the logits may differ only by float32 rounding of the remaining sums
# (a few units in the last place of logits of order 10, about 1e-6); 1e-4 leaves a wide margin but
# would catch any dropped term that mattered.
MAX_LOGIT_DIFF = 1e-4
# Equal logits up to rounding can flip a test example only at an exact tie: at most 0.1 point.
MAX_ACCURACY_GAP_POINTS = 0.1
# Every run's counted savings must equal the formula: counting is exact arithmetic.
COUNTS_EXACT_SHARE = 1.0

# Probes may dip by up to half a point from one block to the next (a few test examples) and still
# count as non-decreasing: per seed, the smallest block-to-block change must be >= -0.5 point.
MONOTONE_SLACK_POINTS = 0.5
# Detached channels "are linearly informative" when their probe keeps 90% of the all-channel probe of
# the same block (per seed, the mean over its masked blocks): nearly all of what a linear read-out finds
# in the block, a tenth lost allowing for their being fewer channels than the whole block.
DETACHED_RATIO_MIN = 0.9

# Accuracies and fractions are ratios of counts (examples, units), so a value can sit exactly on a
# threshold (10 of 1000 test examples = 1 point); differences and means are rounded to this many
# decimals so that float noise (1.0000000000000142) does not decide such a case.
DECIMALS = 9

SOURCE = "abstract [Paper]; criteria [Reconstructed] from our calibration runs"


def mean(values: Sequence[float]) -> float:
    """Mean of the finite values (NaN marks a seed without such units), rounded to :data:`DECIMALS`;
    NaN if there are none."""
    finite = _finite(values)
    return round(sum(finite) / len(finite), DECIMALS) if finite else float("nan")


def _finite(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values if math.isfinite(v)]


def _column_difference(table: Mapping[str, Sequence[float]], a: str, b: str) -> list[float]:
    """Per seed ``a - b`` rounded to :data:`DECIMALS` (NaN where either is NaN)."""
    return [round(x - y, DECIMALS) for x, y in zip(table[a], table[b], strict=True)]


_SCORE = {"pass": 2, "partly": 1, "fail": 0}


def _early_at(role: str, lam: float, table: Mapping[str, Sequence[float]]) -> tuple[Check, Check]:
    """At one penalty: the per-seed largest layer fraction and the per-seed drop, each by its interval."""
    return (
        Check.interval_at_least(
            f"{role}, lambda {lam:g}: largest layer fraction f_l", table["max_f_l"], EARLY_LAYER_FRACTION
        ),
        Check.interval_at_most(
            f"{role}, lambda {lam:g}: baseline - learned (pt)",
            _column_difference(table, "baseline", "learned"),
            EARLY_DROP_POINTS,
        ),
    )


def _best_penalty(pairs: Mapping[float, tuple[Check, Check]]) -> float:
    """The penalty whose weaker check is best (then the better sum; then the smallest penalty)."""
    scores = {lam: tuple(_SCORE[c.status] for c in checks) for lam, checks in pairs.items()}
    return max(sorted(pairs), key=lambda lam: (min(scores[lam]), sum(scores[lam])))


def early_claim(
    paired: Mapping[str, Paired],
    *,
    share_kept: Sequence[float],
    share_detached_top: Sequence[float],
    f_first: Sequence[float],
    f_second: Sequence[float],
    baselines: Sequence[Baseline] = (),
) -> Claim:
    """At some penalty the per-seed largest layer fraction has its interval >= 0.25 and the per-seed
    drop <= 1 point (MNIST-1D, shells; the headline is MNIST-1D's fraction); zeroing the linear path
    costs >= 5 points where the mean f >= 0.7; on the synthetic task the kept layer-1 units ignore the
    linear dims (share <= 0.05) and the most used detached units read them (median share >= 0.5).

    ``share_kept``, ``share_detached_top``, ``f_first``, ``f_second``: per seed of the shells task
    at its smallest penalty (NaN shares: no kept / no detached unit in that seed, left out).
    ``baselines``: the unmasked networks the drops are measured from, against their references.
    """
    measured, checks, undefined = {}, [], {}
    for role in JUDGED_ROLES:
        runs = paired[role]
        pairs = {lam: _early_at(role, lam, table) for lam, table in runs.items()}
        lam = _best_penalty(pairs)
        fraction, drop = pairs[lam]
        checks += [fraction, drop]
        low, high = fraction.effect.interval
        measured |= {
            f"lam_early_{role}": lam,
            f"f_early_{role}": fraction.effect.mean,
            f"f_early_low_{role}": low,
            f"f_early_high_{role}": high,
            f"drop_early_{role}": drop.effect.mean,
            f"drop_early_high_{role}": drop.effect.interval[1],
        }
        high_runs = runs[max(runs)]
        cost = _column_difference(high_runs, "learned", "ablated")
        measured[f"ablation_cost_{role}"] = mean(cost)
        measured[f"f_high_{role}"] = mean(high_runs["f"])
        if measured[f"f_high_{role}"] >= HIGH_FRACTION:
            check = Check.interval_at_least(
                f"{role}: cost of zeroing the linear path at mean f >= {HIGH_FRACTION:g} (pt)",
                cost,
                ABLATION_COST_POINTS,
            )
            checks.append(check)
            measured[f"ablation_cost_low_{role}"] = check.effect.interval[0]
    measured["share_kept"], measured["share_detached_top"] = mean(share_kept), mean(share_detached_top)
    if math.isnan(measured["share_kept"]):
        undefined["share_kept"] = "every layer-1 unit was detached in every seed"
    if math.isnan(measured["share_detached_top"]):
        undefined["share_detached_top"] = "no layer-1 unit was detached in any seed"
    checks.append(
        defined_interval_at_most("shells, layer 1: linear-dim weight share of kept units", share_kept, SHARE_KEPT_MAX)
    )
    checks.append(
        defined_interval_at_least(
            "shells, layer 1: median share of the most used detached units",
            share_detached_top,
            SHARE_DETACHED_MIN,
        )
    )
    measured["shells_deeper_more_detached"] = fraction_holding(
        [second > first for first, second in zip(f_first, f_second, strict=True)]
    )
    return Claim(
        id="f1_early_separable",
        statement="Some features reach the linearly separable space earlier than the others and can be "
        "detached partly from the network.",
        criterion=f"95% intervals over seeds: at some penalty, the largest per-layer detached fraction >= "
        f"{EARLY_LAYER_FRACTION:g} and baseline minus learned <= {EARLY_DROP_POINTS:g} point (MNIST-1D and the "
        f"synthetic task); zeroing the detached path costs >= {ABLATION_COST_POINTS:g} points where mean f >= "
        f"{HIGH_FRACTION:g}; synthetic layer 1: kept units' linear-dim share <= {SHARE_KEPT_MAX:g}, the most used "
        f"detached units' median >= {SHARE_DETACHED_MIN:g} (partly: an interval straddles its threshold); the "
        "unmasked CNN at its reference",
        measured=measured,
        checks=[*checks, *baseline_checks(baselines)],
        source=SOURCE,
        undefined=undefined,
    )


def detachment_claim(paired: Mapping[str, Paired], baselines: Sequence[Baseline] = ()) -> Claim:
    """At the penalty with the smallest mean drop among those with mean f >= 0.3 (>= 0.7), the
    per-seed drop has its interval <= 1 (<= 2.5) points, and learned minus random masks at the
    largest penalty, where its mean f >= 0.7, has its interval >= 1.5 points (MNIST-1D and shells;
    seeds without a random-mask control are left out of that difference)."""
    measured, checks, undefined = {}, [], {}
    for role in JUDGED_ROLES:
        runs = paired[role]
        per_lam = {lam: runs[lam] for lam in sorted(runs)}
        for bound, drop in ((MODERATE_FRACTION, MODERATE_DROP_POINTS), (HIGH_FRACTION, HIGH_DROP_POINTS)):
            drops = {
                lam: _column_difference(t, "baseline", "learned") for lam, t in per_lam.items() if mean(t["f"]) >= bound
            }
            key = f"drop_at_f{round(10 * bound)}_{role}"
            if drops:
                lam = min(drops, key=lambda lam: mean(drops[lam]))
                measured[key] = mean(drops[lam])
                checks.append(
                    Check.interval_at_most(
                        f"{role}: drop at lambda {lam:g}, the smallest with mean f >= {bound:g} (pt)", drops[lam], drop
                    )
                )
            else:
                measured[key] = float("nan")
                undefined[key] = f"no penalty reached a mean f >= {bound:g}"
                checks.append(Check(f"{role}: no penalty reached a mean f >= {bound:g}", False))
        high, low = per_lam[max(per_lam)], per_lam[min(per_lam)]
        gaps = _finite(_column_difference(high, "learned", "random"))
        measured[f"learned_minus_random_high_{role}"] = mean(gaps)
        measured[f"seeds_learned_beats_random_{role}"] = fraction_holding([d > 0 for d in gaps]) if gaps else 0.0
        if math.isnan(measured[f"learned_minus_random_high_{role}"]):
            undefined[f"learned_minus_random_high_{role}"] = "no seed has a random-mask control"
        if mean(high["f"]) >= HIGH_FRACTION:
            checks.append(
                defined_interval_at_least(
                    f"{role}: learned minus random masks at mean f >= {HIGH_FRACTION:g} (pt)",
                    gaps,
                    LEARNED_OVER_RANDOM_POINTS,
                )
            )
        measured[f"learned_minus_random_low_{role}"] = mean(_column_difference(low, "learned", "random"))
        if math.isnan(measured[f"learned_minus_random_low_{role}"]):
            undefined[f"learned_minus_random_low_{role}"] = "no seed has a random-mask control"
    return Claim(
        id="f2_detachment_cheap",
        statement="Partial feature detachment barely affects the model's performance.",
        criterion=f"95% intervals over seeds: baseline minus learned <= {MODERATE_DROP_POINTS:g} point at some "
        f"penalty with mean f >= {MODERATE_FRACTION:g} and <= {HIGH_DROP_POINTS:g} points at some penalty with "
        f"mean f >= {HIGH_FRACTION:g} (the one with the smallest mean drop); learned minus random masks at equal "
        f"per-layer fractions >= {LEARNED_OVER_RANDOM_POINTS:g} points at the largest penalty where its mean f >= "
        f"{HIGH_FRACTION:g} (partly: an interval straddles its threshold); the unmasked CNN at its reference",
        measured=measured,
        checks=[*checks, *baseline_checks(baselines)],
        source=SOURCE,
        undefined=undefined,
    )


def pruning_claim(runs: Mapping[str, Sequence[float]], mnist1d_high: Mapping[str, Sequence[float]]) -> Claim:
    """Pruned logits equal masked logits (< 1e-4), accuracy equal within 0.1 point, and the weight
    and MAC savings equal the predicted formula, in every learned run.

    ``runs``: per learned run of every task, the columns ``max_logit_diff``, ``accuracy``,
    ``pruned_accuracy`` (fractions), ``weights``, ``weights_pruned``, ``weights_predicted_saving``,
    ``macs``, ``macs_pruned``, ``macs_predicted_saving``; ``mnist1d_high``: the same (and
    ``trunk_saving``) per seed of MNIST-1D at the largest penalty, for the reported savings.
    """

    def exact(i: int) -> bool:
        return (
            runs["weights"][i] - runs["weights_pruned"][i] == runs["weights_predicted_saving"][i]
            and runs["macs"][i] - runs["macs_pruned"][i] == runs["macs_predicted_saving"][i]
        )

    high = mnist1d_high
    measured = {
        "max_logit_diff": max(runs["max_logit_diff"]),
        "max_accuracy_gap": round(
            100 * max(abs(a - b) for a, b in zip(runs["accuracy"], runs["pruned_accuracy"], strict=True)), DECIMALS
        ),
        "runs_counts_exact": fraction_holding([exact(i) for i in range(len(runs["weights"]))]),
        "weight_saving_mnist1d": mean([1 - p / w for p, w in zip(high["weights_pruned"], high["weights"])]),
        "trunk_saving_mnist1d": mean([t / w for t, w in zip(high["trunk_saving"], high["weights"])]),
        "mac_saving_mnist1d": mean([1 - p / m for p, m in zip(high["macs_pruned"], high["macs"])]),
        "accuracy_mnist1d": 100 * mean(high["accuracy"]),
    }
    checks = [
        Check.at_most("largest |pruned - masked| logit difference", measured["max_logit_diff"], MAX_LOGIT_DIFF),
        Check.at_most(
            "largest |pruned - masked| accuracy difference (pt)", measured["max_accuracy_gap"], MAX_ACCURACY_GAP_POINTS
        ),
        Check.at_least(
            "share of runs whose weight and MAC savings equal the formula",
            measured["runs_counts_exact"],
            COUNTS_EXACT_SHARE,
        ),
    ]
    return Claim(
        id="f3_pruning_exact",
        statement="The method provides a readily feasible pruning strategy which barely affects the "
        "performance of the original model.",
        criterion=f"physically removing detached channels changes no logit by more than {MAX_LOGIT_DIFF:g} and no "
        f"accuracy by more than {MAX_ACCURACY_GAP_POINTS:g} points, and saves exactly the predicted weights "
        "and multiply-accumulates, in every masked run",
        measured=measured,
        checks=checks,
        source="abstract [Paper]; exactness [Reconstructed]",
    )


def probe_claim(
    baseline_blocks: Sequence[Sequence[float]],
    all_channels: Sequence[Sequence[float]],
    detached: Sequence[Sequence[float]],
    kept: Sequence[Sequence[float]],
    baselines: Sequence[Baseline] = (),
) -> Claim:
    """Per seed, the smallest block-to-block change of the all-channel probes from the second block
    on has its interval >= -0.5 point; per seed, detached-channel probes keep on average (over its
    masked blocks) >= 90% of their block's all-channel probe, by the interval over seeds.

    ``baseline_blocks``: per seed, the baseline's all-channel probe accuracies (fractions) of the
    second to the last block, in order; ``all_channels``, ``detached``, ``kept``: per seed of the
    learned runs, per masked block, the probe accuracies on those channels (NaN: no such channel;
    a seed with no finite ratio is left out). ``baselines``: the probed unmasked network.
    """
    steps = []
    for blocks in baseline_blocks:
        if len(blocks) < 2:
            raise ValueError(f"need probes of at least two blocks per seed, got {list(blocks)}")
        steps.append(min(round(100 * (b - a), DECIMALS) for a, b in zip(blocks[:-1], blocks[1:])))

    def ratios(part: Sequence[Sequence[float]]) -> list[float]:
        per_seed = [
            mean([p / a for p, a in zip(ps, alls, strict=True)]) for ps, alls in zip(part, all_channels, strict=True)
        ]
        return _finite(per_seed)

    detached_ratios, kept_ratios = ratios(detached), ratios(kept)
    monotone = Check.interval_at_least(
        "smallest block-to-block change of the baseline's probes from the second block (pt)",
        steps,
        -MONOTONE_SLACK_POINTS,
    )
    measured = {
        "smallest_step": monotone.effect.mean,
        "smallest_step_low": monotone.effect.interval[0],
        "seeds_monotone": monotone.seed_share,
        "detached_over_all": mean(detached_ratios),
        "kept_over_all": mean(kept_ratios),
    }
    undefined = {}
    if not detached_ratios:
        undefined["detached_over_all"] = "no masked block detached any channel"
    if not kept_ratios:
        undefined["kept_over_all"] = "every masked block detached every channel"
    checks = [
        monotone,
        defined_interval_at_least(
            "detached-channel / all-channel probe accuracy, per seed the mean over its blocks",
            detached_ratios,
            DETACHED_RATIO_MIN,
        ),
    ]
    return Claim(
        id="p_probes",
        statement="(Our addition, not the paper's) Linear decodability grows with depth, and the channels the "
        "mask detaches are themselves linearly informative.",
        criterion=f"MNIST-1D, 95% intervals over seeds: the smallest change of the all-channel probes from one "
        f"block to the next (second block to the last) >= -{MONOTONE_SLACK_POINTS:g} point; detached-channel probes "
        f"reach >= {DETACHED_RATIO_MIN:.0%} of the all-channel probe of their block (partly: an interval straddles "
        "its threshold); the unmasked CNN at its reference",
        measured=measured,
        checks=[*checks, *baseline_checks(baselines)],
        source="Alain & Bengio probes [Related]; criteria [Reconstructed]",
        undefined=undefined,
    )
