import json

import pytest

from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Check, Claim, fraction_holding, verdict_of


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
