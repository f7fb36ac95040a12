"""Chapter 1's claim criteria: inputs on both sides of every threshold and exactly at it."""

import math
import statistics

import pytest

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Baseline
from linstruct.studies.half_space import claims as c

INF = math.inf


def statuses(claim):
    return [check.status for check in claim.checks]


# ---------------------------------------------------------------- path sum
@pytest.mark.parametrize(
    "worst,verdict", [(0.0, REPRODUCED), (c.PATH_SUM_TOLERANCE, REPRODUCED), (2 * c.PATH_SUM_TOLERANCE, NOT_REPRODUCED)]
)
def test_path_claim_judges_the_worst_error_inclusively(worst, verdict):
    claim = c.path_claim({"relu": 0.0, "dlgn": worst})
    assert claim.verdict == verdict and claim.measured["max_relative_error"] == worst


# ---------------------------------------------------------------- intervals over seeds
FIVE = 5  # constant per-seed values: the interval is the value itself, so the boundary is exact


def same(value, n=FIVE):
    return [value] * n


def straddling(centre, n=FIVE):
    """Per-seed values whose 95% interval contains ``centre`` (mean centre, spread +-1)."""
    return [centre + d for d in (-1.0, 1.0, 0.0, -0.5, 0.5)][:n]


def test_log10_mse_floors_an_exact_fit():
    assert c.log10_mse([0.01, 0.0]) == [pytest.approx(-2.0), pytest.approx(math.log10(c.MSE_FLOOR))]


# ---------------------------------------------------------------- the DLGN learns
def learns(**change):
    values = (
        dict(
            dlgn_steps=same(100.0),
            dlgn_final=same(0.003),
            relu_final=same(0.001),
            dln_final=same(0.3),
        )
        | change
    )
    return c.learns_claim(**values)


def test_learns_claim_all_pass_and_reports_the_dlgn_log_mse():
    claim = learns(dlgn_steps=[100.0, 200.0, INF, 300.0, 400.0])
    assert claim.verdict == REPRODUCED and statuses(claim) == ["pass", "pass", "pass"]
    assert claim.measured["dlgn_seeds_converged"] == 0.8 and claim.measured["dlgn_median_final_mse"] == 0.003
    assert claim.headline.effect.mean == pytest.approx(math.log10(0.003)) and claim.headline.effect.seeds == FIVE


@pytest.mark.parametrize(
    "dlgn,status",
    [
        (same(c.CONVERGED_MSE), "pass"),  # exactly at the level
        (same(0.0101), "fail"),
        ([0.001, 0.001, 0.001, 0.001, 0.5], "partly"),  # one poor seed widens the interval across the level
    ],
)
def test_learns_claim_dlgn_interval(dlgn, status):
    claim = learns(dlgn_final=dlgn)
    assert statuses(claim)[0] == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


@pytest.mark.parametrize("relu,status", [(same(c.CONVERGED_MSE), "pass"), (same(0.0101), "fail")])
def test_learns_claim_relu_is_at_most_the_level(relu, status):
    assert statuses(learns(relu_final=relu))[1] == status


@pytest.mark.parametrize("dln,status", [(same(c.LINEAR_FLOOR_MSE), "pass"), (same(0.2499), "fail")])
def test_learns_claim_deep_linear_floor_is_inclusive(dln, status):
    assert statuses(learns(dln_final=dln))[2] == status


def test_learns_claim_nothing_passes():
    claim = learns(dlgn_final=same(0.05), relu_final=same(0.02), dln_final=same(0.2))
    assert claim.verdict == NOT_REPRODUCED and statuses(claim) == ["fail", "fail", "fail"]


