"""The toolkit claim's criterion on inputs each side of, and exactly at, every threshold."""

import pytest

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED
from linstruct.studies.toolkit import claims


def accuracies(gaps_points: list[float], network: float = 0.5) -> tuple[list[float], list[float]]:
    """Per-seed network and probe accuracies with the given gaps (probe above the network)."""
    return [network] * len(gaps_points), [network + g / 100 for g in gaps_points]


def claim_for(main_gaps, second_gaps):
    (net_m, probe_m), (net_s, probe_s) = accuracies(main_gaps), accuracies(second_gaps)
    return claims.probe_claim(["mnist1d", "digits"], [net_m, net_s], [probe_m, probe_s])


WITHIN, OUTSIDE = 1.0, 3.0


def test_gap_exactly_at_the_tolerance_holds_and_just_above_does_not():
    assert claims.TOLERANCE_POINTS == 2.0
    at = claim_for([2.0] * 5, [2.0] * 5)
    assert at.measured["seeds_holding_main"] == 1.0 and at.verdict == REPRODUCED
    above = claim_for([2.01] * 5, [2.0] * 5)
    assert above.measured["seeds_holding_main"] == 0.0
    assert [c.status for c in above.checks] == ["fail", "pass"] and above.verdict == PARTLY


def test_gap_counts_both_directions_and_twenty_of_a_thousand_examples_is_exactly_two_points():
    assert claims.probe_gap_points([0.5, 0.5], [0.52, 0.47]) == pytest.approx([2.0, 3.0])
    # 100 * |0.843 - 0.823| is 2.0000000000000018 in floats; the gap is 20 of 1000 examples
    assert claims.probe_gap_points([0.823], [0.843]) == [2.0]
    claim = claims.probe_claim(["a", "b"], [[0.823]] * 2, [[0.843]] * 2)
    assert claim.verdict == REPRODUCED


@pytest.mark.parametrize(
    "holding, status",
    [
        (5, "pass"),
        (4, "pass"),  # 4 of 5 = 0.8, exactly the seed share
        (3, "partly"),  # 0.6: between the partly share and the full share
        (2, "fail"),  # 0.4: below the partly share
    ],
)
def test_seed_share_bands_of_five_seeds(holding, status):
    main = [WITHIN] * holding + [OUTSIDE] * (5 - holding)
    claim = claim_for(main, [WITHIN] * 5)
    assert claim.measured["seeds_holding_main"] == pytest.approx(holding / 5)
    assert [c.status for c in claim.checks] == [status, "pass"]
    assert claim.verdict == (REPRODUCED if status == "pass" else PARTLY)


def test_partly_share_is_inclusive():
    assert claims.SEED_SHARE == 0.8 and claims.PARTLY_SEED_SHARE == 0.5
    half = claim_for([WITHIN, OUTSIDE], [WITHIN, OUTSIDE])  # exactly 0.5 on both
    assert [c.status for c in half.checks] == ["partly", "partly"] and half.verdict == PARTLY
    below = claim_for([WITHIN, OUTSIDE, OUTSIDE], [WITHIN, OUTSIDE, OUTSIDE])  # 1/3 < 0.5
    assert [c.status for c in below.checks] == ["fail", "fail"] and below.verdict == NOT_REPRODUCED


def test_measured_values_are_means_keyed_by_role():
    claim = claims.probe_claim(["a", "b"], [[0.9, 0.8], [0.6, 0.6]], [[0.91, 0.79], [0.5, 0.7]])
    assert claim.id == "probe_matches_network"
    assert claim.measured["network_main"] == pytest.approx(0.85)
    assert claim.measured["probe_main"] == pytest.approx(0.85)
    assert claim.measured["gap_points_main"] == pytest.approx(1.0)
    assert claim.measured["gap_points_second"] == pytest.approx(10.0)
    assert claim.measured["seeds_holding_second"] == 0.0
    assert "on a" in claim.checks[0].description and "on b" in claim.checks[1].description


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="one entry per dataset role"):
        claims.probe_claim(["a"], [[0.5]], [[0.5]])
    with pytest.raises(ValueError, match="one network and one probe accuracy per seed"):
        claims.probe_gap_points([0.5, 0.5], [0.5])
