import pytest

from linstruct.data.references import FAMILIES, REFERENCES, baseline, reference_for


def test_every_reference_has_a_target_below_100_and_a_source():
    for (_, family), reference in REFERENCES.items():
        assert family in FAMILIES and 0 < reference.target < 100 and reference.source.strip()


def test_baseline_carries_its_reference_and_none_without_one():
    b = baseline("MLP 128x3", "mnist1d", "mlp", 66.0)
    assert (b.target, b.met) == (65.0, True) and "68%" in b.reference
    assert baseline("MLP 128x3", "mnist1d", "mlp", 64.9).met is False
    assert baseline("MLP", "spirals", "mlp", 99.0) is None
    assert reference_for("mnist1d", "cnn").target == 91.0


def test_unknown_family_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="model family must be one of cnn, dlgn, mlp; got 'rnn'"):
        reference_for("mnist1d", "rnn")
