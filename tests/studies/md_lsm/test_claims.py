"""Chapter 4's claim criteria: every threshold from both sides and exactly at it (inclusive bounds).

Each test starts from inputs that pass every check, moves one value and asserts the status of
the check it feeds and the claim's verdict. Where a check compares a derived quantity
(|x - 0.5|, a difference of means) that no float input can put exactly on the bound, the bound is
set to the derived value itself to pin the comparison's inclusiveness.
"""

import math

import numpy as np
import pytest

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED
from linstruct.studies.md_lsm import claims as c

BELOW, ABOVE = -1e-9, 1e-9


def check(claim, fragment):
    """The status of the one check whose description contains ``fragment``."""
    found = [ch for ch in claim.checks if fragment in ch.description]
    assert len(found) == 1, [ch.description for ch in claim.checks]
    return found[0].status


# --- estimator ----------------------------------------------------------------------------------


def toys(**changed):
    values = dict(
        toy_exact=0.8,
        toy_estimate=0.8,
        toy_gap=0.0,
        outlier_change=0.005,
        outlier_bound=0.01,
        identical_in_sample=0.6,
        identical_heldout=0.5,
        identical_shuffled=0.6,
        separable_certified=1.0,
    )
    return {**values, **changed}


def test_estimator_passes_and_calibration_check_only_in_its_setting():
    claim = c.estimator_claim(toys(), c.CALIBRATION_INPUT_RHO, calibrated=True)
    assert claim.verdict == REPRODUCED and len(claim.checks) == 7
    off = c.estimator_claim(toys(), 0.5, calibrated=False)
    assert off.verdict == REPRODUCED and len(off.checks) == 6 and off.measured["input_rho"] == 0.5


@pytest.mark.parametrize(
    "gap, status",
    [
        (c.TOY_GAP_MAX, "pass"),
        (c.TOY_GAP_MAX + ABOVE, "partly"),
        (c.TOY_GAP_PARTLY, "partly"),
        (c.TOY_GAP_PARTLY + ABOVE, "fail"),
    ],
)
def test_estimator_toy_gap(gap, status):
    claim = c.estimator_claim(toys(toy_gap=gap), 0.0, calibrated=False)
    assert check(claim, "exact - estimate") == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


@pytest.mark.parametrize("change, status", [(0.01, "pass"), (0.01 + ABOVE, "fail"), (0.0, "pass")])
def test_estimator_outlier_ratio(change, status):
    claim = c.estimator_claim(toys(outlier_change=change, outlier_bound=0.01), 0.0, calibrated=False)
    assert check(claim, "one-outlier") == status


@pytest.mark.parametrize(
    "heldout, bound, status",
    [
        (0.5625, 0.0625, "pass"),  # |x - 0.5| exactly at the bound (both dyadic)
        (0.5 + c.HELDOUT_HALF_MAX - 1e-6, None, "pass"),
        (0.5 - c.HELDOUT_HALF_MAX - 1e-6, None, "partly"),
        (0.5 + c.HELDOUT_HALF_PARTLY - 1e-6, None, "partly"),
        (0.5 + c.HELDOUT_HALF_PARTLY + 1e-6, None, "fail"),
    ],
)
def test_estimator_heldout_near_half(monkeypatch, heldout, bound, status):
    if bound is not None:
        monkeypatch.setattr(c, "HELDOUT_HALF_MAX", bound)
    claim = c.estimator_claim(toys(identical_heldout=heldout), 0.0, calibrated=False)
    assert check(claim, "|held-out - 0.5|") == status


@pytest.mark.parametrize(
    "in_sample, low, high",
    [
        (c.OPTIMISM_LOW, "pass", "pass"),
        (c.OPTIMISM_LOW + BELOW, "fail", "pass"),
        (c.OPTIMISM_HIGH, "pass", "pass"),
        (c.OPTIMISM_HIGH + ABOVE, "pass", "fail"),
    ],
)
def test_estimator_optimism_window(in_sample, low, high):
    claim = c.estimator_claim(toys(identical_in_sample=in_sample), 0.0, calibrated=False)
    assert check(claim, "optimism expected") == low
    assert check(claim, "in-sample, identical Gaussians =") == high
    assert claim.verdict == (REPRODUCED if low == high == "pass" else PARTLY)


