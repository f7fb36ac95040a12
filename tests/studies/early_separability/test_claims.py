"""Chapter 2's claim criteria on inputs each side of, and exactly at, every threshold."""

import math

import pytest

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED
from linstruct.studies.early_separability import claims as cl

NAN = float("nan")


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


# ------------------------------------------------------------------ early separability


def good_task():
    """Detaches a third of a layer at no cost; most units detached at the largest penalty, whose
    linear path costs 10 points."""
    return {0.03: table(max_f_l=0.4, f=0.3), 0.1: table(learned=79.5, ablated=69.5, f=0.8, max_f_l=0.9)}


def early(
    paired=None, *, share_kept=(0.01,) * 3, share_detached_top=(0.8,) * 3, f_first=(0.2,) * 3, f_second=(0.4,) * 3
):
    paired = paired or {"mnist1d": good_task(), "shells": good_task()}
    return cl.early_claim(
        paired,
        share_kept=list(share_kept),
        share_detached_top=list(share_detached_top),
        f_first=list(f_first),
        f_second=list(f_second),
    )


def statuses(claim):
    return [c.status for c in claim.checks]


def test_early_claim_reproduced_on_good_inputs():
    claim = early()
    assert claim.id == "f1_early_separable" and claim.verdict == REPRODUCED
    assert len(claim.checks) == 6  # early share and ablation per task, two weight shares
    assert claim.measured["ablation_cost_mnist1d"] == pytest.approx(10.0)
    assert claim.measured["f_high_shells"] == pytest.approx(0.8)
    assert claim.measured["shells_deeper_more_detached"] == 1.0


@pytest.mark.parametrize(
    "max_f_l, drop, holds",
    [
        (0.25, 1.0, True),  # both exactly at their thresholds: inclusive
        (0.24, 0.0, False),  # too small a share of the layer
        (0.5, 1.01, False),  # too costly
    ],
)
def test_early_layer_fraction_and_drop_thresholds(max_f_l, drop, holds):
    assert (cl.EARLY_LAYER_FRACTION, cl.EARLY_DROP_POINTS) == (0.25, 1.0)
    task = {0.1: table(learned=80.0 - drop, max_f_l=max_f_l, f=0.5)}  # f < 0.7: no ablation check
    claim = early({"mnist1d": task, "shells": good_task()})
    assert claim.measured["seeds_early_mnist1d"] == (1.0 if holds else 0.0)
    assert statuses(claim)[0] == ("pass" if holds else "fail")


def test_early_holds_if_any_penalty_qualifies_per_seed():
    # seed 0 qualifies only at the small penalty, seed 1 only at the large one, seed 2 at neither
    task = {0.03: table(max_f_l=[0.3, 0.1, 0.1], f=0.2), 0.1: table(max_f_l=[0.1, 0.3, 0.1], f=0.2)}
    claim = early({"mnist1d": task, "shells": good_task()})
    assert claim.measured["seeds_early_mnist1d"] == pytest.approx(2 / 3)
    assert statuses(claim)[0] == "partly" and claim.verdict == PARTLY


@pytest.mark.parametrize("qualifying, status", [(5, "pass"), (4, "pass"), (3, "partly"), (2, "fail")])
def test_early_seed_share_bands(qualifying, status):
    assert (cl.SEED_SHARE, cl.PARTLY_SEED_SHARE) == (0.8, 0.5)
    task = {0.1: table(5, max_f_l=[0.5] * qualifying + [0.0] * (5 - qualifying), f=0.5)}
    claim = early(
        {"mnist1d": task, "shells": good_task()},
        share_kept=[0.01] * 5,
        share_detached_top=[0.8] * 5,
        f_first=[0.1] * 5,
        f_second=[0.2] * 5,
    )
    assert statuses(claim)[0] == status


def test_partly_seed_share_is_inclusive():
    task = {0.1: table(2, max_f_l=[0.5, 0.0], f=0.5)}  # exactly half the seeds
    claim = early({"mnist1d": task, "shells": good_task()})
    assert claim.measured["seeds_early_mnist1d"] == 0.5 and statuses(claim)[0] == "partly"


@pytest.mark.parametrize("f_high, checked", [(0.7, True), (0.69, False)])
def test_ablation_is_checked_only_from_the_high_fraction_on(f_high, checked):
    assert cl.HIGH_FRACTION == 0.7
    task = {0.1: table(ablated=75.0, f=f_high, max_f_l=0.9)}
    claim = early({"mnist1d": task, "shells": good_task()})
    names = [c.description for c in claim.checks]
    assert any("mnist1d: mean cost of zeroing" in n for n in names) == checked


