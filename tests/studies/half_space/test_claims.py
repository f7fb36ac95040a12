"""Chapter 1's claim criteria: inputs on both sides of every threshold and exactly at it."""

import math
import statistics

import pytest

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED
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


# ---------------------------------------------------------------- the DLGN learns
def learns(**change):
    values = (
        dict(
            dlgn_steps=[100.0, 200.0, 300.0],
            dlgn_final=[0.003, 0.002, 0.004],
            relu_final=[0.001, 0.001, 0.001],
            dln_final=[0.3, 0.3, 0.3],
        )
        | change
    )
    return c.learns_claim(**values)


def test_learns_claim_all_pass():
    claim = learns()
    assert claim.verdict == REPRODUCED and statuses(claim) == ["pass", "pass", "pass"]
    assert claim.measured["dlgn_seeds_converged"] == 1.0 and claim.measured["dlgn_median_final_mse"] == 0.003


@pytest.mark.parametrize(
    "steps,status",
    [
        ([100.0, 200.0, INF], "pass"),  # exactly 2 of 3
        ([100.0, INF, INF], "partly"),  # exactly 1 of 3
        ([INF, INF, INF], "fail"),
    ],
)
def test_learns_claim_share_of_converged_dlgn_seeds(steps, status):
    claim = learns(dlgn_steps=steps)
    assert statuses(claim)[0] == status
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


@pytest.mark.parametrize("relu,status", [([0.001, c.CONVERGED_MSE, 0.5], "pass"), ([0.001, 0.0101, 0.5], "fail")])
def test_learns_claim_relu_median_is_at_most_the_level(relu, status):
    assert statuses(learns(relu_final=relu))[1] == status


@pytest.mark.parametrize("dln,status", [([c.LINEAR_FLOOR_MSE, 0.3, 0.3], "pass"), ([0.2499, 0.3, 0.3], "fail")])
def test_learns_claim_deep_linear_floor_is_inclusive(dln, status):
    assert statuses(learns(dln_final=dln))[2] == status


def test_learns_claim_nothing_passes():
    claim = learns(dlgn_steps=[INF, INF, INF], relu_final=[0.02] * 3, dln_final=[0.2] * 3)
    assert claim.verdict == NOT_REPRODUCED and statuses(claim) == ["fail", "fail", "fail"]


# ---------------------------------------------------------------- frozen gating stalls
@pytest.mark.parametrize(
    "learned,frozen,verdict",
    [
        ([0.003, 0.003], [0.24, 0.11], REPRODUCED),
        ([0.003, 0.003], [0.24, c.FROZEN_STALLED_MSE], PARTLY),  # frozen must be strictly above 0.1
        ([0.003, c.CONVERGED_MSE], [0.24, 0.24], PARTLY),  # learned must be strictly below 0.01
        ([0.009, 0.009], [0.1001, 0.1001], REPRODUCED),
        ([0.003, 0.02, 0.02], [0.24, 0.24, 0.24], NOT_REPRODUCED),  # 1 of 3 < half
        ([0.02, 0.02], [0.24, 0.05], NOT_REPRODUCED),
    ],
)
def test_frozen_claim_per_seed_strict_thresholds(learned, frozen, verdict):
    claim = c.frozen_claim(learned, frozen, beta=4.0)
    assert claim.verdict == verdict
    assert claim.measured["frozen_median_final_mse"] == statistics.median(frozen)


def test_frozen_claim_needs_aligned_seeds():
    with pytest.raises(ValueError):
        c.frozen_claim([0.003, 0.003], [0.24], beta=4.0)


# ---------------------------------------------------------------- overlap kernel changes
@pytest.mark.parametrize(
    "learned,frozen,verdict",
    [
        ([0.9, c.KERNEL_CHANGE_MIN], [0.0, 0.0], REPRODUCED),  # exactly 0.3 counts
        ([0.9, 0.2999], [0.0, 0.0], PARTLY),
        ([0.9, 0.9], [0.0, 1e-12], PARTLY),  # frozen gating must leave the kernel exactly unchanged
        ([0.1, 0.9, 0.9], [0.0, 1e-12, 1e-12], NOT_REPRODUCED),
    ],
)
def test_kernel_change_claim(learned, frozen, verdict):
    claim = c.kernel_change_claim(learned, frozen, {"relu": 0.5, "dlgn": 0.7})
    assert claim.verdict == verdict
    assert claim.measured["ntk_change_dlgn"] == 0.7 and claim.measured["frozen_max_change"] == max(frozen)


