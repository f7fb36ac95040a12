"""Chapter 4's claim criteria on per-seed values each side of every threshold: the 95% interval
wholly on the claim's side (pass), straddling the threshold (partly) or wholly on the other side
(fail), with the verdict each implies; undefined seeds; the baseline check.

Each test starts from per-seed inputs that pass every check, moves one series and asserts the
status of the check it feeds and the claim's verdict.
"""

import math

import pytest
from scipy.stats import t

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Baseline
from linstruct.studies.md_lsm import claims as c

SEEDS = 5


def check(claim, fragment):
    """The status of the one check whose description contains ``fragment``."""
    found = [ch for ch in claim.checks if fragment in ch.description]
    assert len(found) == 1, [ch.description for ch in claim.checks]
    return found[0].status


def spread(low, high):
    """Two per-seed values whose 95% t-interval is [low, high]."""
    half = (high - low) / 2 / float(t.ppf(0.975, 1))
    return [(low + high) / 2 - half, (low + high) / 2 + half]


def same(value):
    """SEEDS equal per-seed values: the interval is the value itself."""
    return [value] * SEEDS


def around(bound, side, width=0.05):
    """Per-seed values whose interval lies above ("above"), below ("below") or across ``bound``,
    within ``width`` of it."""
    return {
        "above": spread(bound + width / 5, bound + width),
        "below": spread(bound - width, bound - width / 5),
    }.get(side, spread(bound - 0.4 * width, bound + 0.4 * width))


TRAINED = Baseline("relu MLP", "mnist1d", 68.0, 65.0, "r")
UNDER = Baseline("tanh MLP", "mnist1d", 60.0, 65.0, "r")
CONTROL = Baseline("sigmoid MLP (control: shared learning rate)", "mnist1d", 30.0, None, "meant to stall")


# --- helpers ------------------------------------------------------------------------------------


def test_smallest_layer_step():
    assert c.smallest_layer_step([0.9, 0.95, 0.94]) == pytest.approx(-0.01)
    assert c.smallest_layer_step([0.9]) == math.inf


# --- estimator ----------------------------------------------------------------------------------


def toys(**changed):
    values = dict(
        toy_exact=same(0.8),
        toy_estimate=same(0.8),
        toy_gap=same(0.0),
        outlier_change=same(0.005),
        outlier_bound=same(0.01),
        identical_in_sample=same(0.6),
        identical_heldout=same(0.5),
        identical_shuffled=same(0.6),
        separable_certified=same(1.0),
    )
    return {**values, **changed}


def test_estimator_passes_and_calibration_check_only_in_its_setting():
    claim = c.estimator_claim(toys(), c.CALIBRATION_INPUT_RHO, calibrated=True)
    assert claim.verdict == REPRODUCED and len(claim.checks) == 7
    off = c.estimator_claim(toys(), 0.5, calibrated=False)
    assert off.verdict == REPRODUCED and len(off.checks) == 6 and off.measured["input_rho"] == 0.5
    assert off.as_record()["seeds"] == SEEDS and off.measured["toy_exact"] == pytest.approx(0.8)


@pytest.mark.parametrize("side, status", [("below", "pass"), ("across", "partly"), ("above", "fail")])
def test_estimator_toy_gap_interval(side, status):
    claim = c.estimator_claim(toys(toy_gap=around(c.TOY_GAP_MAX, side)), 0.0, calibrated=False)
    assert check(claim, "exact - estimate") == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


def test_estimator_outlier_bound_must_hold_in_every_seed():
    at = c.estimator_claim(toys(outlier_change=same(0.01)), 0.0, calibrated=False)
    assert check(at, "one-outlier") == "pass"
    one_over = c.estimator_claim(toys(outlier_change=[0.005] * 4 + [0.0101]), 0.0, calibrated=False)
    assert check(one_over, "one-outlier") == "fail" and one_over.verdict == PARTLY


@pytest.mark.parametrize("side, status", [("below", "pass"), ("across", "partly"), ("above", "fail")])
def test_estimator_heldout_near_half(side, status):
    heldout = [0.5 + d for d in around(c.HELDOUT_HALF_MAX, side)]
    claim = c.estimator_claim(toys(identical_heldout=heldout), 0.0, calibrated=False)
    assert check(claim, "|held-out - 0.5|") == status


