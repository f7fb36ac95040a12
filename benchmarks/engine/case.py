"""A benchmark case of the stacked engine (see ``bench_engine.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

CASES: dict = {}


@dataclass(frozen=True)
class Case:
    model: Callable[[Sequence[int]], object]  # seeds -> a stacked model
    data: Callable[[], object]  # () -> the Dataset
    fit: dict = field(default_factory=dict)  # keyword arguments of linstruct.nn.fit.fit