# ---------------------------------------------------------------- frozen gating stalls
@pytest.mark.parametrize(
    "learned,frozen,expected",
    [
        (same(0.003), same(0.24), ["pass", "pass"]),
        (same(0.003), same(c.FROZEN_STALLED_MSE), ["pass", "pass"]),  # the stall level is inclusive
        (same(0.003), same(0.0999), ["fail", "pass"]),
        (same(0.003), [0.01, 0.3, 0.3, 0.3, 0.01], ["partly", "pass"]),
        (same(c.CONVERGED_MSE), same(0.24), ["pass", "pass"]),
        (same(0.02), same(0.05), ["fail", "fail"]),
    ],
)
def test_frozen_claim_intervals(learned, frozen, expected):
    claim = c.frozen_claim(learned, frozen, beta=4.0)
    assert statuses(claim) == expected
    assert claim.measured["frozen_median_final_mse"] == statistics.median(frozen)


def test_frozen_claim_needs_aligned_seeds():
    with pytest.raises(ValueError, match="one value per seed"):
        c.frozen_claim([0.003, 0.003], [0.24], beta=4.0)


# ---------------------------------------------------------------- overlap kernel changes
@pytest.mark.parametrize(
    "learned,frozen,expected",
    [
        (same(c.KERNEL_CHANGE_MIN), same(0.0), ["pass", "pass"]),  # exactly 0.3 counts
        (same(0.2999), same(0.0), ["fail", "pass"]),
        ([0.1, 0.9, 0.9, 0.9, 0.9], same(0.0), ["partly", "pass"]),
        (same(0.9), [0.0, 1e-12, 0.0, 0.0, 0.0], ["pass", "fail"]),  # frozen gating must leave it exactly unchanged
    ],
)
def test_kernel_change_claim(learned, frozen, expected):
    claim = c.kernel_change_claim(learned, frozen, {"relu": 0.5, "dlgn": 0.7})
    assert statuses(claim) == expected
    assert claim.measured["ntk_change_dlgn"] == 0.7 and claim.measured["frozen_max_change"] == max(frozen)


# ---------------------------------------------------------------- smooth-region allocation
@pytest.mark.parametrize(
    "r_final,bottom_final,expected",
    [
        (same(3.0), same(0.5), ["pass", "pass"]),  # gain exactly 1.5
        (same(2.9), same(0.5), ["fail", "pass"]),
        ([3.0, 3.0, 3.0, 3.0, 1.0], same(0.5), ["partly", "pass"]),
        (same(3.0), [0.5, 0.5, 0.5, 1.0, 1.0], ["pass", "partly"]),  # the bottom block must strictly fall
        (same(3.0), [0.5, 1.0, 1.0, 1.0, 1.0], ["pass", "fail"]),
    ],
)
def test_allocation_claim(r_final, bottom_final, expected):
    claim = c.allocation_claim(
        r_initial=same(2.0), r_final=r_final, bottom_initial=same(1.0), bottom_final=bottom_final
    )
    assert statuses(claim) == expected
    assert claim.measured["min_R_gain"] == min(r_final) / 2.0 and claim.measured["median_R0"] == 2.0


def test_allocation_claim_leaves_infinite_gains_out_and_marks_them_undefined():
    claim = c.allocation_claim(
        r_initial=same(2.0), r_final=[INF, 4.0, 4.0, 4.0, 4.0], bottom_initial=same(1.0), bottom_final=same(0.5)
    )
    assert claim.verdict == REPRODUCED and "1 undefined seed(s) left out" in claim.checks[0].description
    assert claim.headline.effect.seeds == 4
    every = c.allocation_claim(r_initial=same(2.0), r_final=same(INF), bottom_initial=same(1.0), bottom_final=same(0.0))
    assert every.verdict == REPRODUCED and every.headline is None  # judged as a share of seeds
    assert set(every.undefined) == {"median_R_gain", "min_R_gain", "median_R_final"}


# ---------------------------------------------------------------- ReLU analogue
@pytest.mark.parametrize(
    "gains,verdict",
    [(same(c.RELU_R_GAIN_MIN), REPRODUCED), (straddling(1.0), PARTLY), (same(0.9), NOT_REPRODUCED)],
)
def test_relu_analogue_claim(gains, verdict):
    assert c.relu_analogue_claim(gains).verdict == verdict


