"""Every claim criterion of chapter 3 on both sides of each threshold and exactly at it."""

import math

import pytest

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED
from linstruct.studies.nonlinear_advantage import claims as cl


def statuses(claim):
    return [c.status for c in claim.checks]


# ---- helpers --------------------------------------------------------------------------------------


def test_rho_key_and_mean_se():
    assert [cl.rho_key(r) for r in (0.05, 0.1, 0.2, 0.02)] == ["005", "01", "02", "002"]
    assert cl.mean_se([3.0, 1.0]) == (2.0, 1.0)
    mean, se = cl.mean_se([4.0])
    assert mean == 4.0 and math.isnan(se)
    with pytest.raises(ValueError, match="at least one seed"):
        cl.mean_se([])


# ---- sanity ---------------------------------------------------------------------------------------


def sanity(linear_hard=30.0, logistic_hard=30.0, linear_easy=96.0, logistic_easy=96.0, binarise_shift=0.0):
    return cl.sanity_claim(linear_hard, logistic_hard, linear_easy, logistic_easy, binarise_shift)


@pytest.mark.parametrize(
    "linear_hard, status",
    [
        (32.0, "pass"),
        (28.0, "pass"),
        (32.5, "partly"),
        (34.0, "partly"),
        (26.0, "partly"),
        (34.5, "fail"),
        (25.5, "fail"),
    ],
)
def test_sanity_linear_net_against_logistic_on_mnist1d(linear_hard, status):
    claim = sanity(linear_hard=linear_hard)
    assert statuses(claim) == [status, "pass", "pass", "pass"]
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


@pytest.mark.parametrize(
    "linear_easy, below, above",
    [
        (92.0, "pass", "pass"),
        (91.5, "partly", "pass"),
        (90.0, "partly", "pass"),
        (89.5, "fail", "pass"),
        (97.0, "pass", "pass"),
        (97.5, "pass", "partly"),
        (98.0, "pass", "partly"),
        (98.5, "pass", "fail"),
    ],
)
def test_sanity_linear_net_against_logistic_on_digits(linear_easy, below, above):
    assert statuses(sanity(linear_easy=linear_easy)) == ["pass", below, above, "pass"]


@pytest.mark.parametrize("shift, status", [(1.0, "pass"), (1.5, "partly"), (2.0, "partly"), (2.5, "fail")])
def test_sanity_binarisation_shift(shift, status):
    assert statuses(sanity(binarise_shift=shift))[3] == status


def test_sanity_with_every_other_check_failing_is_still_partly():
    # the two digits checks bound opposite sides, so one of them always passes
    claim = sanity(linear_hard=40.0, linear_easy=80.0, binarise_shift=5.0)
    assert statuses(claim) == ["fail", "fail", "pass", "fail"] and claim.verdict == PARTLY
    assert claim.measured["logistic_easy"] == 96.0


# ---- advantage ------------------------------------------------------------------------------------


def flat(value, seeds=3):
    """Per-seed gaps all equal to ``value`` (standard error 0)."""
    return [value] * seeds


GOOD = {0.05: flat(1.0), 0.1: flat(3.0), 0.2: flat(5.0)}


def test_advantage_reproduced_and_its_measured_keys():
    claim = cl.advantage_claim(GOOD, GOOD)
    assert claim.verdict == REPRODUCED and statuses(claim) == ["pass"] * 6
    assert claim.measured["gap_early_01"] == 3.0 and claim.measured["se_long_02"] == 0.0
    assert set(claim.measured) == {
        f"{k}_{n}_{r}" for k in ("gap", "se") for n in ("early", "long") for r in ("005", "01", "02")
    }


@pytest.mark.parametrize(
    "gap_005, positive, significant",
    [
        (0.0, "partly", "pass"),  # mean exactly 0 is not > 0; two budgets are still significant
        (1e-9, "pass", "pass"),
    ],
)
def test_advantage_positive_at_every_budget(gap_005, positive, significant):
    claim = cl.advantage_claim({**GOOD, 0.05: flat(gap_005)}, GOOD)
    assert statuses(claim)[:3] == [positive, significant, "pass"]


