"""Building the book with cached, incremental and parallel execution of its notebooks.

myst-nb's ``cache`` mode (jupyter-cache) reuses a notebook's stored outputs while its
code cells are unchanged, but it knows nothing of the environment (``LINSTRUCT_PROFILE``)
nor of this package's code. :func:`build_book` therefore

1. keys the cache: ``<build>/.jupyter_cache/<profile>-<hash>`` (:func:`cache_key`), the
   hash covering every file of the installed ``linstruct`` package and the versions of
   Python and of every installed distribution; a changed profile, package or environment
   gets a fresh cache, and the stale caches of the same profile are deleted;
2. executes, before Sphinx starts, every notebook of the table of contents that this cache
   lacks (all of them with ``force``), several at once when the machine has the cores
   (:func:`choose_jobs`; one torch thread per notebook then, so they never fight over
   the cores), longest first by the previous build's times, and stores them in the cache;
3. runs ``jupyter-book build --all -W -n --keep-going`` with a copy of ``_config.yml``
   switched to ``cache`` mode on that cache, so every page takes its outputs from it.
   ``--all`` re-reads every page (from the cache, in seconds), so pages that paste values
   from other pages (the scorecard) are never stale.

A notebook that fails stops the build before Sphinx, with its traceback.

The copy of ``_config.yml`` also carries the one repository setting (:func:`with_repository`):
the repository, issues, Binder and Colab buttons appear only when ``repository.url`` (or, for
one build, ``$LINSTRUCT_REPOSITORY_URL``) names a real address.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from linstruct.core.parameters import PROFILE_ENV, PROFILES
from linstruct.core.reproducibility import available_cores, runs_beside_others

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the whole linstruct package
BUILD_OPTIONS = ("--all", "-W", "-n", "--keep-going")
RUNTIMES_FILE = "runtimes.json"
REPOSITORY_ENV = "LINSTRUCT_REPOSITORY_URL"
LAUNCH_URLS = {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com"}


def package_hash(package_dir: Path = PACKAGE_DIR) -> str:
    """sha256 (16 hex digits) of the relative path and bytes of every file of the package
    (compiled caches excluded)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in package_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def environment_hash() -> str:
    """sha256 (16 hex digits) of the Python version and the name and version of every
    installed distribution: new pins in requirements/constraints.txt change it."""
    from importlib.metadata import distributions

    installed = sorted(f"{d.metadata['Name']}=={d.version}" for d in distributions())
    return hashlib.sha256("\n".join([sys.version, *installed]).encode()).hexdigest()[:16]


def cache_key(profile: str) -> str:
    """``<profile>-<hash>``, the name of the jupyter-cache folder for ``profile``: the hash
    covers the package's files (:func:`package_hash`) and the environment (:func:`environment_hash`)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}; got {profile!r}")
    both = f"{package_hash()} {environment_hash()}".encode()
    return f"{profile}-{hashlib.sha256(both).hexdigest()[:16]}"


def choose_jobs(notebooks: int) -> int:
    """How many notebooks to execute at once: one per available core, at most ``notebooks``,
    and one inside a parallel worker (pytest-xdist, Dask) whose siblings use the other cores."""
    return 1 if runs_beside_others() else max(1, min(available_cores(), notebooks))


def execution_env(profile: str, jobs: int) -> dict[str, str]:
    """The environment of the notebooks' kernels: the profile, batch mode and, when
    ``jobs`` notebooks run at once, the cores shared out among them (unless the caller
    chose the threads with ``LINSTRUCT_THREADS``)."""
    env = {**os.environ, PROFILE_ENV: profile, "LINSTRUCT_INTERACTIVE": "0"}
    if jobs > 1:
        threads = str(max(1, available_cores() // jobs))
        env.setdefault("LINSTRUCT_THREADS", threads)
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env.setdefault(variable, env["LINSTRUCT_THREADS"])
    return env


def book_config(source: Path) -> dict:
    """The book's ``_config.yml``."""
    return yaml.safe_load((source / "_config.yml").read_text(encoding="utf8"))


