"""Chapter parameters: declaration, profiles and validation.

Every chapter declares its parameters once (:class:`Param`) together with three
profiles (``smoke``: seconds, for tests; ``book``: what the HTML book shows; ``full``:
paper-scale). A value given by the reader overrides the profile's value. Validation
happens before any data is loaded or any model trained, and every error names the
chapter, the parameter and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROFILES = ("smoke", "book", "full")
PROFILE_ENV = "LINSTRUCT_PROFILE"
_KIND_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


class ParameterError(ValueError):
    """A chapter parameter that is unknown, of the wrong type or out of range."""


@dataclass(frozen=True)
class Param:
    """One chapter parameter.

    ``kind`` is ``int``, ``float``, ``str`` or ``bool``; ``choices`` restricts the
    value to a set; ``low``/``high`` bound numbers (inclusive); ``default`` is used
    when neither the reader nor the profile gives a value.
    """

    name: str
    kind: type
    help: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    default: Any = None
    optional: bool = False  # None is an allowed final value

    def allowed(self) -> str:
        """What values are allowed, in words."""
        if self.choices:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            text = _KIND_NAMES[self.kind]
            if self.low is not None and self.high is not None:
                text += f" from {self.low:g} to {self.high:g}"
            elif self.low is not None:
                text += f" of at least {self.low:g}"
            elif self.high is not None:
                text += f" of at most {self.high:g}"
        return text + (" (or None)" if self.optional else "")

    def parse(self, text: str, chapter: str) -> Any:
        """Convert a command-line string to this parameter's type (then :meth:`check`)."""
        if self.optional and text.strip().lower() in ("none", "null", ""):
            return None
        try:
            if self.kind is bool:
                lowered = text.strip().lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(text)
                value: Any = lowered in ("true", "1", "yes")
            elif self.kind is int:
                value = int(text)
            elif self.kind is float:
                value = float(text)
            else:
                value = text
        except ValueError:
            raise self.error(chapter, text) from None
        return self.check(value, chapter)

    def check(self, value: Any, chapter: str) -> Any:
        """Return ``value`` (ints widened to float for float parameters) or raise."""
        if value is None:
            if self.optional:
                return None
            raise self.error(chapter, value)
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.kind in (int, float) and isinstance(value, bool):
            raise self.error(chapter, value)
        if not isinstance(value, self.kind):
            raise self.error(chapter, value)
        if self.choices and value not in self.choices:
            raise self.error(chapter, value)
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise self.error(chapter, value)
        return value

    def error(self, chapter: str, value: Any) -> ParameterError:
        return ParameterError(f"chapter '{chapter}': parameter '{self.name}' must be {self.allowed()}; got {value!r}")


COMMON_PARAMS = (
    Param(
        "profile",
        str,
        f"smoke (seconds), book (the HTML book) or full (paper scale); unset: ${PROFILE_ENV} if set, else book",
        choices=PROFILES,
    ),
    Param("seed", int, "seed of data order and initialisation", low=0, high=2**31 - 1, default=0),
    Param("threads", int, "torch CPU threads; unset: the package's thread policy", low=1, high=256, optional=True),
    Param("device", str, "where to train", choices=("cpu", "cuda", "auto"), default="cpu"),
    Param("output_dir", str, "folder for results.json; unset: runs/<chapter> beside the book", optional=True),
)


class Config(dict):
    """A chapter's resolved parameters: a dict that also allows ``config.name``."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class ChapterSpec:
    """A chapter: its notebook, its own parameters and the three profiles' values."""

    name: str
    title: str
    notebook: str  # path relative to the repository root
    params: tuple[Param, ...]
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"chapter '{self.name}' declares a parameter twice: {names}")
        if set(self.profiles) != set(PROFILES):
            raise ValueError(f"chapter '{self.name}' must define profiles {PROFILES}")
        for profile, values in self.profiles.items():
            unknown = set(values) - set(names)
            if unknown:
                raise ValueError(f"profile '{profile}' of '{self.name}' sets unknown {sorted(unknown)}")

    @property
    def parameters(self) -> tuple[Param, ...]:
        """The common parameters followed by the chapter's own."""
        return COMMON_PARAMS + self.params

    def param(self, name: str) -> Param:
        for p in self.parameters:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.parameters)
        raise ParameterError(f"chapter '{self.name}' has no parameter '{name}'; its parameters are: {known}")

    def default(self, name: str, profile: str = "book") -> Any:
        """The value ``name`` takes in ``profile`` when the reader gives none."""
        return self.profiles[profile].get(name, self.param(name).default)

    def resolve(self, **given: Any) -> Config:
        """Validate ``given`` (``None`` means "not given") and fill in the profile's values."""
        for name in given:
            self.param(name)
        profile = given.get("profile") or os.environ.get(PROFILE_ENV) or "book"
        profile = self.param("profile").check(profile, self.name)
        config = Config(profile=profile)
        for p in self.parameters[1:]:
            value = given.get(p.name)
            if value is None:
                value = self.default(p.name, profile)
            config[p.name] = p.check(value, self.name)
        return config