@pytest.mark.parametrize("certified, status", [(1.0, "pass"), (0.0, "fail")])
def test_estimator_certificate(certified, status):
    claim = c.estimator_claim(toys(separable_certified=certified), 0.0, calibrated=False)
    assert check(claim, "LP-certified") == status


@pytest.mark.parametrize(
    "offset, status", [(0.005, "pass"), (0.015, "partly"), (0.025, "fail"), (-0.005, "pass"), (-0.025, "fail")]
)
def test_estimator_calibration_bands(offset, status):
    claim = c.estimator_claim(toys(), c.CALIBRATION_INPUT_RHO + offset, calibrated=True)
    assert check(claim, "calibration") == status


@pytest.mark.parametrize(
    "tolerance_name, status", [("CALIBRATION_TOLERANCE", "pass"), ("CALIBRATION_PARTLY", "partly")]
)
def test_estimator_calibration_bounds_are_inclusive(monkeypatch, tolerance_name, status):
    rho = 0.875  # dyadic: |0.875 - 0.8125| = 0.0625 exactly
    monkeypatch.setattr(c, "CALIBRATION_INPUT_RHO", 0.8125)
    monkeypatch.setattr(c, "CALIBRATION_PARTLY", 0.0625 if tolerance_name == "CALIBRATION_PARTLY" else 0.125)
    monkeypatch.setattr(c, "CALIBRATION_TOLERANCE", 0.0625 if tolerance_name == "CALIBRATION_TOLERANCE" else 0.03125)
    assert check(c.estimator_claim(toys(), rho, calibrated=True), "calibration") == status


def test_estimator_all_failing_is_not_reproduced():
    bad = toys(toy_gap=0.5, outlier_change=1.0, identical_heldout=0.9, identical_in_sample=0.3, separable_certified=0.0)
    claim = c.estimator_claim(bad, 0.0, calibrated=True)
    # in-sample 0.3 still passes the upper end of the window: one check passes
    assert claim.verdict == PARTLY
    assert [ch.status for ch in claim.checks].count("pass") == 1


# --- level --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, status, verdict",
    [
        (c.LEVEL_MIN, "pass", REPRODUCED),
        (c.LEVEL_MIN + BELOW, "partly", PARTLY),
        (c.LEVEL_PARTLY, "partly", PARTLY),
        (c.LEVEL_PARTLY + BELOW, "fail", PARTLY),
    ],
)
def test_level_thresholds(value, status, verdict):
    claim = c.level_claim({"tanh": value, "relu": 0.99})
    assert check(claim, "tanh") == status and claim.verdict == verdict


def test_level_all_failing_and_nan_is_undefined_and_fails():
    assert c.level_claim({"tanh": 0.1, "relu": 0.2}).verdict == NOT_REPRODUCED
    claim = c.level_claim({"tanh": float("nan"), "relu": 0.95})
    assert check(claim, "tanh") == "fail" and "spearman_tanh" in claim.undefined
    assert claim.verdict == PARTLY


def test_level_holds_is_inclusive_and_nan_fails():
    assert c.level_holds(c.LEVEL_MIN) and not c.level_holds(c.LEVEL_MIN + BELOW)
    assert not c.level_holds(float("nan"))


@pytest.mark.parametrize(
    "flags, status, share",
    [
        ([True, True, True], "pass", 1.0),
        ([True, True, False], "partly", 2 / 3),
        ([True, False], "partly", 0.5),
        ([True, False, False], "fail", 1 / 3),
    ],
)
def test_across_seeds_shares(flags, status, share):
    claim = c.level_claim({"tanh": 0.95}, {"tanh": flags})
    assert claim.measured["seeds_holding_tanh"] == pytest.approx(share)
    assert check(claim, "seeds where") == status
    assert "across seeds" in claim.criterion
    assert "across seeds" not in c.level_claim({"tanh": 0.95}).criterion


# --- changes ------------------------------------------------------------------------------------


def stats(**changed):
    return {**dict(agreement=0.8, n=90, sign_p=1e-5, phi=0.4, fisher_p=0.001, detrended=0.5), **changed}


