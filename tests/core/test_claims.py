import json
import math

import pytest

from linstruct.core.claims import (
    NOT_REPRODUCED,
    PARTLY,
    REPRODUCED,
    Baseline,
    Check,
    Claim,
    Effect,
    defined_interval_at_least,
    defined_interval_at_most,
    fraction_holding,
    verdict_of,
)


def test_checks_with_bands():
    assert Check.at_most("gap", 1.0, 2.0, 5.0).status == "pass"
    assert Check.at_most("gap", 3.0, 2.0, 5.0).status == "partly"
    assert Check.at_most("gap", 6.0, 2.0, 5.0).status == "fail"
    assert Check.at_least("acc", 0.9, 0.8).status == "pass"
    assert Check.at_least("acc", 0.7, 0.8, 0.6).status == "partly"
    assert Check.at_least("acc", 0.5, 0.8, 0.6).status == "fail"
    assert Check.at_most("gap", 2.0, 2.0).passed  # bounds are inclusive


@pytest.mark.parametrize(
    "statuses, verdict",
    [
        (["pass"], REPRODUCED),
        (["pass", "pass"], REPRODUCED),
        (["pass", "fail"], PARTLY),
        (["partly", "partly"], PARTLY),
        (["fail", "partly"], PARTLY),
        (["fail"], NOT_REPRODUCED),
        (["fail", "fail"], NOT_REPRODUCED),
    ],
)
def test_verdict_follows_the_checks(statuses, verdict):
    checks = [Check(s, passed=s == "pass", partly=s == "partly") for s in statuses]
    assert verdict_of(checks) == verdict


def test_claim_needs_checks_and_identifier_keys():
    with pytest.raises(ValueError, match="at least one check"):
        Claim("c", "s", "k", {"x": 1.0}, [])
    with pytest.raises(ValueError, match="identifier"):
        Claim("bad id", "s", "k", {"x": 1.0}, [Check("x", True)])
    with pytest.raises(TypeError, match="must be a number"):
        Claim("c", "s", "k", {"x": "high"}, [Check("x", True)])


def test_record_is_json_and_carries_the_computed_verdict():
    claim = Claim(
        "c",
        "statement",
        "criterion",
        {"gap": 3.0, "steps": float("inf")},
        [Check.at_most("gap", 3.0, 2.0, 5.0)],
        undefined={"steps": "never converged"},
    )
    record = json.loads(json.dumps(claim.as_record()))
    assert record["verdict"] == PARTLY
    assert record["measured"] == {"gap": 3.0, "steps": None}
    assert record["undefined"] == {"steps": "never converged"}
    assert set(record) >= {"id", "statement", "criterion", "measured", "verdict"}


def test_fraction_holding():
    assert fraction_holding([True, False, True, True]) == 0.75
    with pytest.raises(ValueError):
        fraction_holding([])


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_claim_refuses_non_finite_values_unless_marked_undefined(value):
    with pytest.raises(ValueError, match="'gap' of claim 'c' is .*undefined"):
        Claim("c", "s", "k", {"gap": value}, [Check("x", True)])
    claim = Claim("c", "s", "k", {"gap": value}, [Check("x", True)], undefined={"gap": "no seed trained"})
    assert claim.undefined == {"gap": "no seed trained"}


def test_undefined_needs_a_measured_key_and_a_reason():
    with pytest.raises(ValueError, match="needs a measured key and a reason"):
        Claim("c", "s", "k", {"gap": 1.0}, [Check("x", True)], undefined={"other": "why"})
    with pytest.raises(ValueError, match="needs a measured key and a reason"):
        Claim("c", "s", "k", {"gap": float("nan")}, [Check("x", True)], undefined={"gap": " "})


def test_effect_interval_is_students_t_and_one_seed_is_the_value():
    effect = Effect((1.0, 2.0, 3.0, 4.0))
    # mean 2.5, sd sqrt(5/3), t(0.975, 3) = 3.182446305284263
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert effect.seeds == 4 and effect.mean == 2.5
    assert effect.interval == pytest.approx((2.5 - half, 2.5 + half), rel=1e-12)
    assert Effect((0.7,)).interval == (0.7, 0.7)
    assert Effect((5.0, 5.0, 5.0)).interval == (5.0, 5.0)
    with pytest.raises(ValueError, match="at least one"):
        Effect(())
    with pytest.raises(ValueError, match="finite"):
        Effect((1.0, float("nan")))


def two_seeds(low: float, high: float) -> tuple[float, float]:
    """Two values whose 95% t-interval is exactly [low, high]."""
    from scipy.stats import t

    mean, half = (low + high) / 2, (high - low) / 2
    spread = half / float(t.ppf(0.975, 1))  # |a - b| / 2
    return (mean - spread, mean + spread)


