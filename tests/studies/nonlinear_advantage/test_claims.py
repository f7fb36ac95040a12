"""Every claim criterion of chapter 3 with per-seed values whose 95% interval lies wholly on the
claim's side of each threshold, straddles it, or lies wholly on the other side; and the baseline check."""

import math

import pytest
from scipy.stats import t

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Baseline
from linstruct.studies.nonlinear_advantage import claims as cl


def statuses(claim):
    return [c.status for c in claim.checks]


def flat(value, seeds=10):
    """Per-seed values all equal to ``value``: the 95% interval is the value itself."""
    return [value] * seeds


def around(low, high):
    """Two per-seed values whose 95% t-interval is [low, high]."""
    spread = (high - low) / 2 / float(t.ppf(0.975, 1))
    return [(low + high) / 2 - spread, (low + high) / 2 + spread]


# one interval per side of a threshold b (a claim bounded below at b): wholly above, straddling, wholly below
SIDES_AT_LEAST = [
    (lambda b: flat(b), "pass"),
    (lambda b: around(b - 1, b + 1), "partly"),
    (lambda b: flat(b - 0.01), "fail"),
]
SIDES_AT_MOST = [
    (lambda b: flat(b), "pass"),
    (lambda b: around(b - 1, b + 1), "partly"),
    (lambda b: flat(b + 0.01), "fail"),
]
VERDICT = {"pass": REPRODUCED, "partly": PARTLY, "fail": PARTLY}  # with the claim's other checks passing

CNN = Baseline("dense CNN", "mnist1d", 92.0, 91.0, "test")
WEAK_CNN = Baseline("dense CNN", "mnist1d", 70.7, 91.0, "test")


# ---- helpers --------------------------------------------------------------------------------------


def test_rho_key_mean_se_and_per_seed_mean():
    assert [cl.rho_key(r) for r in (0.05, 0.1, 0.2, 0.02)] == ["005", "01", "02", "002"]
    assert cl.mean_se([3.0, 1.0]) == (2.0, 1.0)
    mean, se = cl.mean_se([4.0])
    assert mean == 4.0 and math.isnan(se)
    with pytest.raises(ValueError, match="at least one seed"):
        cl.mean_se([])
    assert cl.per_seed_mean({0.1: [1.0, 2.0], 0.2: [3.0, 6.0]}, (0.1, 0.2)) == [2.0, 4.0]


# ---- sanity ---------------------------------------------------------------------------------------


def sanity(linear_hard=(30.0,) * 10, linear_easy=(96.0,) * 10, shift=(0.0,) * 10):
    return cl.sanity_claim(linear_hard, 30.0, linear_easy, 96.0, shift)


def test_sanity_reproduced_and_its_measured_means():
    claim = sanity(linear_hard=[29.0, 31.0] * 5, shift=[0.0, 0.5] * 5)
    assert claim.verdict == REPRODUCED and statuses(claim) == ["pass"] * 5
    assert claim.measured["linear_hard"] == 30.0 and claim.measured["binarise_shift"] == 0.5


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_MOST])
def test_sanity_binarisation_shift(values, status):
    claim = sanity(shift=values(cl.BINARISE_SHIFT))
    assert statuses(claim) == ["pass", "pass", "pass", "pass", status] and claim.verdict == VERDICT[status]


@pytest.mark.parametrize(
    "low, high, above, below",
    [
        (28.01, 31.99, "pass", "pass"),  # within +-2 of logistic regression's 30
        (31.0, 33.0, "partly", "pass"),
        (32.01, 34.0, "fail", "pass"),
        (27.0, 29.0, "pass", "partly"),
        (26.0, 27.99, "pass", "fail"),
    ],
)
def test_sanity_linear_net_against_logistic_on_mnist1d(low, high, above, below):
    assert statuses(sanity(linear_hard=around(low, high)))[:2] == [above, below]


@pytest.mark.parametrize(
    "low, high, below, above",
    [
        (92.01, 96.99, "pass", "pass"),
        (91.0, 93.0, "partly", "pass"),
        (90.0, 91.99, "fail", "pass"),
        (96.5, 97.5, "pass", "partly"),
        (97.01, 98.0, "pass", "fail"),
    ],
)
def test_sanity_linear_net_against_logistic_on_digits(low, high, below, above):
    assert statuses(sanity(linear_easy=around(low, high)))[2:4] == [below, above]


def test_sanity_with_every_bound_missed_is_still_partly():
    # the two bounds of each dataset face opposite ways, so one of each pair always passes
    claim = sanity(linear_hard=flat(40.0), linear_easy=flat(80.0), shift=flat(5.0))
    assert statuses(claim) == ["fail", "pass", "fail", "pass", "fail"] and claim.verdict == PARTLY


# ---- advantage ------------------------------------------------------------------------------------


def gaps_with(values):
    """The same per-seed gaps at every budget (so the per-seed mean over budgets is ``values``)."""
    return {r: list(values) for r in cl.RHO_STARS}


GOOD = gaps_with(flat(3.0))


