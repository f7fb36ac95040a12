"""The toolkit claim's criterion on inputs each side of, and exactly at, its threshold: the 95%
interval of the per-seed gap wholly at or below 2 points, straddling it, or wholly above it."""

import pytest
from scipy.stats import t

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Baseline
from linstruct.studies.toolkit import claims


def accuracies(gaps_points: list[float], network: float = 0.5) -> tuple[list[float], list[float]]:
    """Per-seed network and probe accuracies with the given gaps (probe above the network)."""
    return [network] * len(gaps_points), [network + g / 100 for g in gaps_points]


def claim_for(main_gaps, second_gaps, baselines=()):
    (net_m, probe_m), (net_s, probe_s) = accuracies(main_gaps), accuracies(second_gaps)
    return claims.probe_claim(["mnist1d", "digits"], [net_m, net_s], [probe_m, probe_s], baselines)


def gaps_with_interval(low: float, high: float) -> list[float]:
    """Two per-seed gaps whose 95% t-interval is [low, high]."""
    spread = (high - low) / 2 / float(t.ppf(0.975, 1))
    return [(low + high) / 2 - spread, (low + high) / 2 + spread]


TIGHT = [1.0] * 10  # interval [1, 1]


def test_tolerance_is_two_points_and_a_gap_exactly_at_it_holds():
    assert claims.TOLERANCE_POINTS == 2.0
    at = claim_for([2.0] * 10, TIGHT)
    assert at.measured["gap_high_main"] == 2.0 and at.verdict == REPRODUCED
    above = claim_for([2.01] * 10, TIGHT)
    assert [c.status for c in above.checks] == ["fail", "pass"] and above.verdict == PARTLY


@pytest.mark.parametrize(
    ("interval", "status"),
    [
        ((0.2, 1.9), "pass"),  # wholly at or below 2 points
        ((1.0, 3.0), "partly"),  # straddles 2 points
        ((1.9, 2.1), "partly"),
        ((2.1, 4.0), "fail"),  # wholly above
    ],
)
def test_the_interval_decides_each_dataset(interval, status):
    claim = claim_for(gaps_with_interval(*interval), TIGHT)
    assert (claim.measured["gap_low_main"], claim.measured["gap_high_main"]) == pytest.approx(interval, abs=1e-6)
    assert [c.status for c in claim.checks] == [status, "pass"]
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


def test_wholly_above_on_both_datasets_is_not_reproduced():
    claim = claim_for([3.0, 3.5, 4.0], [5.0, 5.0, 5.1])
    assert [c.status for c in claim.checks] == ["fail", "fail"] and claim.verdict == NOT_REPRODUCED


def test_gap_counts_both_directions_and_twenty_of_a_thousand_examples_is_exactly_two_points():
    assert claims.probe_gap_points([0.5, 0.5], [0.52, 0.47]) == pytest.approx([2.0, 3.0])
    # 100 * |0.843 - 0.823| is 2.0000000000000018 in floats; the gap is 20 of 1000 examples
    assert claims.probe_gap_points([0.823], [0.843]) == [2.0]
    claim = claims.probe_claim(["a", "b"], [[0.823]] * 2, [[0.843]] * 2)
    assert claim.verdict == REPRODUCED


def test_a_network_below_its_reference_is_a_failed_check_of_the_claim():
    trained = Baseline("MLP", "mnist1d", 69.9, 65.0, "r")
    under = Baseline("MLP", "digits", 90.0, 95.0, "r")
    control = Baseline("linear control", "digits", 20.0, None, "meant not to train")
    claim = claim_for(TIGHT, TIGHT, [trained, under, control])
    assert [c.status for c in claim.checks] == ["pass", "pass", "pass", "fail"]  # the control adds no check
    assert claim.verdict == PARTLY
    assert claim_for(TIGHT, TIGHT, [trained]).verdict == REPRODUCED


def test_measured_values_are_means_keyed_by_role_and_the_effect_is_the_main_gap():
    claim = claims.probe_claim(["a", "b"], [[0.9, 0.8], [0.6, 0.6]], [[0.91, 0.79], [0.5, 0.7]])
    assert claim.id == "probe_matches_network"
    assert claim.measured["network_main"] == pytest.approx(0.85)
    assert claim.measured["probe_main"] == pytest.approx(0.85)
    assert claim.measured["gap_points_main"] == pytest.approx(1.0)
    assert claim.measured["gap_points_second"] == pytest.approx(10.0)
    assert claim.measured["seeds_holding_second"] == 0.0
    assert "on a" in claim.checks[0].description and "on b" in claim.checks[1].description
    record = claim.as_record()
    assert record["effect"] == pytest.approx(1.0) and record["seeds"] == 2 and record["per_seed"] == [1.0, 1.0]


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="one entry per dataset role"):
        claims.probe_claim(["a"], [[0.5]], [[0.5]])
    with pytest.raises(ValueError, match="one network and one probe accuracy per seed"):
        claims.probe_gap_points([0.5, 0.5], [0.5])