def test_advantage_no_positive_budget_fails_the_count():
    gaps = {0.05: flat(-1.0), 0.1: flat(-1.0), 0.2: flat(-1.0)}
    claim = cl.advantage_claim(gaps, GOOD)
    assert statuses(claim)[:3] == ["fail", "fail", "fail"] and claim.verdict == PARTLY


@pytest.mark.parametrize(
    "seeds_01, status",
    [
        ([3.0, 1.0], "partly"),  # mean 2 = exactly 2 SE (SE 1): not significant, so one budget of three
        ([3.0, 1.01], "pass"),
    ],
)  # mean just above 2 SE: significant at two budgets
def test_advantage_significance_is_strictly_above_two_standard_errors(seeds_01, status):
    gaps = {0.05: [1.0, -1.0], 0.1: seeds_01, 0.2: flat(5.0, 2)}
    assert statuses(cl.advantage_claim(gaps, GOOD))[1] == status


@pytest.mark.parametrize("gap, status", [(2.0, "pass"), (1.999, "partly"), (0.0, "partly"), (-0.001, "fail")])
def test_advantage_minimum_gap_at_the_larger_budgets(gap, status):
    claim = cl.advantage_claim(GOOD, {**GOOD, 0.1: flat(gap), 0.2: flat(5.0)})
    assert statuses(claim)[5] == status
    claim = cl.advantage_claim(GOOD, {**GOOD, 0.1: flat(5.0), 0.2: flat(gap)})
    assert statuses(claim)[5] == status


def test_advantage_with_one_seed_marks_the_standard_errors_undefined():
    one = {r: [g[0]] for r, g in GOOD.items()}
    claim = cl.advantage_claim(one, one)
    assert math.isnan(claim.measured["se_early_01"])
    assert set(claim.undefined) == {f"se_{n}_{r}" for n in ("early", "long") for r in ("005", "01", "02")}
    assert statuses(claim) == ["pass", "fail", "pass"] * 2 and claim.verdict == PARTLY


def test_advantage_needs_the_larger_budgets():
    with pytest.raises(ValueError, match="rho 0.2"):
        cl.advantage_claim({0.05: flat(1.0), 0.1: flat(3.0)}, GOOD)


# ---- unused capacity ------------------------------------------------------------------------------


@pytest.mark.parametrize("rho, verdict", [(0.4, REPRODUCED), (0.41, PARTLY), (0.6, PARTLY), (0.61, NOT_REPRODUCED)])
def test_unused_capacity_threshold(rho, verdict):
    claim = cl.unused_capacity_claim([rho, rho], [0.7, 0.9], 80.0)
    assert claim.verdict == verdict
    assert claim.measured["rho_within_3pts"] == rho and claim.measured["rho_95"] == pytest.approx(0.8)


def test_unused_capacity_averages_over_seeds():
    assert cl.unused_capacity_claim([0.25, 0.5], [1.0], 80.0).measured["rho_within_3pts"] == 0.375


# ---- difficulty -----------------------------------------------------------------------------------


def difficulty(easy_02=0.5, easy_other=0.0, hard=3.5):
    easy = {0.02: flat(easy_other), 0.05: flat(0.0), 0.1: flat(0.0), 0.2: flat(easy_02)}
    return cl.difficulty_claim(easy, easy, flat(hard), flat(20.0), flat(3.0))


@pytest.mark.parametrize(
    "worst, status", [(1.0, "pass"), (-1.0, "pass"), (1.5, "partly"), (-2.0, "partly"), (2.5, "fail")]
)
def test_difficulty_gap_on_digits(worst, status):
    assert statuses(difficulty(easy_other=worst)) == [status, "pass"]


