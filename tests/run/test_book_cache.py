"""The book's execution cache: keyed by profile and package code, reused for prose edits,
invalidated by code edits, never shared between profiles."""

import json
from pathlib import Path

import nbformat
import pytest

from linstruct.run import book_cache
from linstruct.run.book_cache import (
    book_config,
    book_notebooks,
    build_book,
    cache_key,
    choose_jobs,
    execute_missing,
    execution_env,
    package_hash,
    with_repository,
)
from linstruct.studies import get_chapter

ROOT = Path(__file__).resolve().parents[2]


def test_key_names_the_profile_and_the_package_code():
    keys = {profile: cache_key(profile) for profile in ("smoke", "book", "full")}
    assert len(set(keys.values())) == 3
    assert all(key.startswith(f"{profile}-") for profile, key in keys.items())
    assert len({key.split("-")[1] for key in keys.values()}) == 1  # one code and environment hash
    with pytest.raises(ValueError, match="profile must be one of smoke, book, full; got 'quick'"):
        cache_key("quick")


def test_key_follows_package_code_and_environment(monkeypatch):
    before = cache_key("book")
    monkeypatch.setattr(book_cache, "package_hash", lambda: "0" * 16)
    after_code = cache_key("book")
    monkeypatch.setattr(book_cache, "environment_hash", lambda: "1" * 16)
    assert len({before, after_code, cache_key("book")}) == 3


