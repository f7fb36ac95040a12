import pytest

from linstruct.core.parameters import PROFILES, ChapterSpec, Param, ParameterError
from linstruct.studies import CHAPTERS, get_chapter

SPEC = ChapterSpec(
    name="demo",
    title="Demo",
    notebook="notebooks/demo.ipynb",
    params=(
        Param("width", int, "units", low=4, high=1024),
        Param("lr", float, "rate", low=1e-6, high=1.0),
        Param("act", str, "activation", choices=("relu", "tanh")),
        Param("tiny", bool, "flag", default=False),
    ),
    profiles={
        "smoke": dict(width=8, lr=0.1, act="relu"),
        "book": dict(width=64, lr=0.01, act="relu"),
        "full": dict(width=256, lr=0.01, act="tanh"),
    },
)


def test_profile_values_and_overrides():
    assert SPEC.resolve().width == 64
    assert SPEC.resolve(profile="smoke").width == 8
    config = SPEC.resolve(profile="full", width=32, seed=5)
    assert (config.width, config.act, config.seed, config.profile) == (32, "tanh", 5, "full")
    assert SPEC.resolve().tiny is False  # falls back to the parameter default


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("LINSTRUCT_PROFILE", "smoke")
    assert SPEC.resolve().profile == "smoke"
    assert SPEC.resolve(profile="book").profile == "book"  # explicit wins


def test_int_is_widened_for_float_parameters():
    assert SPEC.resolve(lr=1).lr == 1.0 and isinstance(SPEC.resolve(lr=1).lr, float)


@pytest.mark.parametrize(
    "given, fragment",
    [
        (dict(width="banana"), "parameter 'width' must be an integer from 4 to 1024; got 'banana'"),
        (dict(width=2), "parameter 'width' must be an integer from 4 to 1024; got 2"),
        (dict(width=True), "parameter 'width'"),
        (dict(lr=5.0), "parameter 'lr' must be a number from 1e-06 to 1"),
        (dict(act="gelu"), "parameter 'act' must be one of 'relu', 'tanh'; got 'gelu'"),
        (dict(profile="huge"), "parameter 'profile' must be one of 'smoke', 'book', 'full'"),
        (dict(widht=3), "chapter 'demo' has no parameter 'widht'; its parameters are: profile, seed"),
    ],
)
def test_errors_name_chapter_parameter_and_allowed_values(given, fragment):
    with pytest.raises(ParameterError) as error:
        SPEC.resolve(**given)
    assert fragment in str(error.value)
    assert "demo" in str(error.value)


def test_parse_from_command_line_text():
    assert SPEC.param("width").parse("32", "demo") == 32
    assert SPEC.param("tiny").parse("yes", "demo") is True
    assert SPEC.param("threads").parse("none", "demo") is None
    with pytest.raises(ParameterError, match="'width' must be an integer"):
        SPEC.param("width").parse("3.5", "demo")


def test_spec_rejects_inconsistent_declarations():
    with pytest.raises(ValueError, match="profiles"):
        ChapterSpec("x", "X", "x.ipynb", params=(), profiles={"book": {}})
    with pytest.raises(ValueError, match="unknown"):
        ChapterSpec("x", "X", "x.ipynb", params=(), profiles={p: {"nope": 1} for p in PROFILES})
    with pytest.raises(ValueError, match="twice"):
        ChapterSpec("x", "X", "x.ipynb", params=(Param("seed", int, "again"),), profiles={p: {} for p in PROFILES})


@pytest.mark.parametrize("name", list(CHAPTERS))
@pytest.mark.parametrize("profile", PROFILES)
def test_every_chapter_profile_is_valid(name, profile):
    config = get_chapter(name).resolve(profile=profile)
    assert config.profile == profile


def test_unknown_chapter_lists_chapters():
    with pytest.raises(ParameterError, match="the chapters are: toolkit"):
        get_chapter("nope")