@pytest.mark.parametrize(
    "values, low, high",
    [
        (same(c.OPTIMISM_LOW), "pass", "pass"),  # inclusive at both ends
        (same(c.OPTIMISM_HIGH), "pass", "pass"),
        (around(c.OPTIMISM_LOW, "across"), "partly", "pass"),
        (around(c.OPTIMISM_LOW, "below"), "fail", "pass"),
        (around(c.OPTIMISM_HIGH, "above"), "pass", "fail"),
    ],
)
def test_estimator_optimism_window(values, low, high):
    claim = c.estimator_claim(toys(identical_in_sample=values), 0.0, calibrated=False)
    assert check(claim, "optimism expected") == low
    assert check(claim, "in-sample, identical Gaussians =") == high
    assert claim.verdict == (REPRODUCED if low == high == "pass" else PARTLY)


def test_estimator_certificate_and_calibration():
    uncertified = c.estimator_claim(toys(separable_certified=[1.0] * 4 + [0.0]), 0.0, calibrated=False)
    assert check(uncertified, "LP-certified") == "fail"
    for offset, status in ((0.009, "pass"), (-0.009, "pass"), (0.011, "fail")):
        claim = c.estimator_claim(toys(), c.CALIBRATION_INPUT_RHO + offset, calibrated=True)
        assert check(claim, "calibration") == status


# --- level ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "side, status, verdict", [("above", "pass", REPRODUCED), ("across", "partly", PARTLY), ("below", "fail", PARTLY)]
)
def test_level_interval(side, status, verdict):
    claim = c.level_claim({"tanh": around(c.LEVEL_MIN, side), "relu": same(0.99)})
    assert check(claim, "tanh") == status and claim.verdict == verdict


def test_level_exactly_at_the_threshold_passes_and_all_below_is_not_reproduced():
    assert c.level_claim({"tanh": same(c.LEVEL_MIN)}).verdict == REPRODUCED
    low = around(c.LEVEL_MIN, "below")
    assert c.level_claim({"tanh": low, "relu": low}).verdict == NOT_REPRODUCED


def test_level_undefined_in_every_seed_fails_and_is_explained():
    claim = c.level_claim({"tanh": [float("nan")] * 3, "relu": same(0.99)})
    assert check(claim, "tanh") == "fail" and claim.undefined["spearman_tanh"] == c.CONSTANT
    assert claim.verdict == PARTLY


def test_a_network_below_its_reference_is_a_failed_check_and_the_control_adds_none():
    claim = c.level_claim({"tanh": same(0.99)}, [TRAINED, UNDER, CONTROL])
    assert [ch.status for ch in claim.checks] == ["pass", "pass", "fail"] and claim.verdict == PARTLY
    assert c.level_claim({"tanh": same(0.99)}, [TRAINED, CONTROL]).verdict == REPRODUCED


# --- changes --------------------------------------------------------------------------------------


def stats(**changed):
    values = dict(agreement=same(0.8), n=same(40.0), phi=same(0.4), fisher_p=same(0.01), detrended=same(0.4))
    return {**values, **changed}


@pytest.mark.parametrize(
    "key, bound, fragment",
    [
        ("detrended", c.DETRENDED_MIN, "detrended increments, relu"),
        ("phi", c.PHI_MIN, "phi of the sign table, relu"),
        ("agreement", c.AGREEMENT_MIN, "naive sign agreement, relu"),
    ],
)
@pytest.mark.parametrize("side, status", [("above", "pass"), ("across", "partly"), ("below", "fail")])
def test_changes_intervals(key, bound, fragment, side, status):
    claim = c.changes_claim({"tanh": stats(), "relu": stats(**{key: around(bound, side)})})
    assert check(claim, fragment) == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


def test_changes_fisher_p_is_reported_not_judged_and_the_headline_is_the_detrended_correlation():
    claim = c.changes_claim({"tanh": stats(fisher_p=same(0.5), detrended=[0.39, 0.4, 0.41]), "relu": stats()})
    assert claim.verdict == REPRODUCED and claim.measured["fisher_p_tanh"] == pytest.approx(0.5)
    record = claim.as_record()
    assert record["effect"] == pytest.approx(0.4) and record["seeds"] == 3 and record["per_seed"] == [0.39, 0.4, 0.41]
    assert record["seed_share"] == 1.0