def test_package_hash_sees_every_file_but_not_compiled_caches(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.py").write_text("B = 2\n")
    before = package_hash(package)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0compiled")
    assert package_hash(package) == before
    (package / "sub" / "b.py").write_text("B = 3\n")
    assert package_hash(package) != before
    (package / "sub" / "b.py").write_text("B = 2\n")
    (package / "sub" / "b.py").rename(package / "b.py")  # same bytes, other place
    assert package_hash(package) != before


def test_jobs_and_threads_share_out_the_cores(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("DASK_WORKER_NAME", raising=False)
    for variable in ("LINSTRUCT_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(book_cache, "available_cores", lambda: 2)
    assert [choose_jobs(n) for n in (0, 1, 2, 6)] == [1, 1, 2, 2]
    env = execution_env("smoke", 2)
    assert env["LINSTRUCT_PROFILE"] == "smoke" and env["LINSTRUCT_THREADS"] == env["OMP_NUM_THREADS"] == "1"
    assert "LINSTRUCT_THREADS" not in execution_env("book", 1)
    monkeypatch.setenv("LINSTRUCT_THREADS", "2")  # the caller's choice stands
    assert execution_env("book", 2)["LINSTRUCT_THREADS"] == "2"
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")  # beside other workers: one at a time
    assert choose_jobs(6) == 1


def test_repository_buttons_appear_only_with_a_repository_address():
    config = book_config(ROOT)
    assert config["repository"]["url"] == ""  # the book has no public address yet: no buttons, no links
    off = with_repository(config)
    assert not off["html"]["use_repository_button"] and not off["html"]["use_issues_button"]
    assert off["launch_buttons"]["binderhub_url"] == off["launch_buttons"]["colab_url"] == ""
    on = with_repository(config, "https://example.org/books/linstruct")
    assert on["repository"]["url"] == "https://example.org/books/linstruct"
    assert on["html"]["use_repository_button"] and on["html"]["use_issues_button"]
    assert on["launch_buttons"]["binderhub_url"] and on["launch_buttons"]["colab_url"]
    assert on["html"]["use_download_button"] == config["html"]["use_download_button"]  # the rest unchanged
    assert with_repository({**config, "repository": {"url": "https://example.org/x"}})["html"]["use_issues_button"]
    with pytest.raises(ValueError, match="LINSTRUCT_REPOSITORY_URL or repository.url.*https://.*got 'github.com/x'"):
        with_repository(config, "github.com/x")


def test_a_bad_repository_address_fails_before_any_notebook_executes(tmp_path, monkeypatch):
    monkeypatch.setenv("LINSTRUCT_REPOSITORY_URL", "not an address")
    with pytest.raises(ValueError, match="got 'not an address'"):
        build_book(ROOT, tmp_path, "smoke")
    assert not (tmp_path / "_build" / ".jupyter_cache").exists()


def test_the_book_executes_its_notebooks_and_the_myst_notebook_page():
    found = book_notebooks(ROOT)
    assert sorted(found) == [
        "book/rerunning",
        "notebooks/00_toolkit",
        "notebooks/01_half_space_features",
        "notebooks/02_early_separability",
        "notebooks/03_nonlinear_advantage",
        "notebooks/04_mdlsm_synchronicity",
    ]
    assert any("run_sweep" in cell.source for cell in found["book/rerunning"][1].cells)


PROFILE_CELL = """from linstruct.studies import get_chapter
config = get_chapter("toolkit").resolve()
print(f"profile {config.profile}: n_train = {config.n_train}")"""


@pytest.fixture
def tiny_book(tmp_path):
    """A one-page book whose notebook prints the profile and one of its values."""
    book = tmp_path / "src"
    book.mkdir()
    config = {
        "title": "tiny",
        "only_build_toc_files": True,
        "exclude_patterns": ["_build"],
        "execute": {"execute_notebooks": "force", "timeout": 300, "raise_on_error": True},
    }
    (book / "_config.yml").write_text(json.dumps(config))
    (book / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Page\n\nFirst prose."), nbformat.v4.new_code_cell(PROFILE_CELL)]
    )
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, book / "page.ipynb")
    return book


def edit_cell(book, index, text):
    notebook = nbformat.read(book / "page.ipynb", as_version=4)
    notebook.cells[index].source = text
    nbformat.write(notebook, book / "page.ipynb")


def executed(book, build, profile, **options):
    """Names of the notebooks execute_missing ran."""
    messages = []
    execute_missing(book, build, profile, log=messages.append, **options)
    return [m.split(":")[0] for m in messages if "executed in" in m]


@pytest.mark.notebook
def test_prose_edits_reuse_code_edits_and_profiles_execute(tiny_book, tmp_path):
    build = tmp_path / "_build"
    stale = build / ".jupyter_cache" / "smoke-0000000000000000"  # older package code
    stale.mkdir(parents=True)
    assert executed(tiny_book, build, "smoke") == ["page"]
    assert not stale.exists()
    assert executed(tiny_book, build, "smoke") == []
    edit_cell(tiny_book, 0, "# Page\n\nOther prose.")
    assert executed(tiny_book, build, "smoke") == []
    assert executed(tiny_book, build, "book") == ["page"]  # no reuse across profiles
    assert executed(tiny_book, build, "smoke", force=True) == ["page"]
    edit_cell(tiny_book, 1, PROFILE_CELL + "  # changed")
    assert executed(tiny_book, build, "smoke") == ["page"]
    caches = sorted(p.name for p in (build / ".jupyter_cache").iterdir() if p.is_dir())
    assert caches == [cache_key("book"), cache_key("smoke")]


@pytest.mark.notebook
def test_failing_notebook_stops_before_sphinx_naming_it(tiny_book, tmp_path):
    edit_cell(tiny_book, 1, "raise ValueError('broken on purpose')")
    messages = []
    with pytest.raises(RuntimeError, match="notebook\\(s\\) failed to execute: page"):
        execute_missing(tiny_book, tmp_path / "_build", "smoke", log=messages.append)
    assert any("broken on purpose" in m for m in messages)


@pytest.mark.book
def test_book_page_after_smoke_build_shows_book_profile_numbers(tiny_book, tmp_path):
    out = tmp_path / "out"
    values = {p: get_chapter("toolkit").resolve(profile=p).n_train for p in ("smoke", "book")}
    assert values["smoke"] != values["book"]
    for profile in ("smoke", "book"):
        result = build_book(tiny_book, out, profile, capture_output=True)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "Using cached notebook" in result.stdout and "Executing notebook" not in result.stdout
        page = (out / "_build" / "html" / "page.html").read_text()
        assert f"profile {profile}: n_train = {values[profile]}" in page
    assert "profile smoke" not in page


@pytest.mark.book
def test_launch_buttons_follow_the_repository_setting(tiny_book, tmp_path, monkeypatch):
    address = "https://github.com/example-owner/example-book"
    (tiny_book / "_config.yml").write_text(
        json.dumps(
            {
                **json.loads((tiny_book / "_config.yml").read_text()),
                **{"launch_buttons": {"notebook_interface": "jupyterlab"}},
            }
        )
    )
    pages = {}
    for setting in (None, address):
        if setting:
            monkeypatch.setenv("LINSTRUCT_REPOSITORY_URL", setting)
        out = tmp_path / f"out-{bool(setting)}"
        result = build_book(tiny_book, out, "smoke", capture_output=True)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        pages[setting] = (out / "_build" / "html" / "page.html").read_text()
    for link in ("mybinder.org/v2/gh/example-owner/example-book", "colab.research.google.com/github/example-owner"):
        assert link in pages[address] and link not in pages[None]
    assert f'href="{address}"' in pages[address] and f'href="{address}/issues' in pages[address]
    assert "example-owner" not in pages[None] and "github.com" not in pages[None]