# ---------------------------------------------------------------- smooth-region allocation
@pytest.mark.parametrize(
    "r_final,bottom_final,verdict",
    [
        ([3.0, 3.0], [0.5, 0.5], REPRODUCED),  # gain exactly 1.5
        ([3.0, 2.9], [0.5, 0.5], PARTLY),  # gain 1.45 in one seed
        ([3.0, 3.0], [0.5, 1.0], PARTLY),  # bottom block must strictly decrease
        ([2.9, 2.9], [0.5, 0.5], NOT_REPRODUCED),
    ],
)
def test_allocation_claim(r_final, bottom_final, verdict):
    claim = c.allocation_claim(
        r_initial=[2.0, 2.0], r_final=r_final, bottom_initial=[1.0, 1.0], bottom_final=bottom_final
    )
    assert claim.verdict == verdict
    assert claim.measured["min_R_gain"] == min(r_final) / 2.0 and claim.measured["median_R0"] == 2.0


def test_allocation_claim_marks_an_empty_bottom_block_undefined():
    claim = c.allocation_claim(
        r_initial=[2.0, 2.0], r_final=[INF, INF], bottom_initial=[1.0, 1.0], bottom_final=[0.0, 0.0]
    )
    assert claim.verdict == REPRODUCED
    assert set(claim.undefined) == {"median_R_gain", "min_R_gain", "median_R_final"}


# ---------------------------------------------------------------- ReLU analogue
@pytest.mark.parametrize(
    "gains,verdict", [([1.0001, 5.0], REPRODUCED), ([c.RELU_R_GAIN_MIN, 5.0], PARTLY), ([1.0, 0.9], NOT_REPRODUCED)]
)
def test_relu_analogue_claim_needs_a_gain_strictly_above_one(gains, verdict):
    assert c.relu_analogue_claim(gains).verdict == verdict


# ---------------------------------------------------------------- later layers cluster
def clustering(**change):
    values = (
        dict(
            depth=3,
            last_init=[2.0],
            last_final=[1.0],
            first_init=[5.0],
            first_final=[5.0],
            last_near_90=[0.5],
            sf_last_init=[2.0],
            sf_last_final=[2.0],
        )
        | change
    )
    return c.clustering_claim(**values)


@pytest.mark.parametrize(
    "change,verdict",
    [
        ({}, REPRODUCED),
        ({"last_final": [1.4]}, REPRODUCED),  # entropy ratio exactly 0.7 counts
        ({"last_final": [1.5]}, NOT_REPRODUCED),
        ({"depth": 1}, NOT_REPRODUCED),  # one layer has no later layers
        ({"first_final": [5.5]}, REPRODUCED),  # layer 1 changes by 10%
        ({"first_final": [6.0]}, NOT_REPRODUCED),  # exactly 20% is too much
        ({"first_final": [1.0], "first_init": [1.0]}, NOT_REPRODUCED),  # last layer must end strictly below layer 1
        ({"last_near_90": [c.NEAR_VERTICAL_SHARE_MIN]}, REPRODUCED),
        ({"last_near_90": [0.29]}, NOT_REPRODUCED),
        ({"sf_last_final": [1.41]}, REPRODUCED),
        ({"sf_last_final": [1.4]}, NOT_REPRODUCED),  # the control must stay strictly above 0.7
    ],
)
def test_clustering_claim_thresholds(change, verdict):
    assert clustering(**change).verdict == verdict


def test_clustering_claim_share_of_seeds():
    two = dict(
        last_init=[2.0, 2.0],
        last_final=[1.0, 1.9],
        first_init=[5.0, 5.0],
        first_final=[5.0, 5.0],
        last_near_90=[0.5, 0.5],
        sf_last_init=[2.0, 2.0],
        sf_last_final=[2.0, 2.0],
    )
    claim = clustering(**two)
    assert claim.verdict == PARTLY and claim.measured["seeds_holding"] == 0.5
    assert claim.measured["median_last_layer_entropy_ratio"] == pytest.approx(0.725)


def test_clustering_claim_zero_initial_entropy_is_undefined():
    claim = clustering(last_init=[0.0])
    assert claim.verdict == NOT_REPRODUCED and "median_last_layer_entropy_ratio" in claim.undefined


# ---------------------------------------------------------------- frozen versus beta
def beta_run(learned_steps=100.0, frozen_steps=INF, learned_mse=0.003, frozen_mse=0.01):
    return {
        "learned_steps": learned_steps,
        "frozen_steps": frozen_steps,
        "learned_mse": learned_mse,
        "frozen_mse": frozen_mse,
    }


