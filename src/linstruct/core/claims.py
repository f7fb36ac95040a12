"""Claims: a paper's statement, how we measure it, and a verdict computed from the run.

A :class:`Claim` holds measured values and one or more :class:`Check` s. Each check
compares a measured value with a criterion and, optionally, a looser "partly" band.
The verdict follows from the checks alone, never from typing it:

* ``reproduced``: every check passes;
* ``partly reproduced``: every check passes at least its partly band, or some pass
  and some fail;
* ``not reproduced``: no check passes, even partly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

REPRODUCED = "reproduced"
PARTLY = "partly reproduced"
NOT_REPRODUCED = "not reproduced"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED)


@dataclass(frozen=True)
class Check:
    """One criterion: ``passed`` fully, or only ``partly`` (within a looser band)."""

    description: str
    passed: bool
    partly: bool = False

    @classmethod
    def at_most(cls, name: str, value: float, bound: float, partly_bound: float | None = None) -> Check:
        """``value <= bound`` passes; ``value <= partly_bound`` passes partly."""
        partly = partly_bound is not None and value <= partly_bound
        text = f"{name} = {value:.4g} <= {bound:g}"
        if partly_bound is not None:
            text += f" (partly: <= {partly_bound:g})"
        return cls(text, bool(value <= bound), bool(partly))

    @classmethod
    def at_least(cls, name: str, value: float, bound: float, partly_bound: float | None = None) -> Check:
        """``value >= bound`` passes; ``value >= partly_bound`` passes partly."""
        partly = partly_bound is not None and value >= partly_bound
        text = f"{name} = {value:.4g} >= {bound:g}"
        if partly_bound is not None:
            text += f" (partly: >= {partly_bound:g})"
        return cls(text, bool(value >= bound), bool(partly))

    @property
    def status(self) -> str:
        return "pass" if self.passed else ("partly" if self.partly else "fail")


def verdict_of(checks: Sequence[Check]) -> str:
    """The verdict that a list of checks implies (see the module docstring)."""
    if not checks:
        raise ValueError("a claim needs at least one check to have a verdict")
    if all(c.passed for c in checks):
        return REPRODUCED
    if any(c.passed or c.partly for c in checks):
        return PARTLY
    return NOT_REPRODUCED


@dataclass(frozen=True)
class Claim:
    """A paper's statement with our criterion, the measured values and the checks.

    Every measured value must be a finite number, except those named in ``undefined``
    (value -> the reason it has none, e.g. "no seed converged"), which may be NaN or
    infinite; the reason is shown in the claims table and stored in ``results.json``.
    """

    id: str
    statement: str
    criterion: str
    measured: Mapping[str, float]
    checks: Sequence[Check]
    source: str = ""  # where the statement comes from, e.g. "abstract" or "[Reconstructed]"
    notes: str = ""
    undefined: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id.isidentifier():
            raise ValueError(f"claim id must be a Python identifier (used as a glue key), got {self.id!r}")
        for key, value in self.measured.items():
            if not key.isidentifier():
                raise ValueError(f"measured key must be an identifier, got {key!r}")
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"measured value {key!r} of claim {self.id!r} must be a number, got {value!r}")
            if not math.isfinite(value) and key not in self.undefined:
                raise ValueError(
                    f"measured value {key!r} of claim {self.id!r} is {value}; a value without a "
                    f"finite measurement must be listed in undefined=... with the reason"
                )
        for key, reason in self.undefined.items():
            if key not in self.measured or not str(reason).strip():
                raise ValueError(f"undefined value {key!r} of claim {self.id!r} needs a measured key and a reason")
        verdict_of(self.checks)

    @property
    def verdict(self) -> str:
        return verdict_of(self.checks)

    def as_record(self) -> dict:
        """The claim as stored in ``results.json``."""
        return {
            "id": self.id,
            "statement": self.statement,
            "criterion": self.criterion,
            "measured": {k: _jsonable(v) for k, v in self.measured.items()},
            "undefined": dict(self.undefined),
            "checks": [{"description": c.description, "status": c.status} for c in self.checks],
            "verdict": self.verdict,
        }


def _jsonable(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def fraction_holding(flags: Sequence[bool]) -> float:
    """The share of runs (e.g. seeds) in which a finding holds."""
    if not flags:
        raise ValueError("need at least one run")
    return sum(bool(f) for f in flags) / len(flags)
