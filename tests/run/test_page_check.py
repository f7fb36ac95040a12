"""The offline page check on two hand-written pages: one it must pass, one it must fail for
each reason it knows (a request off the machine, a missing local file, maths left raw)."""

import importlib.util
from pathlib import Path

import pytest

from linstruct.run.page_check import PageReport, book_pages, check_pages, find_chromium, is_local, raw_tex

MATHJAX = Path(next(iter(importlib.util.find_spec("sphinx-mathjax-offline").submodule_search_locations))) / "static"

GOOD = r"""<html><head><script defer src="mathjax/tex-chtml.js"></script></head><body>
<p>Inline <span class="math">\(x^2 + \alpha\)</span>, display:</p><div class="math">\[\sum_{i=1}^n i\]</div>
<pre>code may show \( and $$ untouched</pre></body></html>"""
BAD = r"""<html><head><script src="http://cdn.example.invalid/x.js"></script>
<link rel="stylesheet" href="missing.css"></head>
<body><p>Raw <span class="math">\(x^2\)</span> left.</p></body></html>"""


def test_local_addresses():
    assert all(map(is_local, ["file:///a/b.js", "data:font/woff2;base64,AA", "about:blank", "http://127.0.0.1:8000/x"]))
    assert not any(map(is_local, ["https://cdn.jsdelivr.net/x.js", "http://example.invalid/", "wss://a.b/c"]))


def test_raw_tex_finds_each_delimiter():
    assert len(raw_tex(r"a \(x\) b \[y\] c $$z$$")) == 4 and raw_tex("costs $5, 10 (not maths)") == []


def test_problems_in_words():
    assert PageReport("p.html", maths=2, typeset=2).problems() == []
    found = PageReport("p.html", ["https://x.org/a.js"], maths=3, typeset=1, maths_errors=1).problems()
    assert found == [
        "request left the machine: https://x.org/a.js",
        "maths not typeset: 1 MathJax outputs for 3 maths nodes",
        "1 MathJax error(s)",
    ]


def test_book_pages_leave_out_generated_and_static_files(tmp_path):
    for name in ("intro.html", "search.html", "genindex.html", "_static/x.html", "notebooks/a.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("<html></html>")
    (tmp_path / "index.html").write_text('<html><head><meta http-equiv="Refresh" content="0; url=intro.html" />')
    assert [p.relative_to(tmp_path).as_posix() for p in book_pages(tmp_path)] == ["intro.html", "notebooks/a.html"]


@pytest.mark.skipif(find_chromium() is None, reason="needs the Debian package chromium")
def test_pages_in_offline_chromium(tmp_path):
    (tmp_path / "mathjax").symlink_to(MATHJAX / "mathjax")
    (tmp_path / "good.html").write_text(GOOD)
    (tmp_path / "bad.html").write_text(BAD)
    good, bad = check_pages(tmp_path, [tmp_path / "good.html", tmp_path / "bad.html"])
    assert good.problems() == [] and (good.maths, good.typeset) == (2, 2)
    assert good.external_requests == [] and good.failed_local == []
    assert bad.external_requests == ["http://cdn.example.invalid/x.js"]
    assert bad.failed_local == [(tmp_path / "missing.css").as_uri()]
    assert (bad.maths, bad.typeset) == (1, 0) and bad.raw_tex == [r"Raw \(x^2\) left."]