# ---------------------------------------------------------------- later layers cluster
def clustering(**change):
    values = (
        dict(
            depth=3,
            last_init=same(2.0),
            last_final=same(1.0),
            first_init=same(5.0),
            first_final=same(5.0),
            last_near_90=same(0.5),
            sf_last_init=same(2.0),
            sf_last_final=same(2.0),
        )
        | change
    )
    return c.clustering_claim(**values)


@pytest.mark.parametrize(
    "change,expected",
    [
        ({}, ["pass"] * 4),
        ({"last_final": same(1.4)}, ["pass"] * 4),  # entropy ratio exactly 0.7 counts
        ({"last_final": same(1.5)}, ["pass", "fail", "pass", "pass"]),
        ({"last_final": [1.0, 1.0, 1.0, 1.0, 1.9]}, ["pass", "partly", "pass", "pass"]),
        ({"depth": 1}, ["fail", "pass", "pass", "pass"]),  # one layer has no later layers
        ({"first_final": same(5.5)}, ["pass"] * 4),  # layer 1 changes by 10%
        ({"first_final": same(6.0)}, ["pass", "pass", "pass", "fail"]),  # exactly 20% is too much
        ({"first_final": same(1.0), "first_init": same(1.0)}, ["pass", "pass", "pass", "fail"]),  # last below layer 1
        ({"last_near_90": same(c.NEAR_VERTICAL_SHARE_MIN)}, ["pass"] * 4),
        ({"last_near_90": [0.29, 0.29, 0.5, 0.5, 0.5]}, ["pass", "pass", "pass", "partly"]),
        ({"sf_last_final": same(1.4)}, ["pass"] * 4),  # the control's bound is inclusive
        ({"sf_last_final": same(1.3)}, ["pass", "pass", "fail", "pass"]),
    ],
)
def test_clustering_claim_checks(change, expected):
    assert statuses(clustering(**change)) == expected


def test_clustering_claim_zero_initial_entropy_is_undefined():
    claim = clustering(last_init=same(0.0))
    assert "median_last_layer_entropy_ratio" in claim.undefined and statuses(claim)[1] == "fail"


# ---------------------------------------------------------------- frozen versus beta
def beta_run(learned=0.2, frozen=1.0):
    return {"learned_mse": same(learned), "frozen_mse": same(frozen)}


@pytest.mark.parametrize(
    "run,status",
    [
        (beta_run(learned=0.2, frozen=1.0), "pass"),  # exactly 5x the MSE
        (beta_run(learned=0.2, frozen=0.99), "fail"),
        ({"learned_mse": same(0.002), "frozen_mse": [0.002, 0.1, 0.1, 0.1, 0.002]}, "partly"),
        (beta_run(learned=0.0, frozen=0.01), "pass"),  # an exact fit counts as a very good one
    ],
)
def test_beta_claim_per_beta_interval(run, status):
    claim = c.beta_claim({4.0: run})
    assert statuses(claim) == [status]
    assert "beta_4_log10_mse_ratio" in claim.measured


def test_beta_claim_judges_only_betas_up_to_ten():
    failing = beta_run(frozen=0.2)
    assert c.beta_claim({c.BETA_JUDGED_MAX: beta_run(), 30.0: failing}).verdict == REPRODUCED
    assert c.beta_claim({c.BETA_JUDGED_MAX: failing, 30.0: beta_run()}).verdict == NOT_REPRODUCED
    half = c.beta_claim({1.0: beta_run(), 0.5: failing})
    assert half.verdict == PARTLY and "beta_0p5_log10_mse_ratio" in half.measured
    assert half.headline.description.startswith("beta 0.5")  # the smallest beta is the headline


def test_beta_claim_with_no_judged_beta_is_not_reproduced():
    claim = c.beta_claim({30.0: beta_run()})
    assert claim.verdict == NOT_REPRODUCED and "nothing to judge" in claim.checks[0].description


