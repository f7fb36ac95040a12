"""Chapter 2's claim criteria on inputs each side of, and exactly at, every threshold.

Per-seed criteria judge a 95% t-interval: constant per-seed values give an interval of width zero at
the value (exactly at a threshold: it passes), values on both sides of a threshold give one that
straddles it (partly).
"""

import math

import pytest

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Baseline
from linstruct.studies.early_separability import claims as cl

NAN = float("nan")
MET = Baseline("unmasked CNN 16x4 (40 epochs)", "mnist1d", 95.0, 91.0, "test reference")
MISSED = Baseline("unmasked CNN 16x4 (40 epochs)", "mnist1d", 80.0, 91.0, "test reference")


def table(n: int = 3, *, baseline=80.0, learned=80.0, random=80.0, ablated=80.0, f=0.5, max_f_l=0.5):
    """One penalty's paired per-seed values, every seed alike (a list argument sets them per seed)."""

    def per_seed(v):
        return list(v) if isinstance(v, list) else [v] * n

    return {
        "baseline": per_seed(baseline),
        "learned": per_seed(learned),
        "random": per_seed(random),
        "ablated": per_seed(ablated),
        "f": per_seed(f),
        "max_f_l": per_seed(max_f_l),
    }


def statuses(claim):
    return [c.status for c in claim.checks]


def status_of(claim, text):
    """The status of the one check whose description contains ``text``."""
    (found,) = [c.status for c in claim.checks if text in c.description]
    return found


# ------------------------------------------------------------------ early separability


def good_task():
    """Detaches 0.4 of a layer at no cost at the small penalty; most units detached at the largest
    penalty, whose linear path costs 10 points."""
    return {0.03: table(max_f_l=0.4, f=0.3), 0.1: table(learned=79.5, ablated=69.5, f=0.8, max_f_l=0.9)}


def early(
    paired=None,
    *,
    share_kept=(0.01,) * 3,
    share_detached_top=(0.8,) * 3,
    f_first=(0.2,) * 3,
    f_second=(0.4,) * 3,
    baselines=(),
):
    paired = paired or {"mnist1d": good_task(), "shells": good_task()}
    return cl.early_claim(
        paired,
        share_kept=list(share_kept),
        share_detached_top=list(share_detached_top),
        f_first=list(f_first),
        f_second=list(f_second),
        baselines=baselines,
    )


def test_early_claim_reproduced_on_good_inputs_with_the_mnist1d_fraction_as_headline():
    claim = early()
    assert claim.id == "f1_early_separable" and claim.verdict == REPRODUCED
    assert len(claim.checks) == 8  # per task: fraction, drop, ablation; two weight shares
    assert claim.measured["ablation_cost_mnist1d"] == pytest.approx(10.0)
    assert claim.measured["f_high_shells"] == pytest.approx(0.8)
    assert claim.measured["shells_deeper_more_detached"] == 1.0
    record = claim.as_record()
    assert "mnist1d" in claim.headline.description and "largest layer fraction" in claim.headline.description
    # both penalties pass both checks: the tie goes to the smaller penalty, whose fraction is 0.4
    assert record["seeds"] == 3 and record["interval"] == [pytest.approx(0.4)] * 2
    assert claim.measured["lam_early_mnist1d"] == 0.03


@pytest.mark.parametrize(
    "max_f_l, status",
    [
        (0.25, "pass"),  # the interval exactly at the threshold: inclusive
        (0.24, "fail"),  # wholly below
        ([0.15, 0.35, 0.25], "partly"),  # mean 0.25, the interval straddles it
        ([0.34, 0.36, 0.35], "pass"),  # spread, but the whole interval above
    ],
)
def test_early_layer_fraction_threshold(max_f_l, status):
    assert cl.EARLY_LAYER_FRACTION == 0.25
    task = {0.1: table(max_f_l=max_f_l, f=0.5)}  # f < 0.7: no ablation check
    claim = early({"mnist1d": task, "shells": good_task()})
    assert statuses(claim)[0] == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