def test_advantage_reproduced_and_its_measured_keys():
    claim = cl.advantage_claim(GOOD, GOOD, [CNN])
    assert claim.verdict == REPRODUCED and statuses(claim) == ["pass"] * 3  # the met baseline shows, a gate
    assert claim.measured["gap_early_01"] == 3.0 and claim.measured["se_long_02"] == 0.0
    assert claim.measured["low_early"] == claim.measured["high_long"] == 3.0
    per_rho = {f"{k}_{n}_{r}" for k in ("gap", "se") for n in ("early", "long") for r in ("005", "01", "02")}
    assert set(claim.measured) == per_rho | {f"{k}_{n}" for k in ("gap", "low", "high") for n in ("early", "long")}


def test_advantage_headline_is_the_gap_against_early_averaged_over_the_budgets():
    gaps = {0.05: flat(-1.0), 0.1: flat(2.0), 0.2: flat(5.0)}
    claim = cl.advantage_claim(gaps, GOOD)
    assert claim.headline.effect.mean == pytest.approx(2.0) and claim.headline.effect.seeds == 10
    assert claim.as_record()["seeds"] == 10 and claim.as_record()["seed_share"] == 1.0


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_LEAST])
def test_advantage_against_early(values, status):
    claim = cl.advantage_claim(gaps_with(values(cl.MIN_GAP)), GOOD)
    assert statuses(claim) == [status, "pass"] and claim.verdict == VERDICT[status]


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_LEAST])
def test_advantage_against_the_epoch_matched_control(values, status):
    claim = cl.advantage_claim(GOOD, gaps_with(values(cl.MIN_GAP)))
    assert statuses(claim) == ["pass", status] and claim.verdict == VERDICT[status]


def test_advantage_lost_in_both_comparisons_is_not_reproduced_and_an_undertrained_baseline_fails():
    lost = cl.advantage_claim(gaps_with(flat(-2.0)), gaps_with(flat(-5.0)), [CNN])
    assert statuses(lost) == ["fail", "fail", "pass"] and lost.verdict == NOT_REPRODUCED  # it lifts nothing
    claim = cl.advantage_claim(GOOD, GOOD, [CNN, WEAK_CNN])
    assert statuses(claim) == ["pass", "pass", "pass", "fail"] and claim.verdict == PARTLY
    assert "70.7% >= 91%" in claim.checks[-1].description


def test_advantage_with_one_seed_marks_the_standard_errors_undefined():
    one = {r: [g[0]] for r, g in GOOD.items()}
    claim = cl.advantage_claim(one, one)
    assert math.isnan(claim.measured["se_early_01"])
    assert set(claim.undefined) == {f"se_{n}_{r}" for n in ("early", "long") for r in ("005", "01", "02")}
    assert claim.verdict == REPRODUCED  # one seed: the interval is the value itself


def test_advantage_needs_every_budget():
    with pytest.raises(ValueError, match="rho 0.2"):
        cl.advantage_claim({0.05: flat(1.0), 0.1: flat(3.0)}, GOOD)


# ---- unused capacity ------------------------------------------------------------------------------


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_MOST])
def test_unused_capacity_threshold(values, status):
    claim = cl.unused_capacity_claim(values(cl.RHO_WITHIN), flat(0.8), 92.0, [CNN])
    assert statuses(claim) == [status, "pass"] and claim.verdict == {**VERDICT, "fail": NOT_REPRODUCED}[status]
    assert claim.measured["rho_95"] == pytest.approx(0.8) and claim.measured["dense"] == 92.0


def test_unused_capacity_reports_the_interval_and_fails_on_the_far_side():
    claim = cl.unused_capacity_claim([0.25, 0.5], [1.0, 1.0], 80.0)
    assert claim.measured["rho_within_3pts"] == 0.375
    assert claim.measured["rho_within_low"] < 0.25 < 0.5 < claim.measured["rho_within_high"]
    assert cl.unused_capacity_claim(flat(0.6), flat(1.0), 80.0).verdict == NOT_REPRODUCED


# ---- difficulty -----------------------------------------------------------------------------------


def difficulty(easy=(0.0,) * 10, hard=(5.0,) * 10, baselines=()):
    gaps = {r: list(easy) for r in cl.DIGITS_RHO_STARS}
    return cl.difficulty_claim(gaps, gaps, hard, flat(20.0), flat(3.0), baselines)


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_LEAST])
def test_difficulty_margin_over_digits(values, status):
    claim = difficulty(hard=values(cl.DIFFICULTY_MARGIN))  # the digits gap is 0
    assert statuses(claim) == [status, "pass", "pass"] and claim.verdict == VERDICT[status]


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_MOST])
def test_difficulty_digits_gap_vanishes_from_above(values, status):
    claim = difficulty(easy=values(cl.EASY_GAP), hard=flat(10.0))
    assert statuses(claim) == ["pass", status, "pass"]


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_LEAST])
def test_difficulty_digits_gap_vanishes_from_below(values, status):
    claim = difficulty(easy=values(-cl.EASY_GAP))
    assert statuses(claim) == ["pass", "pass", status]


