"""The smoke book build (the ``smoke_book`` fixture, shared with test_book.py) as a reader
without a network sees it: every page opened in headless Chromium with the network cut off
(linstruct.run.page_check) typesets its maths and sends no request off the machine; no page
links to the placeholder repository; every chapter shows its settings and HTML result tables."""

import re

import pytest

from linstruct.run.page_check import book_pages, check_pages, find_chromium, report_lines

pytestmark = [pytest.mark.book, pytest.mark.xdist_group("smoke-book")]
PLACEHOLDER = "github.com/linstruct/linstruct"  # the address _config.yml once had; it does not exist
CHAPTERS = [
    "00_toolkit",
    "01_half_space_features",
    "02_early_separability",
    "03_nonlinear_advantage",
    "04_mdlsm_synchronicity",
]


@pytest.fixture(scope="module")
def html(smoke_book):
    assert smoke_book.result.returncode == 0, smoke_book.result.stdout[-3000:]
    return smoke_book.html


@pytest.mark.skipif(find_chromium() is None, reason="needs the Debian package chromium (.ci/run installs it)")
def test_every_page_typesets_its_maths_offline_and_stays_on_the_machine(html):
    reports = check_pages(html)
    assert len(reports) == len(book_pages(html)) >= 10
    assert not [r for r in reports if r.problems()], "\n".join(report_lines(reports))
    maths = {r.page: r.maths for r in reports}
    for chapter in CHAPTERS[1:]:  # chapters 1 to 4 write maths; the check must have seen it
        assert maths[f"notebooks/{chapter}.html"] >= 5, maths


def test_pages_load_scripts_fonts_and_styles_from_the_build(html):
    mathjax = html / "_static" / "mathjax"
    assert (mathjax / "tex-chtml.js").is_file()
    assert len(list((mathjax / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))) >= 20
    for page in book_pages(html):
        text = page.read_text(encoding="utf8")
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', text)
        assert remote == [], f"{page.name} loads {remote}"
    assert 'src="../_static/mathjax/tex-chtml.js' in (html / "notebooks" / "01_half_space_features.html").read_text()


def test_no_page_links_to_the_placeholder_repository_or_launches_without_one(html):
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf8")
        assert PLACEHOLDER not in text, page
        assert "mybinder.org" not in text and "colab.research.google.com" not in text, page
        assert "repository-button" not in text and "issues" not in re.findall(r'href="([^"]*)"', text), page


def test_chapters_show_their_settings_and_html_result_tables(html):
    for chapter in CHAPTERS:
        text = (html / "notebooks" / f"{chapter}.html").read_text(encoding="utf8")
        assert "<caption>Settings of this run: profile smoke, every value resolved</caption>" in text, chapter
        assert text.count('<table class="linstruct-table">') >= 2, chapter  # settings and results
        assert re.search(r'class="[^"]*tag_parameters[^"]*tag_hide-input', text), chapter  # folded