@pytest.mark.parametrize("cost, status", [(5.0, "pass"), (4.99, "partly"), (2.0, "partly"), (1.99, "fail")])
def test_ablation_cost_bands(cost, status):
    assert (cl.ABLATION_COST_POINTS, cl.PARTLY_ABLATION_COST_POINTS) == (5.0, 2.0)
    task = {0.1: table(learned=80.0, ablated=80.0 - cost, f=0.8, max_f_l=0.9)}
    claim = early({"mnist1d": task, "shells": good_task()})
    assert statuses(claim)[1] == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


@pytest.mark.parametrize("share, status", [(0.05, "pass"), (0.051, "partly"), (0.15, "partly"), (0.151, "fail")])
def test_kept_units_weight_share_bands(share, status):
    assert (cl.SHARE_KEPT_MAX, cl.PARTLY_SHARE_KEPT_MAX) == (0.05, 0.15)
    claim = early(share_kept=[share] * 3)
    assert statuses(claim)[-2] == status


@pytest.mark.parametrize("share, status", [(0.5, "pass"), (0.49, "partly"), (0.3, "partly"), (0.29, "fail")])
def test_detached_units_weight_share_bands(share, status):
    assert (cl.SHARE_DETACHED_MIN, cl.PARTLY_SHARE_DETACHED_MIN) == (0.5, 0.3)
    claim = early(share_detached_top=[share] * 3)
    assert statuses(claim)[-1] == status


def test_weight_shares_skip_seeds_without_such_units_and_are_undefined_without_any():
    claim = early(share_kept=[0.02, NAN, 0.04], share_detached_top=[NAN] * 3)
    assert claim.measured["share_kept"] == pytest.approx(0.03)
    assert math.isnan(claim.measured["share_detached_top"])
    assert "share_detached_top" in claim.undefined and "share_kept" not in claim.undefined
    assert statuses(claim)[-1] == "fail"


def test_only_failing_checks_give_not_reproduced():
    bad = {0.1: table(learned=70.0, ablated=70.0, f=0.8, max_f_l=0.1)}
    claim = early({"mnist1d": bad, "shells": bad}, share_kept=[0.5] * 3, share_detached_top=[0.0] * 3)
    assert set(statuses(claim)) == {"fail"} and claim.verdict == NOT_REPRODUCED


# ------------------------------------------------------------------ cheap detachment


def cheap_task(*, moderate_drop=0.5, high_drop=2.0, learned_minus_random=2.0, f_high=0.8):
    return {
        0.03: table(learned=80.0 - moderate_drop, random=80.0 - moderate_drop, f=0.3),
        0.1: table(learned=80.0 - high_drop, random=80.0 - high_drop - learned_minus_random, f=f_high),
    }


def detachment(mnist1d, shells=None):
    return cl.detachment_claim({"mnist1d": mnist1d, "shells": shells or cheap_task()})


def test_detachment_claim_reproduced_on_good_inputs():
    claim = detachment(cheap_task())
    assert claim.id == "f2_detachment_cheap" and claim.verdict == REPRODUCED
    assert claim.measured["drop_at_f3_mnist1d"] == pytest.approx(0.5)  # the smaller of the two drops
    assert claim.measured["drop_at_f7_mnist1d"] == pytest.approx(2.0)
    assert claim.measured["learned_minus_random_high_mnist1d"] == pytest.approx(2.0)
    assert claim.measured["learned_minus_random_low_mnist1d"] == pytest.approx(0.0)
    assert claim.measured["seeds_learned_beats_random_mnist1d"] == 1.0


@pytest.mark.parametrize("drop, status", [(1.0, "pass"), (1.01, "partly"), (2.0, "partly"), (2.01, "fail")])
def test_moderate_fraction_drop_bands(drop, status):
    assert (cl.MODERATE_FRACTION, cl.MODERATE_DROP_POINTS) == (0.3, 1.0)
    # the high-f penalty drops more, so the smallest drop at f >= 0.3 is the moderate one
    claim = detachment(cheap_task(moderate_drop=drop, high_drop=2.5))
    assert statuses(claim)[0] == status


