import matplotlib

matplotlib.use("Agg")
import pytest

from linstruct.book.widgets import _spread, explorer, static_grid


def draw(axes, value):
    for i, ax in enumerate(axes):
        ax.plot([0, 1], [0, value * (i + 1)])
        ax.set(title=f"state {value}, panel {i}", xlabel="x (a.u.)", ylabel="y (a.u.)")


def test_static_grid_has_one_row_per_value():
    fig = static_grid(draw, [1, 2, 3], panels=2)
    assert len(fig.axes) == 6
    assert fig.axes[2].get_title() == "state 2, panel 0"


def test_batch_mode_returns_a_static_figure(monkeypatch):
    glued = []
    monkeypatch.setattr("linstruct.book.widgets.glue_figure", lambda key, fig: glued.append((key, fig)))
    fig = explorer("k", draw, list(range(10)), live=False)
    assert glued and glued[0][0] == "k" and len(fig.axes) == 3  # first, middle, last
    assert [ax.get_title() for ax in fig.axes] == ["state 0, panel 0", "state 4, panel 0", "state 9, panel 0"]


def test_live_mode_returns_a_slider():
    box = explorer("k", draw, [1, 2, 3], live=True, label="epoch")
    slider = box.children[0]
    assert slider.description == "epoch" and list(slider.options) == [1, 2, 3]
    slider.value = 3  # redraws without error


def test_spread_and_empty():
    assert _spread(list(range(5)), 3) == [0, 2, 4]
    with pytest.raises(ValueError, match="at least one value"):
        explorer("k", draw, [], live=False)