def book_notebooks(source: Path) -> dict[str, tuple[Path, object]]:
    """The executable documents of the table of contents: docname -> (path, notebook as
    myst-nb reads it). Markdown pages count only when they are MyST notebooks."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig
    from sphinx_external_toc.parsing import parse_toc_yaml

    extensions = set(book_config(source).get("parse", {}).get("myst_enable_extensions", []))
    md_config, nb_config = MdParserConfig(enable_extensions=extensions), NbParserConfig()
    found = {}
    for docname in parse_toc_yaml(source / "_toc.yml"):
        for path in (source / f"{docname}.ipynb", source / f"{docname}.md"):
            if path.is_file():
                text = path.read_text(encoding="utf8")
                reader = create_nb_reader(str(path), md_config, nb_config, text)
                if reader is not None:
                    found[docname] = (path, reader.read(text))
                break
    return found


def _execute(path: str, notebook, timeout: int, allow_errors: bool) -> tuple[object, float, str | None]:
    """Execute ``notebook`` (read from ``path``) in its folder, as myst-nb does:
    (executed notebook, seconds, traceback or None)."""
    from jupyter_cache.executors.utils import single_nb_execution

    try:
        result = single_nb_execution(
            notebook, cwd=str(Path(path).parent), timeout=timeout, allow_errors=allow_errors, meta_override=True
        )
    except Exception:  # a dead kernel, say: reported like a failing cell
        return notebook, 0.0, traceback.format_exc()
    return result.nb, result.time, result.exc_string


def execute_missing(
    source: Path, build: Path, profile: str, force: bool = False, jobs: int | None = None, log=print
) -> Path:
    """Execute into the keyed cache every notebook of the book it lacks (all if ``force``);
    return the cache folder. Raises RuntimeError naming the notebooks that failed."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    execute = book_config(source).get("execute", {})
    caches = build / ".jupyter_cache"
    folder = caches / cache_key(profile)
    for stale in caches.glob(f"{profile}-*"):
        if stale != folder:
            shutil.rmtree(stale)
    cache = get_cache(folder)
    notebooks = book_notebooks(source)
    todo = [name for name, (_, nb) in notebooks.items() if force or not _cached(cache, nb)]
    runtimes = _read_runtimes(caches).get(profile, {})
    todo.sort(key=lambda name: -runtimes.get(name, 0.0))
    jobs = jobs or choose_jobs(len(todo))
    log(
        f"{folder.name}: {len(notebooks) - len(todo)} notebook(s) cached, executing {len(todo)} "
        f"with {jobs} at once" + (f": {', '.join(todo)}" if todo else "")
    )
    failed = []
    if todo:
        env = execution_env(profile, jobs)
        with ProcessPoolExecutor(jobs, initializer=os.environ.update, initargs=(env,)) as pool:
            futures = {
                name: pool.submit(
                    _execute,
                    str(notebooks[name][0]),
                    notebooks[name][1],
                    execute.get("timeout", 30),
                    execute.get("allow_errors", False),
                )
                for name in todo
            }
            for name, future in futures.items():
                executed, seconds, error = future.result()
                if error:
                    failed.append(name)
                    log(f"{name}: execution failed\n{error}")
                    continue
                log(f"{name}: executed in {seconds:.1f} s")
                runtimes[name] = round(seconds, 1)
                cache.cache_notebook_bundle(
                    CacheBundleIn(executed, str(notebooks[name][0]), data={"execution_seconds": seconds}),
                    check_validity=False,
                    overwrite=True,
                )
        _write_runtimes(caches, profile, runtimes)
    if failed:
        raise RuntimeError(f"notebook(s) failed to execute: {', '.join(failed)}")
    return folder


def _cached(cache, notebook) -> bool:
    """Whether ``cache`` holds an execution of ``notebook``'s code cells."""
    try:
        cache.match_cache_notebook(notebook)
    except KeyError:
        return False
    return True