@pytest.mark.parametrize(
    "learned, status",
    [
        (79.0, "pass"),  # a drop of exactly 1 point
        (78.99, "fail"),
        ([78.0, 80.0, 79.0], "partly"),  # drops 2, 0, 1: the interval straddles 1
    ],
)
def test_early_drop_threshold(learned, status):
    assert cl.EARLY_DROP_POINTS == 1.0
    task = {0.1: table(learned=learned, max_f_l=0.5, f=0.5)}
    claim = early({"mnist1d": task, "shells": good_task()})
    assert statuses(claim)[1] == status


def test_early_takes_the_penalty_whose_weaker_check_is_best():
    # the small penalty detaches too little, the large one enough at no cost
    task = {0.03: table(max_f_l=0.1, f=0.1), 0.1: table(max_f_l=0.3, f=0.5)}
    claim = early({"mnist1d": task, "shells": good_task()})
    assert claim.measured["lam_early_mnist1d"] == 0.1 and statuses(claim)[:2] == ["pass", "pass"]
    # the large one detaches plenty but costs 3 points: the small one, with a straddling fraction, is better
    task = {0.03: table(max_f_l=[0.15, 0.35, 0.25], f=0.3), 0.1: table(learned=77.0, max_f_l=0.9, f=0.5)}
    claim = early({"mnist1d": task, "shells": good_task()})
    assert claim.measured["lam_early_mnist1d"] == 0.03 and statuses(claim)[:2] == ["partly", "pass"]
    # a tie goes to the smaller penalty
    task = {0.03: table(max_f_l=0.3, f=0.3), 0.1: table(max_f_l=0.3, f=0.5)}
    assert early({"mnist1d": task, "shells": good_task()}).measured["lam_early_mnist1d"] == 0.03


@pytest.mark.parametrize("f_high, checked", [(0.7, True), (0.69, False)])
def test_ablation_is_checked_only_from_the_high_fraction_on(f_high, checked):
    assert cl.HIGH_FRACTION == 0.7
    task = {0.1: table(ablated=75.0, f=f_high, max_f_l=0.9)}
    claim = early({"mnist1d": task, "shells": good_task()})
    names = [c.description for c in claim.checks]
    assert any("mnist1d: cost of zeroing" in n for n in names) == checked


@pytest.mark.parametrize(
    "ablated, status",
    [(75.0, "pass"), (75.01, "fail"), ([73.0, 77.0, 75.0], "partly"), ([70.0, 72.0, 71.0], "pass")],
)
def test_ablation_cost_threshold(ablated, status):
    assert cl.ABLATION_COST_POINTS == 5.0
    task = {0.1: table(learned=80.0, ablated=ablated, f=0.8, max_f_l=0.9)}
    claim = early({"mnist1d": task, "shells": good_task()})
    assert status_of(claim, "mnist1d: cost of zeroing") == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


@pytest.mark.parametrize("share, status", [(0.05, "pass"), (0.051, "fail"), ([0.0, 0.1, 0.05, 0.05], "partly")])
def test_kept_units_weight_share_threshold(share, status):
    assert cl.SHARE_KEPT_MAX == 0.05
    # four seeds: 0.05 * 3 sums to 0.15000000000000002 in floats, 0.05 * 4 to 0.2 exactly
    claim = early(share_kept=share if isinstance(share, list) else [share] * 4)
    assert statuses(claim)[-2] == status


@pytest.mark.parametrize("share, status", [(0.5, "pass"), (0.49, "fail"), ([0.3, 0.7, 0.5], "partly")])
def test_detached_units_weight_share_threshold(share, status):
    assert cl.SHARE_DETACHED_MIN == 0.5
    claim = early(share_detached_top=share if isinstance(share, list) else [share] * 3)
    assert statuses(claim)[-1] == status


def test_weight_shares_skip_seeds_without_such_units_and_are_undefined_without_any():
    claim = early(share_kept=[0.03, NAN, 0.03], share_detached_top=[NAN] * 3)
    assert claim.measured["share_kept"] == pytest.approx(0.03)
    assert "over 2 seed(s)" in claim.checks[-2].description and statuses(claim)[-2] == "pass"
    assert math.isnan(claim.measured["share_detached_top"])
    assert "share_detached_top" in claim.undefined and "share_kept" not in claim.undefined
    assert statuses(claim)[-1] == "fail"


