"""One plotting style for the whole book and figure glue for numbered captions.

Every figure in the book must have a title and labelled axes; :func:`glue_figure`
refuses one that does not, so a missing label fails the build, not the reader.
"""

from __future__ import annotations

import matplotlib

PALETTE = "colorblind"


def set_style() -> None:
    """The book's seaborn/matplotlib style (call once per chapter; idempotent)."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    matplotlib.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "figure.figsize": (6.4, 4.0),
            "axes.titlesize": "medium",
            "figure.autolayout": False,
            "svg.hashsalt": "linstruct",
        }
    )


def unlabelled_axes(fig: matplotlib.figure.Figure) -> list[str]:
    """Descriptions of the axes of ``fig`` that lack a title or an axis label.

    Axes without visible content (colour bars, turned-off panels) are ignored; a
    figure-level ``suptitle`` counts as the title of every panel.
    """
    problems = []
    has_suptitle = fig._suptitle is not None and fig._suptitle.get_text() != ""
    for index, ax in enumerate(fig.axes):
        if not ax.axison or _is_colorbar(ax):
            continue
        missing = [
            part
            for part, text in (
                ("title", ax.get_title() or ("suptitle" if has_suptitle else "")),
                ("x label", ax.get_xlabel()),
                ("y label", ax.get_ylabel()),
            )
            if not text
        ]
        if missing:
            problems.append(f"axes {index}: no {', no '.join(missing)}")
    return problems


def _is_colorbar(ax) -> bool:
    return hasattr(ax, "_colorbar") or ax.get_label() == "<colorbar>"


def glue_figure(key: str, fig: matplotlib.figure.Figure) -> None:
    """Glue ``fig`` under ``key`` for a ``{glue:figure}`` with a numbered caption.

    The figure is also displayed, so it shows in JupyterLab; give the cell the tags
    ``remove-output`` (the book shows the numbered figure instead) and
    ``nbval-ignore-output`` (PNG bytes are not stable across runs).
    """
    import matplotlib.pyplot as plt
    from myst_nb import glue

    problems = unlabelled_axes(fig)
    if problems:
        raise ValueError(f"figure {key!r} needs a title and labelled axes: " + "; ".join(problems))
    glue(key, fig, display=True)
    plt.close(fig)
