"""Learning-rate schedules of :func:`linstruct.nn.fit.fit` (light to import: no torch, so chapter
specs can offer them as parameter choices)."""

from __future__ import annotations

import math

SCHEDULES = ("constant", "cosine")


def rate_factor(schedule: str, done: int, total: int) -> float:
    """The factor on the initial learning rate after ``done`` of ``total`` optimiser steps:
    1 throughout for ``constant``; a half cosine from 1 to 0 at the last step for ``cosine``."""
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * min(done, total) / max(1, total)))
    raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