@pytest.mark.parametrize("drop, status", [(2.5, "pass"), (2.51, "partly"), (5.0, "partly"), (5.01, "fail")])
def test_high_fraction_drop_bands(drop, status):
    assert cl.HIGH_DROP_POINTS == 2.5
    claim = detachment(cheap_task(moderate_drop=drop + 1, high_drop=drop))
    assert statuses(claim)[1] == status


def test_mean_fraction_exactly_at_the_bound_counts_and_below_is_undefined():
    at = detachment({0.1: table(learned=79.0, random=79.0, f=0.3)})
    assert at.measured["drop_at_f3_mnist1d"] == pytest.approx(1.0) and statuses(at)[0] == "pass"
    below = detachment({0.1: table(learned=79.0, random=79.0, f=0.29)})
    assert math.isnan(below.measured["drop_at_f3_mnist1d"]) and "drop_at_f3_mnist1d" in below.undefined
    assert math.isnan(below.measured["drop_at_f7_mnist1d"]) and "drop_at_f7_mnist1d" in below.undefined
    assert statuses(below)[:2] == ["fail", "fail"]
    assert "no penalty reached a mean f >= 0.3" in below.checks[0].description


@pytest.mark.parametrize("gap, status", [(1.5, "pass"), (1.49, "partly"), (0.0, "partly"), (-0.01, "fail")])
def test_learned_minus_random_bands(gap, status):
    assert (cl.LEARNED_OVER_RANDOM_POINTS, cl.PARTLY_LEARNED_OVER_RANDOM_POINTS) == (1.5, 0.0)
    claim = detachment(cheap_task(learned_minus_random=gap))
    assert statuses(claim)[2] == status


@pytest.mark.parametrize("f_high, checks", [(0.7, 3), (0.69, 2)])
def test_random_mask_control_is_checked_only_from_the_high_fraction_on(f_high, checks):
    claim = detachment(cheap_task(f_high=f_high, learned_minus_random=-5.0))
    mnist_checks = [c for c in claim.checks if c.description.startswith("mnist1d")]
    assert len(mnist_checks) == checks


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


def probes(blocks=((0.7, 0.75, 0.8),) * 3, all_channels=(0.8, 0.8), detached=(0.78, 0.76), kept=(0.6, 0.7)):
    return cl.probe_claim([list(b) for b in blocks], list(all_channels), list(detached), list(kept))


def test_probe_claim_reproduced_on_good_inputs():
    claim = probes()
    assert claim.id == "p_probes" and claim.verdict == REPRODUCED
    assert claim.measured["detached_over_all"] == pytest.approx((0.78 + 0.76) / 1.6)
    assert claim.measured["kept_over_all"] == pytest.approx(1.3 / 1.6)


@pytest.mark.parametrize("second, monotone", [(0.495, True), (0.494, False)])
def test_monotone_slack_is_half_a_point_inclusive(second, monotone):
    assert cl.MONOTONE_SLACK_POINTS == 0.5
    claim = probes(blocks=[(0.5, second)] * 3)
    assert claim.measured["seeds_monotone"] == (1.0 if monotone else 0.0)


@pytest.mark.parametrize("monotone_seeds, status", [(5, "pass"), (4, "pass"), (3, "partly"), (2, "fail")])
def test_monotone_seed_share_bands(monotone_seeds, status):
    blocks = [(0.7, 0.8)] * monotone_seeds + [(0.8, 0.7)] * (5 - monotone_seeds)
    assert statuses(probes(blocks=blocks))[0] == status


@pytest.mark.parametrize("ratio, status", [(0.9, "pass"), (0.89, "partly"), (0.75, "partly"), (0.74, "fail")])
def test_detached_ratio_bands(ratio, status):
    assert (cl.DETACHED_RATIO_MIN, cl.PARTLY_DETACHED_RATIO_MIN) == (0.9, 0.75)
    claim = probes(all_channels=(1.0,), detached=(ratio,), kept=(0.5,))
    assert statuses(claim)[1] == status


def test_empty_subsets_are_skipped_and_none_at_all_is_undefined():
    claim = probes(all_channels=(0.8, 0.5), detached=(0.8, NAN), kept=(NAN, 0.5))
    assert claim.measured["detached_over_all"] == 1.0 and claim.measured["kept_over_all"] == 1.0
    none = probes(all_channels=(0.8,), detached=(NAN,), kept=(0.4,))
    assert math.isnan(none.measured["detached_over_all"]) and "detached_over_all" in none.undefined
    assert statuses(none)[1] == "fail"