# ---------------------------------------------------------------- features are indicators
@pytest.mark.parametrize(
    "main,top,expected",
    [
        (same(c.HARD_GATE_MSE_MAX), same(c.HARD_GATE_MSE_MAX), ["pass", "pass"]),  # both exactly at 0.1
        (same(0.1001), same(0.05), ["fail", "pass"]),
        ([0.01, 0.01, 0.01, 0.01, 1.0], same(0.05), ["partly", "pass"]),
        (same(1.4), same(0.105), ["fail", "fail"]),
    ],
)
def test_hard_gate_claim(main, top, expected):
    claim = c.hard_gate_claim(main, top, beta=4.0, top_beta=30.0)
    assert statuses(claim) == expected
    assert claim.measured["hard_gate_mse_largest_beta"] == statistics.median(top)
    assert claim.headline.effect.values == tuple(main)


# ---------------------------------------------------------------- Fashion-MNIST
def fashion(dlgn=87.0, relu=87.0, frozen=80.0, dln=80.0, init=1.0, final=1.2, baselines=()):
    return c.fashion_claim(
        {"dlgn": same(dlgn), "relu": same(relu), "frozen": same(frozen), "dln": same(dln)},
        init,
        final,
        "fashion-mnist",
        baselines,
    )


@pytest.mark.parametrize(
    "change,expected",
    [
        ({}, ["pass"] * 4),
        ({"relu": 90.0}, ["pass"] * 4),  # exactly 3 points behind ReLU
        ({"relu": 90.5}, ["fail", "pass", "pass", "pass"]),
        ({"dln": 87.0, "frozen": 87.0}, ["pass"] * 4),  # ties with the controls count
        ({"dln": 87.5}, ["pass", "fail", "pass", "pass"]),
        ({"frozen": 87.5}, ["pass", "pass", "fail", "pass"]),
        ({"final": 1.0}, ["pass"] * 4),  # an unchanged class ratio counts
        ({"final": 0.99}, ["pass", "pass", "pass", "fail"]),
    ],
)
def test_fashion_claim_checks(change, expected):
    claim = fashion(**change)
    assert statuses(claim) == expected
    assert claim.verdict == (REPRODUCED if expected == ["pass"] * 4 else PARTLY)


def test_fashion_claim_pairs_seeds_and_the_gap_interval_can_straddle():
    claim = c.fashion_claim(
        {"dlgn": [84.0, 88.0, 86.0, 85.0, 87.0], "relu": same(88.0), "frozen": same(80.0), "dln": same(80.0)},
        1.0,
        1.2,
        "fashion-mnist",
    )
    assert claim.headline.effect.values == (-4.0, 0.0, -2.0, -3.0, -1.0) and statuses(claim)[0] == "partly"
    assert claim.measured["dlgn_accuracy"] == 86.0


def test_fashion_claim_baselines_gate_the_verdict():
    met = [
        Baseline("ReLU MLP", "fashion-mnist", 88.0, 87.0, "ref"),
        Baseline("DLGN", "fashion-mnist", 87.0, 86.0, "ref"),
    ]
    assert fashion(baselines=met).verdict == REPRODUCED and statuses(fashion(baselines=met))[-2:] == ["pass", "pass"]
    missed = [Baseline("DLGN", "fashion-mnist", 70.0, 86.0, "ref")]
    assert (
        fashion(baselines=missed).verdict == PARTLY
        and "70.0% >= 86%" in fashion(baselines=missed).checks[-1].description
    )
    assert fashion(dlgn=10.0, final=0.5, baselines=met).verdict == NOT_REPRODUCED  # met baselines lift nothing


def test_fashion_claim_nothing_passes():
    assert fashion(dlgn=10.0, relu=90.0, frozen=50.0, dln=50.0, final=0.5).verdict == NOT_REPRODUCED


def test_ratio_never_divides_by_zero():
    assert c.ratio(1.0, 0.0) == INF and c.ratio(-1.0, 0.0) == -INF and math.isnan(c.ratio(0.0, 0.0))
    assert c.ratio(3.0, 2.0) == 1.5