@pytest.mark.parametrize("hard, status", [(3.5, "pass"), (3.25, "partly"), (1.5, "partly"), (1.25, "fail")])
def test_difficulty_margin_over_digits(hard, status):
    claim = difficulty(hard=hard)  # digits gap at 0.2 is 0.5
    assert statuses(claim) == ["pass", status]
    assert claim.measured["gap_hard_02"] == hard and claim.measured["gap_easy_02"] == 0.5


def test_difficulty_reports_spans_and_the_control():
    claim = difficulty()
    assert claim.measured["span_hard"] == 20.0 and claim.measured["span_easy"] == 3.0
    assert claim.measured["max_abs_gap_long_easy"] == 0.5
    with pytest.raises(ValueError, match="rho 0.2"):
        cl.difficulty_claim({0.1: flat(0.0)}, {0.1: flat(0.0)}, flat(3.0), flat(20.0), flat(3.0))


# ---- NTK timing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mid, verdict", [(1.0, REPRODUCED), (0.9, PARTLY), (0.5, PARTLY), (0.4, NOT_REPRODUCED), (-0.25, NOT_REPRODUCED)]
)
def test_timing_share_of_the_late_gap(mid, verdict):
    claim = cl.timing_claim(flat(mid), flat(2.0))
    assert claim.verdict == verdict
    assert claim.measured["share"] == pytest.approx(mid / 2.0) and not claim.undefined


@pytest.mark.parametrize("late", [0.0, -1.0])
def test_timing_without_a_positive_late_gap_has_no_share(late):
    claim = cl.timing_claim(flat(1.0), flat(late))
    assert math.isnan(claim.measured["share"]) and "share" in claim.undefined
    assert claim.verdict == NOT_REPRODUCED


def test_timing_without_mid_runs():
    claim = cl.timing_claim(None, flat(2.0))
    assert set(claim.undefined) == {"gap_mid_01", "share"} and "mid_runs" in claim.undefined["gap_mid_01"]
    assert claim.verdict == NOT_REPRODUCED


# ---- collapse -------------------------------------------------------------------------------------


@pytest.mark.parametrize("knee, status", [(1.5, "pass"), (1.6, "partly"), (2.25, "partly"), (2.4, "fail")])
def test_collapse_knee_against_the_full_apl(knee, status):
    claim = cl.collapse_claim([knee, knee], [50.0, 50.0], 3.0)
    assert statuses(claim) == [status, "pass"]


@pytest.mark.parametrize("loss, status", [(40.0, "pass"), (39.0, "partly"), (25.0, "partly"), (24.0, "fail")])
def test_collapse_loss_at_half_the_knee(loss, status):
    claim = cl.collapse_claim([1.0, 1.0], [loss, loss], 3.0)
    assert statuses(claim) == ["pass", status]
    assert claim.measured["apl_knee"] == 1.0 and claim.measured["apl_full"] == 3.0


def test_collapse_without_a_span_marks_the_loss_undefined():
    claim = cl.collapse_claim([1.0, 1.0], [50.0, math.nan], 3.0)
    assert "loss_at_half_knee" in claim.undefined
    assert statuses(claim) == ["pass", "fail"] and claim.verdict == PARTLY


# ---- core -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("top, verdict", [(0.1, REPRODUCED), (0.125, PARTLY), (0.2, PARTLY), (0.25, NOT_REPRODUCED)])
def test_core_spread_across_seeds(top, verdict):
    claim = cl.core_claim([[top, 0.5, 0.0], [0.0, 0.5, 0.0], [0.0, 0.5, 0.0]], [0.1, 0.1, 0.1])
    assert claim.verdict == verdict and claim.measured["max_layer_spread"] == top
    assert claim.measured["p2_mean"] == 0.5 and claim.measured["rho_mean"] == pytest.approx(0.1)


def test_core_with_one_seed_has_no_spread():
    claim = cl.core_claim([[0.1, 0.2]], [0.1])
    assert "max_layer_spread" in claim.undefined and claim.verdict == NOT_REPRODUCED
    with pytest.raises(ValueError, match="one rho per seed"):
        cl.core_claim([[0.1, 0.2], [0.1, 0.2]], [0.1])
