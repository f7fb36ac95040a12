import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from linstruct.book.plotting import glue_figure, set_style, unlabelled_axes


def test_unlabelled_axes_are_reported():
    set_style()
    fig, (a, b) = plt.subplots(1, 2)
    a.set(title="t", xlabel="x", ylabel="y")
    b.set(xlabel="x")
    assert unlabelled_axes(fig) == ["axes 1: no title, no y label"]
    with pytest.raises(ValueError, match="needs a title and labelled axes"):
        glue_figure("f", fig)
    b.set(ylabel="y")
    fig.suptitle("both panels")
    assert unlabelled_axes(fig) == []
    plt.close(fig)


def test_colorbars_and_hidden_axes_are_ignored():
    fig, ax = plt.subplots()
    image = ax.imshow([[0, 1], [1, 0]])
    fig.colorbar(image)
    ax.set(title="t", xlabel="x", ylabel="y")
    hidden = fig.add_axes([0, 0, 0.1, 0.1])
    hidden.set_axis_off()
    assert unlabelled_axes(fig) == []
    plt.close(fig)