def test_only_failing_checks_give_not_reproduced():
    bad = {0.1: table(learned=70.0, ablated=70.0, f=0.8, max_f_l=0.1)}
    claim = early({"mnist1d": bad, "shells": bad}, share_kept=[0.5] * 3, share_detached_top=[0.0] * 3)
    assert set(statuses(claim)) == {"fail"} and claim.verdict == NOT_REPRODUCED


def test_a_missed_baseline_lowers_reproduced_to_partly_and_a_met_one_lifts_nothing():
    assert early(baselines=[MET]).verdict == REPRODUCED
    missed = early(baselines=[MISSED])
    assert missed.verdict == PARTLY and statuses(missed)[-1] == "fail" and missed.checks[-1].gate
    straddling = {"mnist1d": {0.1: table(max_f_l=[0.15, 0.35, 0.25], f=0.5)}, "shells": good_task()}
    assert early(straddling, baselines=[MET]).verdict == PARTLY
    bad = {0.1: table(learned=70.0, ablated=70.0, f=0.8, max_f_l=0.1)}
    kwargs = dict(share_kept=[0.5] * 3, share_detached_top=[0.0] * 3)
    assert early({"mnist1d": bad, "shells": bad}, baselines=[MET], **kwargs).verdict == NOT_REPRODUCED
    assert early({"mnist1d": bad, "shells": bad}, baselines=[MISSED], **kwargs).verdict == NOT_REPRODUCED


def test_a_control_without_a_reference_adds_no_check():
    control = Baseline("frozen control MLP", "shells", 50.0, None, "none")
    assert len(early(baselines=[control]).checks) == len(early().checks)


# ------------------------------------------------------------------ cheap detachment


def cheap_task(*, moderate_drop=0.5, high_drop=2.0, learned_minus_random=2.0, f_high=0.8):
    """A list argument sets per-seed values."""

    def minus(a, b):
        return [a - x for x in b] if isinstance(b, list) else a - b

    high = minus(80.0, high_drop)
    return {
        0.03: table(learned=minus(80.0, moderate_drop), random=minus(80.0, moderate_drop), f=0.3),
        0.1: table(
            learned=high,
            random=[
                h - g for h, g in zip(table(learned=high)["learned"], table(random=learned_minus_random)["random"])
            ],
            f=f_high,
        ),
    }


def detachment(mnist1d, shells=None, baselines=()):
    return cl.detachment_claim({"mnist1d": mnist1d, "shells": shells or cheap_task()}, baselines=baselines)


def test_detachment_claim_reproduced_on_good_inputs():
    claim = detachment(cheap_task())
    assert claim.id == "f2_detachment_cheap" and claim.verdict == REPRODUCED
    assert claim.measured["drop_at_f3_mnist1d"] == pytest.approx(0.5)  # the smaller of the two drops
    assert claim.measured["drop_at_f7_mnist1d"] == pytest.approx(2.0)
    assert claim.measured["learned_minus_random_high_mnist1d"] == pytest.approx(2.0)
    assert claim.measured["learned_minus_random_low_mnist1d"] == pytest.approx(0.0)
    assert claim.measured["seeds_learned_beats_random_mnist1d"] == 1.0
    assert "drop at lambda 0.03" in claim.headline.description


@pytest.mark.parametrize("drop, status", [(1.0, "pass"), (1.01, "fail"), ([0.0, 2.0, 1.0], "partly")])
def test_moderate_fraction_drop_threshold(drop, status):
    assert (cl.MODERATE_FRACTION, cl.MODERATE_DROP_POINTS) == (0.3, 1.0)
    # the high-f penalty drops more, so the smallest drop at f >= 0.3 is the moderate one
    claim = detachment(cheap_task(moderate_drop=drop, high_drop=2.5))
    assert statuses(claim)[0] == status


@pytest.mark.parametrize("drop, status", [(2.5, "pass"), (2.51, "fail"), ([1.5, 3.5, 2.5], "partly")])
def test_high_fraction_drop_threshold(drop, status):
    assert cl.HIGH_DROP_POINTS == 2.5
    claim = detachment(cheap_task(moderate_drop=5.0, high_drop=drop))
    assert statuses(claim)[1] == status