def test_changes_without_intervals_are_undefined_not_an_error():
    nan = [float("nan")] * 3
    claim = c.changes_claim({"relu": stats(agreement=nan, fisher_p=nan, detrended=nan)})
    assert set(claim.undefined) == {"agreement_relu", "fisher_p_relu", "detrended_relu"}
    assert claim.undefined["agreement_relu"] == c.NO_CHANGE and claim.undefined["detrended_relu"] == c.CONSTANT
    assert claim.verdict == PARTLY  # phi is still judged


def test_phi_without_a_falling_curve_is_undefined_and_fails():
    claim = c.changes_claim({"relu": stats(phi=[float("nan")] * 10)})
    assert claim.undefined == {"phi_relu": c.EMPTY_MARGIN}
    assert check(claim, "phi of the sign table") == "fail" and claim.verdict == PARTLY


# --- interventional ---------------------------------------------------------------------------------


def correlations(last=None, first=None):
    return {"relu": dict(last=last or same(0.7), first=first or same(0.3), early=same(0.0))}


@pytest.mark.parametrize("side, status", [("above", "pass"), ("across", "partly"), ("below", "fail")])
def test_interventional_late_mean_interval(side, status):
    claim = c.interventional_claim(correlations(last=around(c.INTERVENTIONAL_MIN, side), first=same(0.0)))
    assert check(claim, "late Spearman") == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


@pytest.mark.parametrize("side, status", [("above", "pass"), ("across", "partly"), ("below", "fail")])
def test_interventional_layer_order_interval(side, status):
    first = [0.8 - d for d in around(c.LAYER_ORDER_MIN, side)]
    claim = c.interventional_claim(correlations(last=same(0.8), first=first))
    assert check(claim, "last minus first layer") == status


def test_interventional_nan_everywhere_is_undefined_and_fails():
    nan = [float("nan")] * 2
    claim = c.interventional_claim({"relu": dict(last=nan, first=nan, early=nan)})
    assert set(claim.undefined) == {"late_mean_relu", "late_mean_layer1_relu", "early_relu"}
    assert claim.verdict == NOT_REPRODUCED


# --- overall --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level, changes, overall",
    [
        ("above", "above", REPRODUCED),
        ("above", "across", PARTLY),  # the change level straddles: synchronicity only partly
        ("below", "above", PARTLY),
        ("below", "below", PARTLY),  # interventional still reproduced
    ],
)
def test_overall_needs_all_three_levels_and_reports_the_change_effect(level, changes, overall):
    levels = c.level_claim({"tanh": around(c.LEVEL_MIN, level)})
    change = c.changes_claim({"tanh": stats(detrended=around(c.DETRENDED_MIN, changes))})
    inter = c.interventional_claim(correlations())
    claim = c.overall_claim(levels, change, inter)
    assert claim.verdict == overall
    assert claim.measured["sync_interventional_score"] == 1.0
    assert claim.headline.effect == change.headline.effect
    assert (claim.headline.bound, claim.headline.side) == (change.headline.bound, change.headline.side)


def test_overall_with_every_level_failing_is_not_reproduced():
    low = around(c.LEVEL_MIN, "below")
    levels = c.level_claim({"tanh": low})
    change = c.changes_claim(
        {"tanh": stats(**{k: around(b, "below") for k, b in (("detrended", 0.3), ("phi", 0.3), ("agreement", 0.7))})}
    )
    inter = c.interventional_claim(correlations(last=around(0.5, "below"), first=same(0.9)))
    assert c.overall_claim(levels, change, inter).verdict == NOT_REPRODUCED


# --- layers, activation, width ----------------------------------------------------------------------


