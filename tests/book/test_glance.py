"""The scorecard's at-a-glance figure and badges: one row per claim, the threshold and the
claim's side where they are, the verdict's colour, the seed share."""

import matplotlib

matplotlib.use("Agg")

import pytest
from matplotlib.colors import to_hex

from linstruct.book.glance import VERDICT_COLOURS, badges_html, figure_html, forest_figure
from linstruct.book.plotting import unlabelled_axes
from linstruct.core.claims import NOT_REPRODUCED, PARTLY, REPRODUCED, Check, Claim


def claim(id, checks):
    return Claim(id, "statement", "criterion", {"x": 1.0}, checks)


GAP = claim("gap", [Check.interval_at_least("gap", [1.0, 2.0, 3.0, 2.0], 0.5)])  # wholly above: reproduced
LOSS = claim("loss", [Check.interval_at_most("loss", [0.1, 0.9, 0.5], 0.6)])  # straddles: partly
EXACT = claim("identity", [Check.at_most("error", 1.0, 1e-10)])  # no per-seed effect: not reproduced


def test_forest_has_a_row_per_claim_with_its_threshold_and_verdict_colour():
    fig = forest_figure([GAP, LOSS, EXACT], "Chapter: claims at a glance")
    rows = fig.axes
    assert len(rows) == 3 and unlabelled_axes(fig) == []
    assert [ax.get_ylabel() for ax in rows] == ["gap", "loss", "identity"]
    assert [ax.get_xlabel() for ax in rows] == ["gap", "loss", "exact check"]  # the quantity each row shows
    threshold = [line for line in rows[0].lines if line.get_linestyle() == "--"]
    assert len(threshold) == 1 and threshold[0].get_xdata()[0] == 0.5
    bar = rows[0].lines[1]  # the interval, in the verdict's colour
    assert to_hex(bar.get_color()) == VERDICT_COLOURS[REPRODUCED]
    low, high = GAP.headline.effect.interval
    assert list(bar.get_xdata()) == [low, high]
    assert to_hex(rows[1].lines[1].get_color()) == VERDICT_COLOURS[PARTLY]
    assert "no per-seed effect" in rows[2].texts[0].get_text()
    assert to_hex(rows[2].texts[0].get_color()) == VERDICT_COLOURS[NOT_REPRODUCED]


def test_forest_shades_the_claims_side_of_the_threshold():
    fig = forest_figure([GAP, LOSS], "t")
    (above,) = fig.axes[0].patches
    (below,) = fig.axes[1].patches
    assert above.get_x() == pytest.approx(0.5) and below.get_x() + below.get_width() == pytest.approx(0.6)


def test_forest_needs_a_claim():
    with pytest.raises(ValueError, match="at least one claim"):
        forest_figure([], "t")


def test_badges_carry_the_verdict_class_and_the_seed_share():
    text = badges_html([GAP, LOSS, EXACT])
    assert text.count('class="verdict ') == 3
    assert 'verdict-reproduced" title="reproduced">gap <small>100% of 4</small>' in text
    assert "verdict-partly" in text and "loss <small>67% of 3</small>" in text
    assert "identity <small>exact</small>" in text and "verdict-not" in text


def test_a_row_without_a_threshold_still_shows_its_interval():
    by_hand = Check("level: partly", False, True, effect=GAP.headline.effect, seed_share=0.5)  # no bound, no side
    fig = forest_figure([claim("overall", [by_hand])], "t")
    (row,) = fig.axes
    assert not [line for line in row.lines if line.get_linestyle() == "--"] and not row.patches
    assert row.texts[0].get_text() == "4 seeds"


def test_the_figure_travels_as_an_inline_png():
    import base64

    text = figure_html(forest_figure([GAP], "t"), 'a "title"')
    assert text.startswith('<img class="linstruct-glance" alt="a &quot;title&quot;" src="data:image/png;base64,')
    png = base64.b64decode(text.split("base64,")[1].rstrip('">'))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert text == figure_html(forest_figure([GAP], "t"), 'a "title"')  # the same bytes every time (nbval)
