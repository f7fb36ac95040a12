import json

import pytest

from linstruct.book.session import baselines_html, claims_html, default_output_dir, start_chapter
from linstruct.core.claims import Baseline, Check, Claim
from linstruct.core.parameters import ParameterError
from linstruct.studies import get_chapter


def test_start_reads_parameters_from_a_namespace_and_validates():
    namespace = {"profile": "smoke", "seed": 4, "width": None, "unrelated": object()}
    run = start_chapter("toolkit", namespace, threads=1)
    assert (run.config.profile, run.config.seed, run.config.width, run.threads) == ("smoke", 4, 32, 1)
    settings = run.settings().set_index("parameter")
    assert settings.loc["width", "value"] == "32" and settings.loc["width", "from"] == "profile"
    assert settings.loc["seed", "value"] == "4" and settings.loc["seed", "from"] == "set for this run"
    assert settings.loc["threads", "from"] == "set for this run" and "output_dir" not in settings.index
    with pytest.raises(ParameterError, match="parameter 'width' must be an integer from 4 to 1024"):
        start_chapter("toolkit", {"width": "banana"})


def test_results_json_has_the_documented_schema(tmp_path):
    run = start_chapter("toolkit", profile="smoke", output_dir=str(tmp_path), threads=1)
    claim = Claim("c", "the paper says", "our test", {"x": 1.5}, [Check.at_most("x", 1.5, 2.0)])
    path = run.write_results([claim])
    record = json.loads(path.read_text())
    assert path == tmp_path / "results.json"
    assert set(record) >= {"chapter", "profile", "parameters", "claims", "runtime_s"}
    assert record["chapter"] == "toolkit" and record["profile"] == "smoke"
    assert record["parameters"]["width"] == 32
    assert record["claims"][0] == claim.as_record()
    assert record["claims"][0]["verdict"] == "reproduced"


def test_default_output_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("LINSTRUCT_RUNS_DIR", str(tmp_path))
    assert default_output_dir("toolkit") == tmp_path / "toolkit"


def test_claims_html_escapes_and_marks_the_verdict():
    claim = Claim("c", "a < b", "crit", {"x": 1.0}, [Check.at_most("x", 9.0, 2.0)])
    text = claims_html([claim])
    assert "a &lt; b" in text and 'class="verdict verdict-not"' in text and "not reproduced" in text


def test_results_json_records_baselines_and_each_claims_effect(tmp_path):
    run = start_chapter("toolkit", profile="smoke", output_dir=str(tmp_path), threads=1)
    baselines = [
        Baseline("MLP", "mnist1d", 66.2, 65.0, "MNIST-1D paper: MLP 68%"),
        Baseline("deep linear control", "mnist1d", 30.1, None, "meant not to train"),
    ]
    claim = Claim("c", "s", "k", {"gap": 1.0}, [Check.interval_at_most("gap", [0.5, 1.0, 1.5], 2.0)])
    record = json.loads(run.write_results([claim], baselines).read_text())
    assert record["baselines"] == [b.as_record() for b in baselines]
    assert record["claims"][0]["seeds"] == 3 and record["claims"][0]["effect"] == 1.0
    low, high = record["claims"][0]["interval"]
    assert low < 1.0 < high and record["claims"][0]["seed_share"] == 1.0


def test_claims_html_shows_the_effect_with_its_interval_and_seeds():
    claim = Claim("c", "s", "k", {"gap": 1.0}, [Check.interval_at_most("gap", [0.5, 1.0, 1.5], 2.0)])
    text = claims_html([claim])
    assert "verdict, effect [95% interval]" in text and "1 <small>[-0.242, 2.24]</small>" in text
    assert "3 seed(s), 100% holding" in text
    assert "no check over seeds" in claims_html([Claim("e", "s", "k", {"x": 0.0}, [Check("exact", True)])])


def test_baselines_html_marks_reached_missed_and_exempt():
    text = baselines_html(
        [
            Baseline("CNN", "mnist1d", 92.44, 91.0, "paper <94%>"),
            Baseline("MLP", "mnist1d", 60.0, 65.0, "r"),
            Baseline("frozen control", "circle", 50.0, None, "r"),
        ]
    )
    assert "92.4%" in text and "reached" in text and "missed" in text and "exempt control" in text
    assert "paper &lt;94%&gt;" in text and "<caption>" in text


def test_settings_table_lists_every_parameter_once_with_its_resolved_value():
    run = start_chapter("toolkit", {"profile": "smoke", "threads": None})
    html = run.settings_table().data
    assert "<caption>Settings of this run: profile smoke, every value resolved</caption>" in html
    spec_names = [p.name for p in get_chapter("toolkit").parameters if p.name != "output_dir"]
    assert list(run.settings()["parameter"]) == spec_names
    assert run.settings().set_index("parameter").loc["threads", "value"] == "–"  # unset: the thread policy
    assert html == start_chapter("toolkit", {"profile": "smoke", "threads": None}).settings_table().data


def test_finish_keeps_the_claims_for_the_glance_figure_which_needs_them(tmp_path):
    run = start_chapter("toolkit", profile="smoke", output_dir=str(tmp_path), threads=1)
    with pytest.raises(RuntimeError, match="call finish first"):
        run.glue_glance()
    claim = Claim("c", "the paper says", "our test", {"x": 1.5}, [Check.interval_at_least("x", [1.0, 2.0], 0.5)])
    run.finish([claim])
    assert run.claims == [claim]
    run.glue_glance()  # glues the figure (a display with the glue key) without raising