def test_depth_claim_judges_the_smallest_step_over_seeds():
    rising = [[0.9, 0.95, 1.0]] * SEEDS
    claim = c.depth_claim({"tanh": rising, "relu": rising})
    assert claim.verdict == REPRODUCED and claim.measured["rho_layer2_tanh"] == pytest.approx(0.95)
    within = [[0.9, 0.95, 0.95 - 0.9 * c.DROP_TOLERANCE]] * SEEDS  # a dip within the tolerance is no drop
    assert check(c.depth_claim({"tanh": within}), "tanh") == "pass"
    beyond = [[0.9, 0.95, 0.95 - 1.1 * c.DROP_TOLERANCE]] * SEEDS
    assert check(c.depth_claim({"tanh": beyond}), "tanh") == "fail"
    straddling = [[0.9, 0.95, 0.95 + d] for d in around(-c.DROP_TOLERANCE, "across")]
    assert check(c.depth_claim({"tanh": straddling}), "tanh") == "partly"
    dropping = [[0.9, 0.95, 0.9]] * SEEDS
    claim = c.depth_claim({"tanh": dropping}, [TRAINED])
    assert check(claim, "tanh") == "fail" and claim.measured["seeds_holding_tanh"] == 0.0


def activation(**changed):
    accuracy = dict(tanh=same(0.95), relu=same(0.99), sigmoid=same(0.3))
    gain = dict(tanh=same(0.1), relu=same(0.1), sigmoid=same(-0.001))
    for key, values in changed.items():
        kind, a = key.split("_")
        (accuracy if kind == "accuracy" else gain)[a] = values
    return accuracy, gain


@pytest.mark.parametrize(
    "key, bound, fragment, upward, width",
    [
        ("accuracy_tanh", c.TRAINED, "training accuracy, tanh", True, 0.05),
        ("gain_relu", c.GAIN_MIN, "rho_L gain, relu", True, 0.05),
        ("accuracy_sigmoid", c.STALL_MAX, "sigmoid control (stalls)", False, 0.05),
        ("gain_sigmoid", c.CONTROL_GAIN_MAX, "|rho_L gain|, sigmoid control", False, 0.01),  # gains stay positive
    ],
)
@pytest.mark.parametrize("side, good", [("above", True), ("across", None), ("below", False)])
def test_activation_intervals(key, bound, fragment, upward, width, side, good):
    claim = c.activation_claim(*activation(**{key: around(bound, side, width)}), lr=0.1)
    expected = "partly" if good is None else ("pass" if good == upward else "fail")
    assert check(claim, fragment) == expected
    assert claim.verdict == (REPRODUCED if expected == "pass" else PARTLY)


def test_activation_control_gain_counts_both_directions_and_baselines_are_checked():
    claim = c.activation_claim(*activation(gain_sigmoid=same(-0.05)), lr=0.1)
    assert check(claim, "|rho_L gain|") == "fail"
    under = c.activation_claim(*activation(), lr=0.1, baselines=[UNDER, CONTROL])
    assert check(under, "baseline tanh MLP") == "fail" and under.verdict == PARTLY


def widths(**changed):
    values = dict(
        in_sample_narrow=same(0.9),
        in_sample_wide=same(0.95),
        heldout_narrow=same(0.85),
        heldout_wide=same(0.9),
        shuffled_wide=same(0.7),
        shuffled_small_wide=same(1.0),
        shuffled_certified_saturated=same(1.0),
        shuffled_heldout_max_deviation=same(0.02),
    )
    return {**values, **changed}


@pytest.mark.parametrize("side, status", [("above", "pass"), ("across", "partly"), ("below", "fail")])
def test_width_growth_interval(side, status):
    wide = [0.85 + d for d in around(c.WIDTH_GROWTH_MIN, side)]
    claim = c.width_claim(widths(heldout_narrow=[0.85, 0.85], heldout_wide=wide))
    assert check(claim, "held-out rho_L") == status


@pytest.mark.parametrize("side, status", [("below", "pass"), ("across", "partly"), ("above", "fail")])
def test_width_shuffled_heldout_interval(side, status):
    claim = c.width_claim(widths(shuffled_heldout_max_deviation=around(c.SHUFFLED_HELDOUT_MAX, side)))
    assert check(claim, "shuffled held-out") == status


def test_width_without_a_saturated_width_is_undefined_and_that_check_fails():
    claim = c.width_claim(widths(shuffled_certified_saturated=[float("nan")] * 3))
    assert "shuffled_certified_saturated" in claim.undefined
    assert check(claim, "LP-separable") == "fail" and claim.verdict == PARTLY


def test_width_claim_names_missing_values():
    values = widths()
    del values["heldout_wide"]
    with pytest.raises(KeyError, match="heldout_wide"):
        c.width_claim(values)
