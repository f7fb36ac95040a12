"""Claims: a paper's statement, how we measure it, and a verdict computed from the run.

A :class:`Claim` holds measured values and one or more :class:`Check` s. Each check
compares a measured value with a criterion and, optionally, a looser "partly" band.
The verdict follows from the checks alone, never from typing it:

* ``reproduced``: every check passes;
* ``partly reproduced``: every check passes at least its partly band, or some pass
  and some fail;
* ``not reproduced``: no check passes, even partly.

A check over seeds (:meth:`Check.interval_at_least`, :meth:`Check.interval_at_most`) judges
the effect's 95% interval, not its mean: it passes when the whole interval lies on the
claim's side of the threshold, fails when the whole interval lies on the other side, and
passes partly when it straddles the threshold. The interval is Student's t over the
per-seed values, mean +- t(0.975, n - 1) * sd / sqrt(n); one seed gives the value itself.
A claim's effect, interval, seed count and seed share are those of its first check over
seeds. A baseline check (:meth:`Check.baseline`: a network the claim rests on against its
reference) is a gate, not evidence: the verdict follows from the other checks, and a missed
reference lowers a ``reproduced`` to ``partly reproduced``; a met one never raises a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

REPRODUCED = "reproduced"
PARTLY = "partly reproduced"
NOT_REPRODUCED = "not reproduced"
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED)


INTERVAL_LEVEL = 0.95


@dataclass(frozen=True)
class Effect:
    """The quantity a criterion compares, one value per seed: its mean and 95% t-interval."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("an effect needs at least one per-seed value")
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in self.values):
            raise ValueError(f"per-seed values must be finite numbers, got {list(self.values)}")

    @property
    def seeds(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / self.seeds

    @property
    def interval(self) -> tuple[float, float]:
        if self.seeds == 1:
            return (self.mean, self.mean)
        from scipy.stats import t

        mean = self.mean
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in self.values) / (self.seeds - 1))
        half = float(t.ppf(0.5 + INTERVAL_LEVEL / 2, self.seeds - 1)) * sd / math.sqrt(self.seeds)
        return (mean - half, mean + half)


@dataclass(frozen=True)
class Check:
    """One criterion: ``passed`` fully, or only ``partly`` (within a looser band). A check over
    seeds also keeps its :class:`Effect` and the share of seeds on the claim's side."""

    description: str
    passed: bool
    partly: bool = False
    effect: Effect | None = None
    seed_share: float | None = None
    gate: bool = False  # a baseline check: it can lower the verdict, never raise it
    bound: float | None = None  # the threshold a check over seeds compares its interval with...
    side: str | None = None  # ...and the claim's side of it: ">=" or "<="

    @classmethod
    def interval_at_least(cls, name: str, values: Sequence[float], bound: float) -> Check:
        """The 95% interval of the per-seed ``values`` at or above ``bound`` passes; straddling it, partly."""
        effect = Effect(tuple(float(v) for v in values))
        low, high = effect.interval
        text = f"{name} = {effect.mean:.4g} [{low:.4g}, {high:.4g}] >= {bound:g} over {effect.seeds} seed(s)"
        share = fraction_holding([v >= bound for v in effect.values])
        return cls(text, low >= bound, high >= bound, effect, share, bound=float(bound), side=">=")

    @classmethod
    def interval_at_most(cls, name: str, values: Sequence[float], bound: float) -> Check:
        """The 95% interval of the per-seed ``values`` at or below ``bound`` passes; straddling it, partly."""
        effect = Effect(tuple(float(v) for v in values))
        low, high = effect.interval
        text = f"{name} = {effect.mean:.4g} [{low:.4g}, {high:.4g}] <= {bound:g} over {effect.seeds} seed(s)"
        share = fraction_holding([v <= bound for v in effect.values])
        return cls(text, high <= bound, low <= bound, effect, share, bound=float(bound), side="<=")

    @classmethod
    def baseline(cls, name: str, accuracy: float, target: float) -> Check:
        """A model the claim rests on reached its reference: ``accuracy >= target`` (percent)."""
        return cls(f"baseline {name}: {accuracy:.1f}% >= {target:g}% (its reference)", accuracy >= target, gate=True)

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
    evidence = [c for c in checks if not c.gate]
    if not evidence:
        raise ValueError("a claim needs at least one check that is not a baseline to have a verdict")
    if all(c.passed for c in evidence):
        verdict = REPRODUCED
    elif any(c.passed or c.partly for c in evidence):
        verdict = PARTLY
    else:
        verdict = NOT_REPRODUCED
    if verdict == REPRODUCED and not all(c.passed for c in checks):
        return PARTLY  # a network below its reference: the finding is not established on it
    return verdict


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

    @property
    def headline(self) -> Check | None:
        """The first check over seeds: the one whose effect the claim reports."""
        return next((c for c in self.checks if c.effect is not None), None)

    def as_record(self) -> dict:
        """The claim as stored in ``results.json``: ``effect``, ``interval`` (95%), ``seeds``,
        ``seed_share``, ``threshold`` and ``side`` (">=" or "<=") are its headline check's (None for
        a claim without a check over seeds)."""
        headline = self.headline
        effect = None if headline is None else headline.effect
        return {
            "id": self.id,
            "statement": self.statement,
            "criterion": self.criterion,
            "measured": {k: _jsonable(v) for k, v in self.measured.items()},
            "undefined": dict(self.undefined),
            "checks": [{"description": c.description, "status": c.status} for c in self.checks],
            "verdict": self.verdict,
            "effect": None if effect is None else effect.mean,
            "interval": None if effect is None else list(effect.interval),
            "per_seed": None if effect is None else list(effect.values),
            "seeds": None if effect is None else effect.seeds,
            "seed_share": None if headline is None else headline.seed_share,
            "threshold": None if headline is None else headline.bound,
            "side": None if headline is None else headline.side,
        }


