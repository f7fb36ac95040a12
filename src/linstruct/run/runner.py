"""One chapter execution: its notebook run by papermill into a folder, with an HTML copy.

Used by ``linstruct run`` and by every sweep run (:mod:`linstruct.run.sweep`).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from linstruct.core.parameters import ChapterSpec, ParameterError

PACKAGE_ROOT = Path(__file__).resolve().parents[3]


def notebook_path(spec: ChapterSpec) -> Path:
    """The chapter's notebook in the source tree (the package is installed editable)."""
    path = PACKAGE_ROOT / spec.notebook
    if not path.exists():
        raise ParameterError(
            f"notebook {spec.notebook} of chapter '{spec.name}' not found under {PACKAGE_ROOT}; "
            "install linstruct editable from a clone of the book (pip install -e .)"
        )
    return path


def run_chapter(spec: ChapterSpec, given: dict, out: Path, html: bool = True) -> dict:
    """Execute the chapter with papermill into ``out``; return its results record.

    Writes ``<chapter>.ipynb`` (executed), ``<chapter>.html`` (unless ``html=False``)
    and, from inside the notebook, ``results.json``.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    notebook = notebook_path(spec)
    executed = out / f"{spec.name}.ipynb"
    os.environ.setdefault("LINSTRUCT_INTERACTIVE", "0")
    (out / "results.json").unlink(missing_ok=True)
    papermill.execute_notebook(
        str(notebook),
        str(executed),
        parameters={**given, "output_dir": str(out.resolve())},
        cwd=str(notebook.parent),
        kernel_name="python3",
        progress_bar=False,
        extra_arguments=["--IPKernelApp.log_level=CRITICAL"],  # no kernel chatter on stderr
    )
    if html:
        with warnings.catch_warnings():  # glue records have no HTML form of their own
            warnings.filterwarnings("ignore", message=".*is not able to be represented")
            body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
        (out / f"{spec.name}.html").write_text(body)
    return json.loads((out / "results.json").read_text())