def test_mean_fraction_exactly_at_the_bound_counts_and_below_is_undefined():
    at = detachment({0.1: table(learned=79.0, random=79.0, f=0.3)})
    assert at.measured["drop_at_f3_mnist1d"] == pytest.approx(1.0) and statuses(at)[0] == "pass"
    below = detachment({0.1: table(learned=79.0, random=79.0, f=0.29)})
    assert math.isnan(below.measured["drop_at_f3_mnist1d"]) and "drop_at_f3_mnist1d" in below.undefined
    assert math.isnan(below.measured["drop_at_f7_mnist1d"]) and "drop_at_f7_mnist1d" in below.undefined
    assert statuses(below)[:2] == ["fail", "fail"]
    assert "no penalty reached a mean f >= 0.3" in below.checks[0].description


@pytest.mark.parametrize("gap, status", [(1.5, "pass"), (1.49, "fail"), ([0.5, 2.5, 1.5], "partly")])
def test_learned_minus_random_threshold(gap, status):
    assert cl.LEARNED_OVER_RANDOM_POINTS == 1.5
    claim = detachment(cheap_task(learned_minus_random=gap))
    assert statuses(claim)[2] == status


@pytest.mark.parametrize("f_high, checks", [(0.7, 3), (0.69, 2)])
def test_random_mask_control_is_checked_only_from_the_high_fraction_on(f_high, checks):
    claim = detachment(cheap_task(f_high=f_high, learned_minus_random=-5.0))
    mnist_checks = [c for c in claim.checks if c.description.startswith("mnist1d")]
    assert len(mnist_checks) == checks


def test_seeds_without_a_random_control_are_left_out_and_none_at_all_fails():
    task = cheap_task(learned_minus_random=[2.0, 2.0, NAN])
    claim = detachment(task)
    assert statuses(claim)[2] == "pass" and "over 2 seed(s)" in claim.checks[2].description
    none = detachment(cheap_task(learned_minus_random=[NAN] * 3))
    assert statuses(none)[2] == "fail" and "learned_minus_random_high_mnist1d" in none.undefined


def test_detachment_baseline_is_a_gate():
    assert detachment(cheap_task(), baselines=[MET]).verdict == REPRODUCED
    assert detachment(cheap_task(), baselines=[MISSED]).verdict == PARTLY
    assert detachment(cheap_task(learned_minus_random=[0.5, 2.5, 1.5]), baselines=[MET]).verdict == PARTLY


# ------------------------------------------------------------------ pruning


def pruning_runs(n=2, *, logit=1e-6, accuracy=(0.9, 0.9), weights_ok=True, macs_ok=True):
    runs = {
        "max_logit_diff": [logit] * n,
        "accuracy": [accuracy[0]] * n,
        "pruned_accuracy": [accuracy[1]] * n,
        "weights": [1000.0] * n,
        "weights_pruned": [400.0] * n,
        "weights_predicted_saving": [600.0 if weights_ok else 599.0] * n,
        "macs": [5000.0] * n,
        "macs_pruned": [2000.0] * n,
        "macs_predicted_saving": [3000.0 if macs_ok else 3001.0] * n,
        "trunk_saving": [500.0] * n,
    }
    return runs


def pruning(runs):
    return cl.pruning_claim(runs, pruning_runs())


def test_pruning_claim_reproduced_and_savings_reported():
    claim = pruning(pruning_runs())
    assert claim.id == "f3_pruning_exact" and claim.verdict == REPRODUCED
    assert claim.measured["weight_saving_mnist1d"] == pytest.approx(0.6)
    assert claim.measured["trunk_saving_mnist1d"] == pytest.approx(0.5)
    assert claim.measured["mac_saving_mnist1d"] == pytest.approx(0.6)
    assert claim.measured["accuracy_mnist1d"] == pytest.approx(90.0)


@pytest.mark.parametrize("logit, status", [(1e-4, "pass"), (1.01e-4, "fail")])
def test_logit_difference_threshold(logit, status):
    assert statuses(pruning(pruning_runs(logit=logit)))[0] == status


@pytest.mark.parametrize(
    "pruned, status",
    [
        (0.875, "pass"),  # 1 of 1000 test examples flipped: exactly 0.1 point (100 * 0.001 rounds above 0.1)
        (0.8749, "fail"),
    ],
)
def test_accuracy_gap_threshold_is_inclusive(pruned, status):
    assert cl.MAX_ACCURACY_GAP_POINTS == 0.1
    claim = pruning(pruning_runs(accuracy=(0.876, pruned)))
    assert claim.measured["max_accuracy_gap"] == pytest.approx(100 * (0.876 - pruned))
    assert statuses(claim)[1] == status