@pytest.mark.parametrize(
    "run,holds",
    [
        (beta_run(), True),  # frozen never converges
        (beta_run(frozen_steps=300.0), True),  # exactly 3x the steps
        (beta_run(frozen_steps=299.0), False),
        (beta_run(learned_steps=INF, learned_mse=1.0, frozen_mse=5.0), True),  # exactly 5x the MSE
        (beta_run(learned_steps=INF, learned_mse=1.0, frozen_mse=4.99), False),
        (beta_run(frozen_steps=200.0, learned_mse=1.0, frozen_mse=5.0), True),
    ],
)
def test_beta_claim_per_beta_criterion(run, holds):
    claim = c.beta_claim({4.0: run})
    assert claim.verdict == (REPRODUCED if holds else NOT_REPRODUCED)
    assert claim.measured["beta_4_final_mse_ratio"] == run["frozen_mse"] / run["learned_mse"]


def test_beta_claim_judges_only_betas_up_to_ten():
    failing = beta_run(frozen_steps=100.0)
    assert c.beta_claim({c.BETA_JUDGED_MAX: beta_run(), 30.0: failing}).verdict == REPRODUCED
    assert c.beta_claim({c.BETA_JUDGED_MAX: failing, 30.0: beta_run()}).verdict == NOT_REPRODUCED
    half = c.beta_claim({1.0: beta_run(), 0.5: failing})
    assert half.verdict == PARTLY and "beta_0p5_final_mse_ratio" in half.measured


def test_beta_claim_undefined_values():
    none_judged = c.beta_claim({30.0: beta_run()})
    assert none_judged.verdict == NOT_REPRODUCED and "share_of_betas_holding" in none_judged.undefined
    exact_fit = c.beta_claim({4.0: beta_run(learned_mse=0.0)})
    assert exact_fit.verdict == REPRODUCED and "beta_4_final_mse_ratio" in exact_fit.undefined


# ---------------------------------------------------------------- features are indicators
@pytest.mark.parametrize(
    "main,top,expected",
    [
        ([0.05, c.HARD_GATE_MSE_MAX, 0.2], c.HARD_GATE_MSE_MAX, ["pass", "pass"]),  # both exactly at 0.1
        ([0.05, 0.1001, 0.2], 0.05, ["fail", "pass"]),
        ([1.36, 1.4, 1.3], 0.105, ["fail", "fail"]),
    ],
)
def test_hard_gate_claim(main, top, expected):
    claim = c.hard_gate_claim(main, {4.0: 1.0, 30.0: top}, beta=4.0)
    assert statuses(claim) == expected
    assert claim.verdict == {2: REPRODUCED, 1: PARTLY, 0: NOT_REPRODUCED}[expected.count("pass")]
    assert claim.measured["hard_gate_mse_largest_beta"] == top


# ---------------------------------------------------------------- Fashion-MNIST
def fashion(dlgn=70.0, relu=70.0, frozen=60.0, dln=60.0, init=1.0, final=1.2):
    return c.fashion_claim(
        {"dlgn": [dlgn, dlgn], "relu": [relu, relu], "frozen": [frozen], "dln": [dln]}, init, final, "fashion-mnist"
    )


@pytest.mark.parametrize(
    "change,expected",
    [
        ({}, ["pass"] * 4),
        ({"relu": 73.0}, ["pass"] * 4),  # exactly 3 points behind ReLU
        ({"relu": 73.5}, ["fail", "pass", "pass", "pass"]),
        ({"dln": 70.0, "frozen": 70.0}, ["pass"] * 4),  # ties with the controls count
        ({"dln": 70.5}, ["pass", "fail", "pass", "pass"]),
        ({"frozen": 70.5}, ["pass", "pass", "fail", "pass"]),
        ({"final": 1.0}, ["pass"] * 4),  # an unchanged class ratio counts
        ({"final": 0.99}, ["pass", "pass", "pass", "fail"]),
    ],
)
def test_fashion_claim_checks(change, expected):
    claim = fashion(**change)
    assert statuses(claim) == expected
    assert claim.verdict == (REPRODUCED if expected == ["pass"] * 4 else PARTLY)


def test_fashion_claim_nothing_passes_and_means_over_seeds():
    claim = fashion(dlgn=10.0, relu=90.0, frozen=50.0, dln=50.0, final=0.5)
    assert claim.verdict == NOT_REPRODUCED
    mixed = c.fashion_claim({"dlgn": [60.0, 80.0], "relu": [70.0], "frozen": [0.0], "dln": [0.0]}, 1.0, 2.0, "digits")
    assert mixed.measured["dlgn_accuracy"] == 70.0 and mixed.measured["class_ratio_gain"] == 2.0
    assert "digits" in mixed.criterion


def test_ratio_never_divides_by_zero():
    assert c.ratio(1.0, 0.0) == INF and c.ratio(-1.0, 0.0) == -INF and math.isnan(c.ratio(0.0, 0.0))
    assert c.ratio(3.0, 2.0) == 1.5