@pytest.mark.parametrize(
    "key, value, fragment, status",
    [
        ("agreement", c.AGREEMENT_MIN, "sign agreement", "pass"),
        ("agreement", c.AGREEMENT_MIN + BELOW, "sign agreement", "fail"),
        ("phi", c.PHI_MIN, "phi", "pass"),
        ("phi", c.PHI_MIN + BELOW, "phi", "partly"),
        ("phi", c.PHI_PARTLY, "phi", "partly"),
        ("phi", c.PHI_PARTLY + BELOW, "phi", "fail"),
        ("fisher_p", c.FISHER_MAX, "Fisher", "pass"),
        ("fisher_p", c.FISHER_MAX + ABOVE, "Fisher", "partly"),
        ("fisher_p", c.FISHER_PARTLY, "Fisher", "partly"),
        ("fisher_p", c.FISHER_PARTLY + ABOVE, "Fisher", "fail"),
        ("detrended", c.DETRENDED_MIN, "detrended", "pass"),
        ("detrended", c.DETRENDED_MIN + BELOW, "detrended", "partly"),
        ("detrended", c.DETRENDED_PARTLY, "detrended", "partly"),
        ("detrended", c.DETRENDED_PARTLY + BELOW, "detrended", "fail"),
    ],
)
def test_changes_thresholds(key, value, fragment, status):
    claim = c.changes_claim({"relu": stats(**{key: value})})
    assert check(claim, fragment) == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)
    holds = c.changes_hold(*(stats(**{key: value})[k] for k in ("agreement", "phi", "fisher_p", "detrended")))
    assert holds == (status == "pass")  # the across-seeds criterion is the full criterion


def test_changes_without_intervals_are_undefined_not_an_error():
    nan = float("nan")
    claim = c.changes_claim({"relu": stats(agreement=nan, n=0, sign_p=nan, phi=0.0, fisher_p=nan, detrended=nan)})
    assert set(claim.undefined) == {"agreement_relu", "sign_p_relu", "fisher_p_relu", "detrended_relu"}
    assert claim.undefined["agreement_relu"] == c.NO_CHANGE and claim.undefined["detrended_relu"] == c.CONSTANT
    assert claim.verdict == NOT_REPRODUCED


# --- interventional -----------------------------------------------------------------------------


def correlations(last=(0.7, 0.7, 0.7), first=(0.3, 0.3, 0.3), early=0.0):
    return {"relu": dict(last=list(last), first=list(first), early=early)}


@pytest.mark.parametrize(
    "last, passing, status",
    [
        ((0.5, 0.5, 0.1), 2, "pass"),  # the Spearman bound is inclusive
        ((0.5, 0.5 + BELOW, 0.9), 2, "pass"),
        ((0.5 + BELOW, 0.1, 0.9), 1, "partly"),
        ((0.1, 0.2, 0.3), 0, "fail"),
    ],
)
def test_interventional_late_states(last, passing, status):
    claim = c.interventional_claim(correlations(last=last, first=(-1, -1, -1)))
    assert claim.measured["late_passing_relu"] == passing
    assert check(claim, "late states") == status


@pytest.mark.parametrize(
    "last, first, status",
    [
        ((0.75,) * 3, (0.75,) * 3, "pass"),  # equal means: difference exactly 0
        ((0.75,) * 3, (0.75 + 1e-6,) * 3, "partly"),
        ((0.75,) * 3, (0.8125,) * 3, "fail"),  # -0.0625 < -0.05
        ((0.75,) * 3, (0.79,) * 3, "partly"),
    ],
)
def test_interventional_layer_order(last, first, status):
    claim = c.interventional_claim(correlations(last=last, first=first))
    assert check(claim, "last minus first") == status


def test_interventional_layer_order_partly_bound_is_inclusive(monkeypatch):
    monkeypatch.setattr(c, "LAYER_ORDER_PARTLY", -0.0625)
    claim = c.interventional_claim(correlations(last=(0.75,) * 3, first=(0.8125,) * 3))
    assert check(claim, "last minus first") == "partly"