@pytest.mark.parametrize(
    ("interval", "status"),
    [((2.5, 4.0), "pass"), ((2.0 + 1e-9, 3.0), "pass"), ((1.0, 3.0), "partly"), ((0.0, 2.0 - 1e-9), "fail")],
)
def test_interval_at_least_judges_the_whole_interval(interval, status):
    check = Check.interval_at_least("gap", two_seeds(*interval), 2.0)
    assert check.status == status
    assert check.effect.interval == pytest.approx(interval, abs=1e-9)


@pytest.mark.parametrize(
    ("interval", "status"),
    [((0.0, 1.5), "pass"), ((1.0, 2.0 - 1e-9), "pass"), ((1.0, 3.0), "partly"), ((2.0 + 1e-9, 5.0), "fail")],
)
def test_interval_at_most_judges_the_whole_interval(interval, status):
    check = Check.interval_at_most("gap", two_seeds(*interval), 2.0)
    assert check.status == status


def test_seed_share_counts_seeds_on_the_claims_side():
    assert Check.interval_at_least("x", [1.0, 2.0, 3.0, 4.0], 2.5).seed_share == 0.5
    assert Check.interval_at_most("x", [1.0, 2.0, 3.0, 4.0], 1.0).seed_share == 0.25


def test_baseline_below_its_reference_fails_the_claim():
    ok = Check.interval_at_least("gap", [3.0, 3.1, 2.9], 2.0)
    assert verdict_of([ok, Check.baseline("CNN on MNIST-1D", 92.4, 91.0)]) == REPRODUCED
    missed = Check.baseline("CNN on MNIST-1D", 88.0, 91.0)
    assert missed.status == "fail" and "88.0% >= 91%" in missed.description
    assert verdict_of([ok, missed]) == PARTLY
    fails = Check.interval_at_least("gap", [0.1, 0.2, 0.3], 2.0)
    assert verdict_of([fails, Check.baseline("CNN", 92.4, 91.0)]) == NOT_REPRODUCED  # a met baseline lifts nothing
    assert verdict_of([fails, missed]) == NOT_REPRODUCED
    with pytest.raises(ValueError, match="not a baseline"):
        verdict_of([missed])


def test_record_reports_the_headline_effect():
    checks = [Check.baseline("MLP", 96.0, 95.0), Check.interval_at_least("gap", [1.0, 2.0, 3.0], 0.5)]
    record = json.loads(json.dumps(Claim("c", "s", "k", {"gap": 2.0}, checks).as_record()))
    assert record["effect"] == 2.0 and record["seeds"] == 3 and record["seed_share"] == 1.0
    assert record["per_seed"] == [1.0, 2.0, 3.0] and len(record["interval"]) == 2
    assert record["threshold"] == 0.5 and record["side"] == ">="
    plain = Claim("c", "s", "k", {"gap": 2.0}, [Check("exact", True)]).as_record()
    assert plain["effect"] is None and plain["interval"] is None and plain["seeds"] is None
    assert plain["threshold"] is None and plain["side"] is None
    assert Check.interval_at_most("loss", [1.0], 2.0).side == "<="


def test_baseline_records_and_checks_its_reference():
    cnn = Baseline("CNN", "mnist1d", 92.4, 91.0, "MNIST-1D paper: CNN 94%")
    assert cnn.met and cnn.check().status == "pass" and "CNN on mnist1d: 92.4% >= 91%" in cnn.check().description
    assert Baseline("CNN", "mnist1d", 90.9, 91.0, "r").check().status == "fail"
    assert json.loads(json.dumps(cnn.as_record())) == {
        "name": "CNN",
        "dataset": "mnist1d",
        "accuracy": 92.4,
        "target": 91.0,
        "reference": "MNIST-1D paper: CNN 94%",
    }
    frozen = Baseline("frozen-gating control", "circle", 55.0, None, "meant not to train")
    assert frozen.met is None
    with pytest.raises(ValueError, match="exempt control"):
        frozen.check()
    with pytest.raises(ValueError, match="needs a target, or 'control' in its name"):
        Baseline("MLP", "digits", 90.0, None, "r")
    for accuracy in (101.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="percentage"):
            Baseline("MLP", "digits", accuracy, 95.0, "r")


def test_defined_intervals_leave_undefined_seeds_out_and_say_so():
    mixed = defined_interval_at_least("x", [1.0, float("nan"), 1.0, float("inf")], 0.5)
    assert mixed.status == "pass" and "2 undefined seed(s) left out" in mixed.description
    assert mixed.effect.seeds == 2
    none = defined_interval_at_most("x", [float("nan")] * 3, 0.5)
    assert none.status == "fail" and none.effect is None and "undefined in all 3" in none.description
    fallback = Check("share of seeds", True)
    assert defined_interval_at_most("x", [float("inf")], 0.5, otherwise=fallback) is fallback
    assert defined_interval_at_most("x", [0.4, 0.6], 0.5, otherwise=fallback).status == "partly"