def _read_runtimes(caches: Path) -> dict[str, dict[str, float]]:
    """Seconds each notebook took when last executed, by profile (empty if never)."""
    path = caches / RUNTIMES_FILE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_runtimes(caches: Path, profile: str, runtimes: dict[str, float]) -> None:
    everything = _read_runtimes(caches) | {profile: runtimes}
    (caches / RUNTIMES_FILE).write_text(json.dumps(everything, indent=1, sort_keys=True) + "\n")


def with_repository(config: dict, url: str | None = None) -> dict:
    """``config`` with the repository, issues, Binder and Colab buttons on for the repository
    at ``url`` (default: the config's ``repository.url``), or all of them off when there is none.
    Raises ValueError for an address that is not http(s)://host/..."""
    url = (url or config.get("repository", {}).get("url") or "").strip()
    on = bool(url)
    if on and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname):
        raise ValueError(
            f"the repository URL ({REPOSITORY_ENV} or repository.url) must be an https:// address; got {url!r}"
        )
    config = {**config, "repository": {**config.get("repository", {}), "url": url}}
    config["html"] = {**config.get("html", {}), "use_repository_button": on, "use_issues_button": on}
    config["launch_buttons"] = {
        **config.get("launch_buttons", {}),
        **{key: address if on else "" for key, address in LAUNCH_URLS.items()},
    }
    return config


def cached_config(source: Path, build: Path, cache: Path, profile: str, repository: str | None = None) -> Path:
    """A copy of ``source/_config.yml`` in ``build`` that executes in ``cache`` mode from ``cache``,
    with the repository buttons for ``repository`` (:func:`with_repository`)."""
    config = with_repository(book_config(source), repository)
    config.setdefault("execute", {}).update(execute_notebooks="cache", cache=str(cache.resolve()))
    path = build / f"_config.{profile}.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf8")
    return path


def build_book(
    source: Path,
    output: Path | None = None,
    profile: str | None = None,
    force: bool = False,
    jobs: int | None = None,
    log=print,
    **run,
) -> subprocess.CompletedProcess:
    """Execute what the cache lacks, then build ``output/_build/html`` (``output``: the
    source folder) with jupyter-book; return the finished jupyter-book process
    (``run``: options of ``subprocess.run``, e.g. ``capture_output=True``)."""
    source = Path(source).resolve()
    profile = profile or os.environ.get(PROFILE_ENV) or "book"
    repository = os.environ.get(REPOSITORY_ENV)
    with_repository(book_config(source), repository)  # a bad address fails before any notebook executes
    build = Path(output or source).resolve() / "_build"
    build.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    cache = execute_missing(source, build, profile, force=force, jobs=jobs, log=log)
    log(f"notebooks ready in {time.perf_counter() - started:.1f} s; building the HTML")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(jupyter_book) if jupyter_book.exists() else "jupyter-book",
        "build",
        str(source),
        "--config",
        str(cached_config(source, build, cache, profile, repository)),
        *BUILD_OPTIONS,
    ]
    if output is not None:
        command += ["--path-output", str(Path(output).resolve())]
    return subprocess.run(command, env=execution_env(profile, 1), text=True, **run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m linstruct.book_cache", description=__doc__.split("\n")[0])
    parser.add_argument("source", nargs="?", default=".", help="the book's root folder (holding _config.yml)")
    parser.add_argument("--path-output", default=None, help="folder to hold _build (default: the source)")
    parser.add_argument(
        "--profile", choices=PROFILES, default=None, help=f"chapters' profile (default: ${PROFILE_ENV}, else book)"
    )
    parser.add_argument("--force", action="store_true", help="execute every notebook again")
    parser.add_argument("--jobs", type=int, default=None, help="notebooks executed at once (default: cores)")
    args = parser.parse_args(argv)
    try:
        result = build_book(
            Path(args.source), args.path_output and Path(args.path_output), args.profile, args.force, args.jobs
        )
    except (RuntimeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