def test_interventional_nan_is_undefined_and_fails():
    claim = c.interventional_claim(correlations(last=(float("nan"), 0.7, 0.7), early=float("nan")))
    assert set(claim.undefined) == {"late_mean_relu", "early_relu"}
    assert check(claim, "late states") == "pass"  # two of three still pass
    assert check(claim, "last minus first") == "fail"
    assert claim.verdict == PARTLY


# --- overall ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "verdicts, overall",
    [
        ((REPRODUCED,) * 3, REPRODUCED),
        ((REPRODUCED, PARTLY, REPRODUCED), PARTLY),
        ((REPRODUCED, NOT_REPRODUCED, NOT_REPRODUCED), PARTLY),
        ((PARTLY,) * 3, PARTLY),
        ((NOT_REPRODUCED,) * 3, NOT_REPRODUCED),
    ],
)
def test_overall_needs_all_three_levels(verdicts, overall):
    claim = c.overall_claim(*verdicts)
    assert claim.verdict == overall
    assert list(claim.measured.values()) == [c.SCORES[v] for v in verdicts]
    assert list(claim.measured) == ["sync_level_score", "sync_changes_score", "sync_interventional_score"]


# --- layer profile ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rho, drops",
    [
        ([0.8, 0.9, 0.95], 0),
        ([0.9, 0.9, 0.9], 0),
        ([0.8, 0.8 - 0.0009, 0.9], 0),  # within the tolerance
        ([0.8, 0.7995, 0.9, 0.85], 1),
        ([0.8, 0.8 - 0.0011, 0.9], 1),
        ([0.9, 0.8, 0.7], 2),
    ],
)
def test_layer_drops_tolerance(rho, drops):
    assert c.layer_drops(rho) == drops
    claim = c.depth_claim({"tanh": rho})
    assert claim.measured["drops_tanh"] == drops
    assert check(claim, "falls by") == ("pass" if drops == 0 else "fail")
    assert claim.verdict == (REPRODUCED if drops == 0 else NOT_REPRODUCED)


def test_layer_drops_at_the_tolerance_is_not_a_drop(monkeypatch):
    monkeypatch.setattr(c, "DROP_TOLERANCE", 0.0625)
    assert c.layer_drops([0.875, 0.8125]) == 0  # a fall of exactly the tolerance
    assert c.layer_drops([0.875, 0.8125 - 1e-9]) == 1


def test_depth_claim_measures_every_layer_and_seed_share():
    claim = c.depth_claim({"tanh": [0.8, 0.9], "relu": [0.9, 0.8]}, {"tanh": [True, True], "relu": [True, False]})
    assert claim.measured["rho_layer2_relu"] == 0.8 and claim.measured["seeds_holding_relu"] == 0.5
    assert [ch.status for ch in claim.checks] == ["pass", "fail", "pass", "partly"]
    assert claim.verdict == PARTLY


# --- activation ---------------------------------------------------------------------------------


def activation(**changed):
    accuracy = dict(tanh=0.95, relu=0.95, sigmoid=0.2)
    gain = dict(tanh=0.2, relu=0.2, sigmoid=0.0)
    for key, value in changed.items():
        kind, a = key.split("_")
        (accuracy if kind == "accuracy" else gain)[a] = value
    return c.activation_claim(accuracy, gain, lr=0.05)


