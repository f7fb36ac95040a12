"""Result tables as HTML a reader can scan: rounded, captioned, long ones folded.

:func:`table_html` turns a DataFrame (a Series, or a mapping of names to values) into one
``<table>`` with a ``<caption>``, every float shown with ``digits`` decimals. A table longer
than ``max_rows`` shows a summary (the caller's, else its first ``max_rows`` rows) and keeps
the whole table in a collapsible ``<details>`` block. The HTML is deterministic (no generated
ids), so nbval can compare it between two executions of a chapter. :func:`show_table` wraps
it for a notebook cell.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from numbers import Integral, Real

import pandas as pd

TABLE_CLASS = "linstruct-table"
_NUMERIC = ' class="num"'  # a cell or header of numbers (right-aligned by the book's CSS)


def format_number(value, digits: int) -> str:
    """``value`` with ``digits`` decimals if it is a float ("-0.000" shown as "0.000"; NaN as "–"),
    else ``str(value)``."""
    if isinstance(value, Integral) or not isinstance(value, Real):
        return str(value)
    if math.isnan(value):
        return "–"
    return f"{round(float(value), digits) + 0.0:.{digits}f}"


def _frame(data: pd.DataFrame | pd.Series | Mapping) -> pd.DataFrame:
    """``data`` as a DataFrame: a Series or a mapping (name -> value) becomes one column "value"."""
    if isinstance(data, Mapping):
        data = pd.Series(dict(data), name="value")
    return data.to_frame(data.name if data.name is not None else "value") if isinstance(data, pd.Series) else data


def _label(value) -> str:
    """A row or column label as text: floats in their shortest form (``0.1``, not ``0.10000000000000001``),
    tuples (several levels) joined by " / "."""
    if isinstance(value, tuple):
        return " / ".join(map(_label, value))
    if isinstance(value, Real) and not isinstance(value, Integral):
        return f"{value:g}"
    return str(value)


def _cell(tag: str, value, digits: int) -> str:
    """One cell, escaped; numbers get the class ``num`` (right-aligned by the book's CSS)."""
    number = isinstance(value, Real) and not isinstance(value, bool)
    text = format_number(value, digits) if tag == "td" else _label(value)
    opening = f"<{tag}{_NUMERIC}>" if number else f"<{tag}>"
    return f"{opening}{html.escape(text)}</{tag}>"


def _numeric(dtype) -> bool:
    """Whether a column of ``dtype`` holds numbers (its header is right-aligned like its cells)."""
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _table(frame: pd.DataFrame, caption: str, digits: int) -> str:
    """One ``<table>`` with ``caption`` first; the index (each level a column of row headers) is
    shown unless it is the default 0, 1, ...; a named column axis prefixes its labels ("layer 1")."""
    show_index = not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None)
    names = [name if name is not None else "" for name in frame.index.names] if show_index else []
    prefix = f"{frame.columns.name} " if frame.columns.name is not None else ""
    head = "".join(f"<th>{html.escape(str(n))}</th>" for n in names)
    head += "".join(
        f"<th{_NUMERIC if _numeric(dtype) else ''}>{html.escape(prefix + _label(c))}</th>"
        for c, dtype in zip(frame.columns, frame.dtypes)
    )
    rows = []
    for label, values in zip(frame.index, frame.itertuples(index=False, name=None)):
        labels = (label if isinstance(label, tuple) else (label,)) if show_index else ()
        cells = "".join(_cell("th", v, digits) for v in labels) + "".join(_cell("td", v, digits) for v in values)
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{TABLE_CLASS}"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def table_html(
    data: pd.DataFrame | pd.Series | Mapping,
    caption: str,
    digits: int = 3,
    max_rows: int | None = 15,
    summary: pd.DataFrame | pd.Series | None = None,
) -> str:
    """``data`` as captioned HTML, floats rounded to ``digits`` decimals.

    Above ``max_rows`` rows (None: never), the page shows ``summary`` (default: the first
    ``max_rows`` rows) and the whole table in a ``<details>`` block.
    """
    if not caption:
        raise ValueError("a result table needs a caption that says what it shows")
    if digits < 0:
        raise ValueError(f"digits must be at least 0; got {digits}")
    frame = _frame(data)
    if max_rows is None or len(frame) <= max_rows:
        return f'<div class="{TABLE_CLASS}-wrap">{_table(frame, caption, digits)}</div>'
    if summary is None:
        shown, note = frame.head(max_rows), f"{caption} (first {max_rows} of {len(frame)} rows)"
    else:
        shown, note = _frame(summary), f"{caption} (summary)"
    return (
        f'<div class="{TABLE_CLASS}-wrap">{_table(shown, note, digits)}'
        f"<details><summary>All {len(frame)} rows</summary>{_table(frame, caption, digits)}</details></div>"
    )


def show_table(
    data: pd.DataFrame | pd.Series | Mapping,
    caption: str,
    digits: int = 3,
    max_rows: int | None = 15,
    summary: pd.DataFrame | pd.Series | None = None,
):
    """:func:`table_html` as an IPython display object (the last line of a cell, or ``display(...)``)."""
    from IPython.display import HTML

    return HTML(table_html(data, caption, digits=digits, max_rows=max_rows, summary=summary))
