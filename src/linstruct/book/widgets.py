"""Teaching explorers: a slider over precomputed states, static in the HTML book.

``explorer`` takes a function that draws one state (for example one training epoch)
into a row of axes. In a live Jupyter session it shows a slider that redraws; in batch
execution (the book build, the tests: ``LINSTRUCT_INTERACTIVE=0``) it draws a grid
with one row per chosen state and glues it as a figure for a numbered caption.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import matplotlib.pyplot as plt

from linstruct.book.plotting import glue_figure
from linstruct.core.reproducibility import interactive

Draw = Callable[[Sequence[plt.Axes], Any], None]


def static_grid(
    draw: Draw, values: Sequence, panels: int = 1, panel_size: tuple[float, float] = (3.6, 3.0)
) -> plt.Figure:
    """A figure with one row per value in ``values``, each row drawn by ``draw(axes, value)``."""
    fig, axes = plt.subplots(
        len(values), panels, figsize=(panel_size[0] * panels, panel_size[1] * len(values)), squeeze=False
    )
    for row, value in zip(axes, values):
        draw(list(row), value)
    fig.tight_layout()
    return fig


def explorer(
    key: str,
    draw: Draw,
    values: Sequence,
    *,
    static_values: Sequence | None = None,
    panels: int = 1,
    label: str = "state",
    live: bool | None = None,
):
    """A slider over ``values`` redrawing ``draw(axes, value)``, or its static stand-in.

    Static (batch) mode glues ``static_grid(draw, static_values or values[:: ...])`` under
    ``key`` and returns the figure; live mode returns the ipywidgets box (and glues nothing).
    """
    values = list(values)
    if not values:
        raise ValueError("explorer needs at least one value to show")
    if not (interactive() if live is None else live):
        shown = list(static_values) if static_values is not None else _spread(values, 3)
        fig = static_grid(draw, shown, panels)
        glue_figure(key, fig)
        return fig
    import ipywidgets as widgets
    from IPython.display import display

    slider = widgets.SelectionSlider(
        options=values, value=values[0], description=label, continuous_update=False, layout=widgets.Layout(width="60%")
    )
    output = widgets.Output()

    def redraw(change=None):
        with output:
            output.clear_output(wait=True)
            fig, axes = plt.subplots(1, panels, figsize=(3.6 * panels, 3.0), squeeze=False)
            draw(list(axes[0]), slider.value)
            fig.tight_layout()
            display(fig)
            plt.close(fig)

    slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([slider, output])


def _spread(values: list, count: int) -> list:
    """``count`` values evenly spread over ``values`` (first and last included)."""
    if len(values) <= count:
        return values
    step = (len(values) - 1) / (count - 1)
    return [values[round(i * step)] for i in range(count)]
