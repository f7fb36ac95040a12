"""The chapters of the book: their parameters, profiles and chapter-specific logic.

Each chapter has a module here holding its :class:`~linstruct.parameters.ChapterSpec`
(``SPEC``) and the functions its notebook calls.
"""
from __future__ import annotations

from ..parameters import ChapterSpec, ParameterError
from . import early_separability, half_space, mdlsm, nonlinear_advantage, toolkit

CHAPTERS: dict[str, ChapterSpec] = {
    spec.name: spec
    for spec in (
        toolkit.SPEC,
        half_space.SPEC,
        early_separability.SPEC,
        nonlinear_advantage.SPEC,
        mdlsm.SPEC,
    )
}


def get_chapter(name: str) -> ChapterSpec:
    """The chapter called ``name`` (or one of its aliases)."""
    for spec in CHAPTERS.values():
        if name == spec.name or name in spec.aliases:
            return spec
    raise ParameterError(f"no chapter called {name!r}; the chapters are: {', '.join(CHAPTERS)}")
