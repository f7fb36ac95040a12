"""The book's studies, one subpackage each, and the registry of their chapters.

Every study ``linstruct.studies.<name>`` holds ``spec.py`` (its :class:`ChapterSpec`:
parameters and profiles, light to import), ``experiments.py`` (training and
measurements), and the study's own methods beside them. The registry below imports
only the specs, so listing or validating chapters imports neither torch nor matplotlib.
"""

from __future__ import annotations

from linstruct.core.parameters import ChapterSpec, ParameterError
from linstruct.studies.early_separability.spec import SPEC as EARLY_SEPARABILITY
from linstruct.studies.half_space.spec import SPEC as HALF_SPACE
from linstruct.studies.md_lsm.spec import SPEC as MD_LSM
from linstruct.studies.nonlinear_advantage.spec import SPEC as NONLINEAR_ADVANTAGE
from linstruct.studies.toolkit.spec import SPEC as TOOLKIT

CHAPTERS: dict[str, ChapterSpec] = {
    spec.name: spec for spec in (TOOLKIT, HALF_SPACE, EARLY_SEPARABILITY, NONLINEAR_ADVANTAGE, MD_LSM)
}


def get_chapter(name: str) -> ChapterSpec:
    """The chapter called ``name`` (or one of its aliases)."""
    for spec in CHAPTERS.values():
        if name == spec.name or name in spec.aliases:
            return spec
    raise ParameterError(f"no chapter called {name!r}; the chapters are: {', '.join(CHAPTERS)}")