def test_difficulty_reports_spans_the_control_and_both_baselines():
    claim = difficulty(easy=flat(0.5), baselines=[CNN, Baseline("dense MLP", "digits", 94.0, 95.0, "test")])
    assert claim.measured["span_hard"] == 20.0 and claim.measured["span_easy"] == 3.0
    assert claim.measured["max_abs_gap_long_easy"] == 0.5 and claim.measured["margin"] == 4.5
    assert statuses(claim) == ["pass", "pass", "pass", "pass", "fail"] and claim.verdict == PARTLY  # digits MLP < 95%
    with pytest.raises(ValueError, match="rho 0.2"):
        cl.difficulty_claim({0.1: flat(0.0)}, {0.1: flat(0.0)}, flat(3.0), flat(20.0), flat(3.0))


# ---- NTK timing -----------------------------------------------------------------------------------


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_LEAST])
def test_timing_mid_keeps_half_of_the_late_gap(values, status):
    mid = [v + cl.TIMING_SHARE * 2.0 for v in values(0.0)]  # mid - 0.5 x late = values(0)
    claim = cl.timing_claim(mid, flat(2.0))
    assert statuses(claim) == [status, "pass"] and claim.verdict == VERDICT[status]
    assert claim.measured["share"] == pytest.approx(sum(mid) / len(mid) / 2.0) and not claim.undefined


@pytest.mark.parametrize("late", [0.0, -1.0])
def test_timing_without_a_positive_late_gap_has_no_share(late):
    claim = cl.timing_claim(flat(-1.0), flat(late))
    assert math.isnan(claim.measured["share"]) and "share" in claim.undefined
    assert statuses(claim) == ["fail", "pass" if late == 0.0 else "fail"]


def test_timing_without_mid_runs():
    claim = cl.timing_claim(None, flat(2.0))
    assert set(claim.undefined) == {"gap_mid_01", "share"} and "mid_runs" in claim.undefined["gap_mid_01"]
    assert statuses(claim) == ["fail", "pass"] and claim.verdict == PARTLY
    assert cl.timing_claim(None, flat(-2.0)).verdict == NOT_REPRODUCED


# ---- collapse -------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_MOST])
def test_collapse_knee_against_the_full_apl(values, status):
    knees = [3.0 * v for v in values(cl.KNEE_RATIO)]
    claim = cl.collapse_claim(knees, flat(50.0), 3.0, [CNN])
    assert statuses(claim) == [status, "pass", "pass"] and claim.verdict == VERDICT[status]


@pytest.mark.parametrize("values, status", [(f, s) for f, s in SIDES_AT_LEAST])
def test_collapse_loss_at_half_the_knee(values, status):
    claim = cl.collapse_claim(flat(1.0), values(cl.COLLAPSE_LOSS), 3.0)
    assert statuses(claim) == ["pass", status]
    assert claim.measured["apl_knee"] == 1.0 and claim.measured["apl_full"] == 3.0


def test_collapse_leaves_out_seeds_without_a_span():
    claim = cl.collapse_claim([1.0, 1.0, 1.0], [50.0, math.nan, 50.0], 3.0)
    assert claim.measured["loss_at_half_knee"] == 50.0 and claim.checks[1].effect.seeds == 2
    claim = cl.collapse_claim([1.0, 1.0], [math.nan, math.nan], 3.0)
    assert "loss_at_half_knee" in claim.undefined and statuses(claim) == ["pass", "fail"]


# ---- core -----------------------------------------------------------------------------------------


def profiles(deviations):
    """Per seed, p_l = (0.2 + d, 0.5, 0.0) around a median profile of (0.2, 0.5, 0.0)."""
    return [[0.2 + d, 0.5, 0.0] for d in deviations]


@pytest.mark.parametrize(
    "deviations, status",
    [
        ([0.0] * 6 + [0.05] * 4, "pass"),  # distances 0 and 0.05 from the median 0.2: interval below 0.05
        ([0.0] * 6 + [0.09] * 4, "partly"),  # distances 0 and 0.09: interval [0.003, 0.069] straddles 0.05
    ],
)
def test_core_distance_to_the_median_profile(deviations, status):
    claim = cl.core_claim(profiles(deviations), flat(0.1), [CNN])
    assert statuses(claim) == [status, "pass"] and claim.verdict == VERDICT[status]
    assert claim.measured["p2_mean"] == 0.5 and claim.measured["rho_mean"] == pytest.approx(0.1)


def test_core_far_from_a_common_profile_fails():
    # half the seeds put their units in layer 1, half in layer 2: every seed is 0.15 from the median
    shares = [[0.5, 0.2, 0.0]] * 5 + [[0.2, 0.5, 0.0]] * 5
    claim = cl.core_claim(shares, flat(0.1))
    assert statuses(claim) == ["fail"] and claim.verdict == NOT_REPRODUCED
    assert claim.measured["max_layer_spread"] == pytest.approx(0.3)


def test_core_with_one_seed_has_no_spread():
    claim = cl.core_claim([[0.1, 0.2]], [0.1])
    assert "max_layer_spread" in claim.undefined and claim.verdict == REPRODUCED  # its own median
    with pytest.raises(ValueError, match="one rho per seed"):
        cl.core_claim([[0.1, 0.2], [0.1, 0.2]], [0.1])
