"""Chapter 4's runners and the helpers that turn runs into the claims' plain values."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

from linstruct.data import load_dataset
from linstruct.studies.md_lsm import claims
from linstruct.studies.md_lsm import experiments as ex


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits").subset(200, 60)


@pytest.fixture(scope="module")
def over_seeds(data):
    setup = dict(width=8, depth=2, lr=0.1, batch_size=50, epochs=2, checkpoint_every=2, device="cpu")
    return {
        a: ex.synchronicity_runs(data, a, [0, 1], **setup, intervene=2 if a == "relu" else 0, candidates=3)
        for a in ex.SEED_ACTIVATIONS
    }


@pytest.fixture(scope="module")
def runs(over_seeds):
    return {a: seed_runs[0] for a, seed_runs in over_seeds.items()}


def test_glorot_mlp_copies_are_their_seeds_glorot_draws():
    model = ex.glorot_mlp([3, 5], 6, 4, 2, 3, "tanh")
    torch.manual_seed(5)
    linears = [torch.nn.Linear(6, 4), torch.nn.Linear(4, 4), torch.nn.Linear(4, 3)]  # as the old seeded MLP built them
    for linear in linears:
        ex.glorot(linear)
    for stacked, linear in zip([*model.hidden, model.head], linears):
        assert torch.equal(stacked.weight[1], linear.weight) and not stacked.bias.any()
    assert model.seeds == (3, 5) and model.activation == "tanh"


def test_synchronicity_run_tracks_and_certifies(runs):
    run = runs["relu"]
    # 200 / 50 = 4 steps per epoch, 8 steps, checkpoints every 2 steps: 0, 2, 4, 6, 8
    assert run.last["step"].tolist() == [0, 2, 4, 6, 8] and run.tracking.depth == 2
    assert run.certified.shape == (2,) and np.all((0 <= run.certified) & (run.certified <= 1))
    assert sorted(run.tracking.interventions["step"].unique()) == [
        1,
        3,
        6,
    ]  # 0.025, 0.125, 0.375, 0.75 of 8 steps (the first two both round to step 1)
    assert run.gain == pytest.approx(run.last["rho"].iloc[-1] - run.last["rho"].iloc[0])


def test_only_the_first_seed_is_detailed_and_intervene_counts_seeds(over_seeds):
    first, second = over_seeds["relu"]
    assert (first.seed, second.seed) == (0, 1) and not second.tracking.interventions.empty
    assert over_seeds["tanh"][0].tracking.interventions.empty
    assert np.isnan(second.certified).all() and not np.isnan(first.certified).any()
    assert second.last["step"].tolist() == first.last["step"].tolist()


def test_seed_table_rows_are_each_runs_last_layer(over_seeds):
    by_seed = ex.runs_by_seed(over_seeds)
    assert list(by_seed) == [0, 1] and [r.activation for r in by_seed[1]] == list(ex.SEED_ACTIVATIONS)
    seeds = ex.seed_table(by_seed)
    assert seeds["seed"].tolist() == [0, 0, 1, 1]
    for (_, row), run in zip(seeds.iterrows(), [r for seed in (0, 1) for r in by_seed[seed]]):
        assert row["acc_end"] == run.final_accuracy and row["test_end"] == run.test_accuracy
        assert row["gain"] == pytest.approx(run.gain)
        assert row["min_layer_step"] == pytest.approx(np.diff(run.tracking.final_rho()).min())


def test_claim_values_are_per_seed_and_keyed_for_the_claims(over_seeds):
    seeds = ex.seed_table(ex.runs_by_seed(over_seeds))
    levels = ex.seed_values(seeds, "level_spearman")
    assert list(levels) == ["tanh", "relu"] and all(len(v) == 2 for v in levels.values())
    changes = ex.change_values(seeds)
    assert set(changes["relu"]) == {"agreement", "n", "phi", "fisher_p", "detrended"}
    expected = seeds[seeds["activation"] == "relu"]["phi"].tolist()
    assert changes["relu"]["phi"] == pytest.approx(expected, nan_ok=True)
    rho = ex.final_rho_values(over_seeds)
    assert rho["tanh"][1] == over_seeds["tanh"][1].tracking.final_rho().tolist()


def test_baselines_are_mean_test_accuracy_and_the_sigmoid_is_an_exempt_control(data, over_seeds):
    sigmoid = over_seeds["tanh"][:1]  # any runs stand in for the control
    found = ex.baselines({"relu": over_seeds["relu"], "sigmoid": sigmoid}, data, width=8, depth=2)
    relu, control = found  # digits has an MLP reference
    assert relu.target == 95.0 and relu.accuracy == pytest.approx(
        100 * np.mean([r.test_accuracy for r in over_seeds["relu"]])
    )
    assert control.target is None and "control" in control.name
    spirals = dataclasses.replace(data, name="spirals")
    (only,) = ex.baselines({"relu": over_seeds["relu"], "sigmoid": sigmoid}, spirals, width=8, depth=2)
    assert only.target is None  # no reference for spirals: only the control is listed


def test_interventional_values_take_the_latest_states_per_seed():
    rows = [
        dict(activation="relu", seed=seed, step=s, layer=l, spearman=s / 10 + l / 100 + seed)
        for seed in (0, 1)
        for s in (1, 2, 3, 4)
        for l in (1, 2)
    ]
    values = ex.interventional_values(pd.DataFrame(rows), depth=2)
    assert values["relu"]["last"] == pytest.approx([0.32, 1.32])  # mean of steps 2, 3, 4
    assert values["relu"]["first"] == pytest.approx([0.31, 1.31])
    assert values["relu"]["early"] == pytest.approx([0.12, 1.12])


def width_frame(small_per_pair, seed=0):
    rows = []
    for width in (8, 16):
        for sample, per_pair in (("all", 400), ("small", small_per_pair)):
            rows.append(
                dict(
                    width=width,
                    seed=seed,
                    stage="trained",
                    sample=sample,
                    per_pair=per_pair,
                    in_sample=0.9 + width / 1000,
                    heldout=0.8 + width / 1000,
                    shuffled=0.6,
                    shuffled_heldout=0.47 if width == 16 else 0.51,
                    shuffled_certified=width / 16,
                )
            )
    return pd.DataFrame(rows)


def test_width_values_and_the_cover_regime():
    values = ex.one_seed_width_values(width_frame(small_per_pair=10))
    assert values["in_sample_wide"] - values["in_sample_narrow"] == pytest.approx(0.008)
    assert values["shuffled_certified_saturated"] == 1.0  # only width 16 >= 10 points per pair
    assert values["shuffled_heldout_max_deviation"] == pytest.approx(0.03)
    assert math.isnan(ex.one_seed_width_values(width_frame(small_per_pair=40))["shuffled_certified_saturated"])
    assert set(values) == set(claims.WIDTH_KEYS)
    both = ex.width_values(pd.concat([width_frame(10, seed=0), width_frame(40, seed=1)]))
    assert both["shuffled_certified_saturated"][0] == 1.0 and math.isnan(both["shuffled_certified_saturated"][1])
    assert both["in_sample_wide"] == pytest.approx([0.916, 0.916])


def test_width_study_rows(data):
    frame = ex.width_study(
        data, widths=[4, 8], depth=1, epochs=1, lr=0.1, batch_size=50, small_per_class=4, seeds=[0, 1], device="cpu"
    )
    assert len(frame) == 2 * 2 * 2 * 2 and frame["per_pair"].tolist()[:3] == [2 * 200 // 10] * 2 + [8]
    assert frame["seed"].tolist()[:2] == [0, 1]
    assert frame["shuffled_certified"].notna().sum() == 8  # the small sample only


def test_parse_widths_and_calibration_setting(data):
    assert ex.parse_widths("8,32,128") == [8, 32, 128]
    assert not ex.is_calibration_setting(data)
