"""Chapter 2's tables and the plain claim inputs built from a study's runs."""

import math

import pandas as pd
import pytest
import torch

import linstruct.studies.early_separability.masks as mk
from linstruct.data import load_dataset
from linstruct.studies.early_separability import claims
from linstruct.studies.early_separability import experiments as ex


def fake_study(role: str = "shells") -> ex.Study:
    """Two seeds, penalties 0.1 and 0.03 (out of order), made-up accuracies and fractions."""
    rows = []
    for seed in (0, 1):
        rows.append({"seed": seed, "kind": "baseline", "lam": 0.0, "accuracy": 0.9, "f": 0.0, "f_0": 0.0, "f_1": 0.0})
        for lam, first_f, second_f in ((0.1, 0.5, 0.75), (0.03, 0.25, 0.5)):
            rows.append(
                {
                    "seed": seed,
                    "kind": "learned",
                    "lam": lam,
                    "accuracy": 0.88 - seed / 100,
                    "f": (first_f + second_f) / 2,
                    "f_0": first_f,
                    "f_1": second_f,
                    "ablated": 0.6,
                    "share_kept": [0.01, float("nan")][seed],
                    "share_detached_top": 0.7,
                }
            )
            rows.append(
                {
                    "seed": seed,
                    "kind": "random",
                    "lam": lam,
                    "accuracy": 0.85,
                    "f": (first_f + second_f) / 2,
                    "f_0": first_f,
                    "f_1": second_f,
                }
            )
    task = ex.Task(role, data=None, build=None, epochs=1)
    return ex.Study(task, pd.DataFrame(rows), pd.DataFrame())


def test_penalties_parse_the_parameter():
    assert ex.penalties("0.03,0.1") == [0.03, 0.1]
    assert fake_study().penalties == [0.03, 0.1]


def test_paired_values_are_per_seed_points():
    values = ex.paired_values(fake_study())
    assert list(values) == [0.03, 0.1]
    high = values[0.1]
    assert high["baseline"] == pytest.approx([90.0, 90.0]) and high["learned"] == pytest.approx([88.0, 87.0])
    assert high["random"] == pytest.approx([85.0, 85.0]) and high["ablated"] == pytest.approx([60.0, 60.0])
    assert high["f"] == [0.625, 0.625] and high["max_f_l"] == [0.75, 0.75]


def test_early_claim_inputs_take_the_smallest_penalty_on_shells():
    studies = {"mnist1d": fake_study("mnist1d"), "shells": fake_study()}
    inputs = ex.early_claim_inputs(studies)
    assert set(inputs["paired"]) == {"mnist1d", "shells"}
    assert inputs["f_first"] == [0.25, 0.25] and inputs["f_second"] == [0.5, 0.5]
    assert inputs["share_kept"][0] == 0.01 and math.isnan(inputs["share_kept"][1])
    claim = claims.early_claim(**inputs)
    assert claim.measured["share_kept"] == pytest.approx(0.01)  # the seed with no kept unit is skipped
    assert claim.measured["shells_deeper_more_detached"] == 1.0


def test_probe_rows_and_claim_inputs_on_a_tiny_network():
    data = load_dataset("shells", n_train=200, n_test=100)
    model = mk.MaskableMLP.from_seeds((0,), data.in_features, 6, 3, data.num_classes).eval()
    model.fix_masks([torch.tensor([[True, False] * 3]), torch.tensor([[True] * 6])])
    baseline = ex.probe_rows(model, data, kind="baseline")
    assert [r["layer"] for r in baseline] == [0, 1, 2, 3] and baseline[0]["channels"] == data.in_features
    learned = ex.probe_rows(model, data, kind="learned")
    assert [(r["layer"], r["subset"], r["channels"]) for r in learned] == [
        (1, "all", 6),
        (1, "detached", 3),
        (1, "kept", 3),
        (2, "all", 6),
        (2, "kept", 6),
    ]
    study = ex.Study(ex.Task("mnist1d", data, None, 1), pd.DataFrame(), pd.DataFrame(baseline + learned))
    inputs = ex.probe_claim_inputs(study)
    assert inputs["baseline_blocks"] == [[r["test_accuracy"] for r in baseline[2:]]]
    # one seed, two masked blocks; the second detached no channel
    assert len(inputs["all_channels"]) == 1 and len(inputs["all_channels"][0]) == 2
    assert math.isnan(inputs["detached"][0][1]) and not math.isnan(inputs["kept"][0][1])
    claim = claims.probe_claim(**inputs)
    assert claim.as_record()["seeds"] == 1


def test_baselines_list_the_tasks_with_a_reference():
    studies = {role: fake_study(role) for role in ("mnist1d", "shells", "digits")}
    studies["mnist1d"].task.family, studies["mnist1d"].task.model = "cnn", "CNN 16x4"
    for role, study in studies.items():
        study.task.data = load_dataset(role, n_train=100, n_test=50)
    found = ex.baselines(studies)
    assert set(found) == {"mnist1d", "digits"}  # the synthetic task has no reference and is no control
    assert found["mnist1d"].target == 91.0 and found["digits"].target == 95.0
    assert found["mnist1d"].accuracy == pytest.approx(90.0) and found["mnist1d"].name == "unmasked CNN 16x4 (1 epochs)"


def test_run_study_trains_random_controls_on_the_first_control_seeds_only():
    data = load_dataset("shells", n_train=200, n_test=100)
    task = ex.Task(
        "shells", data, lambda seeds: mk.MaskableMLP.from_seeds(seeds, data.in_features, 8, 3, data.num_classes), 1
    )
    study = ex.run_study(
        task, seeds=[0, 1, 2], lambdas=[0.1], lr=1e-2, mask_lr=0.1, warmup=0.0, batch_size=64, control_seeds=2
    )
    kinds = study.runs.groupby("kind")["seed"].apply(list).to_dict()
    assert kinds == {"baseline": [0, 1, 2], "learned": [0, 1, 2], "random": [0, 1]}
    random = ex.paired_values(study)[0.1]["random"]
    assert not math.isnan(random[1]) and math.isnan(random[2])
    claim = claims.detachment_claim(**ex.detachment_claim_inputs({"mnist1d": study, "shells": study}))
    assert "learned_minus_random_low_shells" in claim.measured