CONTROL = "control"  # in a baseline's name: a model meant not to train, exempt from any reference


@dataclass(frozen=True)
class Baseline:
    """A trained model a chapter's claims rest on, against its reference (percent test accuracy).

    ``target``: the accuracy it must reach; ``reference``: where that number comes from. A
    control meant not to train (frozen gating, a deep linear net) has ``target=None`` and says
    so in its name (:data:`CONTROL`)."""

    name: str
    dataset: str
    accuracy: float
    target: float | None
    reference: str

    def __post_init__(self) -> None:
        if not math.isfinite(self.accuracy) or not 0 <= self.accuracy <= 100:
            raise ValueError(f"baseline {self.name!r}: accuracy must be a percentage, got {self.accuracy!r}")
        if self.target is None and CONTROL not in self.name:
            raise ValueError(f"baseline {self.name!r} needs a target, or {CONTROL!r} in its name if it is exempt")

    @property
    def met(self) -> bool | None:
        """Whether it reached its target (None for an exempt control)."""
        return None if self.target is None else self.accuracy >= self.target

    def check(self) -> Check:
        """The check a claim resting on this baseline carries."""
        if self.target is None:
            raise ValueError(f"{self.name!r} is an exempt control: it has no reference to check")
        return Check.baseline(f"{self.name} on {self.dataset}", self.accuracy, self.target)

    def as_record(self) -> dict:
        return {
            "name": self.name,
            "dataset": self.dataset,
            "accuracy": self.accuracy,
            "target": self.target,
            "reference": self.reference,
        }


def defined_interval_at_least(
    name: str, values: Sequence[float], bound: float, otherwise: Check | None = None
) -> Check:
    """:meth:`Check.interval_at_least` over the finite per-seed ``values`` (a seed whose value is
    undefined, NaN or infinite, is left out and the check says how many were); when none is finite,
    ``otherwise``, or a failing check that says so."""
    return _over_defined(Check.interval_at_least, name, values, bound, otherwise)


def defined_interval_at_most(name: str, values: Sequence[float], bound: float, otherwise: Check | None = None) -> Check:
    """As :func:`defined_interval_at_least`, at or below ``bound``."""
    return _over_defined(Check.interval_at_most, name, values, bound, otherwise)


def _over_defined(kind, name: str, values: Sequence[float], bound: float, otherwise: Check | None) -> Check:
    values = [float(v) for v in values]
    defined = [v for v in values if math.isfinite(v)]
    if not defined:
        return otherwise or Check(f"{name}: undefined in all {len(values)} seed(s)", False)
    left_out = len(values) - len(defined)
    return kind(name + (f" ({left_out} undefined seed(s) left out)" if left_out else ""), defined, bound)


def baseline_checks(baselines: Sequence[Baseline]) -> list[Check]:
    """The gate check of every baseline with a reference (exempt controls have none): a claim resting
    on these networks shows each against its reference in its verdict row."""
    return [b.check() for b in baselines if b.target is not None]


def _jsonable(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def fraction_holding(flags: Sequence[bool]) -> float:
    """The share of runs (e.g. seeds) in which a finding holds."""
    if not flags:
        raise ValueError("need at least one run")
    return sum(bool(f) for f in flags) / len(flags)