@pytest.mark.parametrize("weights_ok, macs_ok", [(False, True), (True, False)])
def test_any_count_off_by_one_fails_the_exactness_check(weights_ok, macs_ok):
    runs = pruning_runs(weights_ok=weights_ok, macs_ok=macs_ok)
    runs = {k: v + pruning_runs(1)[k] for k, v in runs.items()}  # one good run of three
    claim = pruning(runs)
    assert claim.measured["runs_counts_exact"] == pytest.approx(1 / 3)
    assert statuses(claim) == ["pass", "pass", "fail"] and claim.verdict == PARTLY


# ------------------------------------------------------------------ probes


def probes(
    blocks=((0.7, 0.75, 0.8),) * 3,
    all_channels=((0.8, 0.8),) * 3,
    detached=((0.78, 0.76),) * 3,
    kept=((0.6, 0.7),) * 3,
    baselines=(),
):
    return cl.probe_claim(
        [list(b) for b in blocks],
        [list(a) for a in all_channels],
        [list(d) for d in detached],
        [list(k) for k in kept],
        baselines=baselines,
    )


def test_probe_claim_reproduced_on_good_inputs():
    claim = probes()
    assert claim.id == "p_probes" and claim.verdict == REPRODUCED
    assert claim.measured["smallest_step"] == pytest.approx(5.0)
    assert claim.measured["detached_over_all"] == pytest.approx((0.78 + 0.76) / 1.6)
    assert claim.measured["kept_over_all"] == pytest.approx(1.3 / 1.6)
    assert claim.as_record()["seeds"] == 3


@pytest.mark.parametrize(
    "seconds, status",
    [
        ((0.495,) * 3, "pass"),  # a dip of exactly the half-point slack
        ((0.494,) * 3, "fail"),
        ((0.485, 0.505, 0.495), "partly"),  # dips of 1.5, -0.5 (a rise), 0.5: straddles
    ],
)
def test_monotone_slack_is_half_a_point_inclusive(seconds, status):
    assert cl.MONOTONE_SLACK_POINTS == 0.5
    claim = probes(blocks=[(0.5, s) for s in seconds])
    assert statuses(claim)[0] == status


def test_the_smallest_step_of_each_seed_counts():
    claim = probes(blocks=[(0.7, 0.8, 0.79)] * 3)  # up 10 points, then down 1
    assert claim.measured["smallest_step"] == pytest.approx(-1.0) and statuses(claim)[0] == "fail"
    assert claim.measured["seeds_monotone"] == 0.0


@pytest.mark.parametrize("ratio, status", [(0.9, "pass"), (0.89, "fail"), ((0.8, 1.0, 0.9), "partly")])
def test_detached_ratio_threshold(ratio, status):
    assert cl.DETACHED_RATIO_MIN == 0.9
    ratios = ratio if isinstance(ratio, tuple) else (ratio,) * 3
    claim = probes(all_channels=[(1.0,)] * 3, detached=[(r,) for r in ratios], kept=[(0.5,)] * 3)
    assert statuses(claim)[1] == status


def test_empty_subsets_are_skipped_and_none_at_all_is_undefined():
    claim = probes(all_channels=[(0.8, 0.5)], detached=[(0.8, NAN)], kept=[(NAN, 0.5)], blocks=[(0.7, 0.8)])
    assert claim.measured["detached_over_all"] == 1.0 and claim.measured["kept_over_all"] == 1.0
    none = probes(all_channels=[(0.8,)], detached=[(NAN,)], kept=[(0.4,)], blocks=[(0.7, 0.8)])
    assert math.isnan(none.measured["detached_over_all"]) and "detached_over_all" in none.undefined
    assert statuses(none)[1] == "fail"


def test_probes_need_two_blocks_per_seed():
    with pytest.raises(ValueError, match="two blocks"):
        probes(blocks=[(0.7,)])


def test_probe_baseline_is_a_gate():
    assert probes(baselines=[MET]).verdict == REPRODUCED
    assert probes(baselines=[MISSED]).verdict == PARTLY
