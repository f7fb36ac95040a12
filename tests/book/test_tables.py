import math
import re

import numpy as np
import pandas as pd
import pytest

from linstruct.book.tables import format_number, show_table, table_html


def cells(html: str) -> list[str]:
    return re.findall(r"<td(?: [^>]*)?>(.*?)</td>", html)


def headers(html: str) -> list[str]:
    return re.findall(r"<th(?: [^>]*)?>(.*?)</th>", html)


def test_numbers_are_rounded_to_the_given_digits_and_integers_left_alone():
    assert format_number(2 / 3, 3) == "0.667"
    assert format_number(np.float32(2.5), 0) == "2"  # round half to even, as round() does
    assert format_number(-1e-9, 3) == "0.000"  # no "-0.000"
    assert format_number(math.nan, 2) == "–"
    assert format_number(np.int64(12345), 2) == "12345" and format_number(7, 1) == "7"
    assert format_number(True, 2) == "True" and format_number("x", 2) == "x"


def test_table_has_its_caption_first_and_rounded_cells():
    frame = pd.DataFrame({"learner": ["relu", "dlgn"], "mse": [0.123456, 1 / 3], "steps": [10, 2000]})
    html = table_html(frame, "Final MSE per learner", digits=2)
    assert re.search(r"<table[^>]*>\s*<caption>Final MSE per learner</caption>", html)
    assert cells(html) == ["relu", "0.12", "10", "dlgn", "0.33", "2000"]
    assert headers(html) == ["learner", "mse", "steps"]  # a default 0, 1, ... index is not shown
    assert '<td class="num">0.12</td>' in html and "<td>relu</td>" in html  # numbers right-aligned by CSS
    assert '<th class="num">mse</th>' in html and "<th>learner</th>" in html  # and their headers
    assert "<details>" not in html


def test_a_named_index_and_a_mapping_are_shown():
    frame = pd.DataFrame({"mean": [1.0, 2.0]}, index=pd.Index([0.05, 0.1], name="rho"))
    html = table_html(frame, "gaps", digits=1)
    assert headers(html) == ["rho", "mean", "0.05", "0.1"] and cells(html) == ["1.0", "2.0"]  # labels unrounded
    pivot = pd.DataFrame([[0.5, 0.25]], index=pd.MultiIndex.from_tuples([("relu", 3)], names=["activation", "step"]))
    pivot.columns = pd.Index([1, 2], name="layer")
    assert headers(table_html(pivot, "pivot")) == ["activation", "step", "layer 1", "layer 2", "relu", "3"]
    html = table_html({"relu": 0.5, "dlgn": 0.25}, "changes", digits=1)
    assert headers(html) == ["", "value", "relu", "dlgn"] and cells(html) == ["0.5", "0.2"]


def test_text_is_escaped():
    frame = pd.DataFrame({"a<b": ["<script>x</script>"]})
    html = table_html(frame, "caption with <b> & co")
    assert "<caption>caption with &lt;b&gt; &amp; co</caption>" in html
    assert "a&lt;b" in html and "&lt;script&gt;" in html and "<script>" not in html


def test_a_long_table_is_folded_below_its_summary():
    frame = pd.DataFrame({"x": np.arange(20) / 7})
    html = table_html(frame, "twenty rows", max_rows=15)
    shown, folded = html.split("<details>")
    assert "<caption>twenty rows (first 15 of 20 rows)</caption>" in shown and len(cells(shown)) == 15
    assert "<summary>All 20 rows</summary>" in folded and len(cells(folded)) == 20
    assert "<caption>twenty rows</caption>" in folded
    summary = table_html(frame, "twenty rows", max_rows=15, summary=frame.describe().loc[["mean"]])
    assert "(summary)" in summary and len(cells(summary.split("<details>")[0])) == 1
    assert "<details>" not in table_html(frame, "all shown", max_rows=None)
    assert "<details>" not in table_html(frame.head(15), "exactly at the limit", max_rows=15)


def test_html_is_deterministic_and_displayable():
    frame = pd.DataFrame({"x": [0.1, 0.2]})
    assert table_html(frame, "c") == table_html(frame.copy(), "c")
    assert show_table(frame, "c").data == table_html(frame, "c")
    assert "id=" not in table_html(frame, "c")


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="caption"):
        table_html(pd.DataFrame({"x": [1]}), "")
    with pytest.raises(ValueError, match="digits must be at least 0"):
        table_html(pd.DataFrame({"x": [1]}), "c", digits=-1)