@pytest.mark.parametrize(
    "changed, fragment, status",
    [
        (dict(accuracy_tanh=c.TRAINED), "final accuracy, tanh", "pass"),
        (dict(accuracy_tanh=c.TRAINED + BELOW), "final accuracy, tanh", "partly"),
        (dict(accuracy_tanh=c.TRAINED_PARTLY), "final accuracy, tanh", "partly"),
        (dict(accuracy_tanh=c.TRAINED_PARTLY + BELOW), "final accuracy, tanh", "fail"),
        (dict(gain_relu=c.GAIN_MIN), "rho_L gain, relu", "pass"),
        (dict(gain_relu=c.GAIN_MIN + BELOW), "rho_L gain, relu", "partly"),
        (dict(gain_relu=c.GAIN_PARTLY), "rho_L gain, relu", "partly"),
        (dict(gain_relu=c.GAIN_PARTLY + BELOW), "rho_L gain, relu", "fail"),
        (dict(accuracy_sigmoid=c.STALL_MAX), "sigmoid (stalls)", "pass"),
        (dict(accuracy_sigmoid=c.STALL_MAX + ABOVE), "sigmoid (stalls)", "partly"),
        (dict(accuracy_sigmoid=c.STALL_PARTLY), "sigmoid (stalls)", "partly"),
        (dict(accuracy_sigmoid=c.STALL_PARTLY + ABOVE), "sigmoid (stalls)", "fail"),
        (dict(gain_sigmoid=c.CONTROL_GAIN_MAX), "sigmoid (control)", "pass"),
        (dict(gain_sigmoid=-c.CONTROL_GAIN_MAX), "sigmoid (control)", "pass"),  # the size of the move counts
        (dict(gain_sigmoid=-c.CONTROL_GAIN_MAX - 1e-9), "sigmoid (control)", "partly"),
        (dict(gain_sigmoid=c.CONTROL_GAIN_PARTLY), "sigmoid (control)", "partly"),
        (dict(gain_sigmoid=c.CONTROL_GAIN_PARTLY + ABOVE), "sigmoid (control)", "fail"),
    ],
)
def test_activation_thresholds(changed, fragment, status):
    claim = activation(**changed)
    assert check(claim, fragment) == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


def test_activation_with_every_check_failing():
    claim = activation(
        accuracy_tanh=0.1, accuracy_relu=0.1, gain_tanh=0.0, gain_relu=0.0, accuracy_sigmoid=0.9, gain_sigmoid=0.3
    )
    assert claim.verdict == NOT_REPRODUCED


# --- width --------------------------------------------------------------------------------------


def widths(**changed):
    return {
        **dict(
            in_sample_narrow=0.9,
            in_sample_wide=0.95,
            heldout_narrow=0.85,
            heldout_wide=0.9,
            shuffled_wide=0.7,
            shuffled_small_wide=1.0,
            shuffled_certified_saturated=1.0,
            shuffled_heldout_max_deviation=0.02,
        ),
        **changed,
    }


@pytest.mark.parametrize(
    "changed, fragment, status",
    [
        (dict(in_sample_wide=0.9), "in-sample rho_L", "pass"),  # equal: no growth still passes
        (dict(in_sample_wide=0.9 + BELOW), "in-sample rho_L", "fail"),
        (dict(heldout_wide=0.85), "held-out rho_L", "pass"),
        (dict(heldout_wide=0.85 + BELOW), "held-out rho_L", "fail"),
        (dict(shuffled_certified_saturated=1.0), "LP-separable", "pass"),
        (dict(shuffled_certified_saturated=1 - 1 / 45), "LP-separable", "fail"),
        (dict(shuffled_heldout_max_deviation=c.SHUFFLED_HELDOUT_MAX), "shuffled held-out", "pass"),
        (dict(shuffled_heldout_max_deviation=c.SHUFFLED_HELDOUT_MAX + ABOVE), "shuffled held-out", "partly"),
        (dict(shuffled_heldout_max_deviation=c.SHUFFLED_HELDOUT_PARTLY), "shuffled held-out", "partly"),
        (dict(shuffled_heldout_max_deviation=c.SHUFFLED_HELDOUT_PARTLY + ABOVE), "shuffled held-out", "fail"),
    ],
)
def test_width_thresholds(changed, fragment, status):
    claim = c.width_claim(widths(**changed))
    assert check(claim, fragment) == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


def test_width_without_a_saturated_width_is_undefined_and_that_check_fails():
    claim = c.width_claim(widths(shuffled_certified_saturated=float("nan")))
    assert "shuffled_certified_saturated" in claim.undefined
    assert math.isnan(claim.measured["shuffled_certified_saturated"])
    assert check(claim, "LP-separable") == "fail" and claim.verdict == PARTLY


def test_width_claim_names_missing_values():
    with pytest.raises(KeyError, match="heldout_wide"):
        c.width_claim({k: v for k, v in widths().items() if k != "heldout_wide"})


def test_claims_refuse_nan_the_claim_did_not_explain():
    values = widths(heldout_wide=np.nan)
    with pytest.raises(ValueError, match="heldout_wide"):
        c.width_claim(values)
