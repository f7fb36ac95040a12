"""Chapter 3's runners and the helpers that turn a study into the claims' plain values."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import linstruct.studies.nonlinear_advantage.linearize as lz
from linstruct.data import Dataset
from linstruct.studies.nonlinear_advantage import claims, figures
from linstruct.studies.nonlinear_advantage import experiments as ex


def blobs(n=120, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.randn(n, d, generator=g) + 4.0 * nn.functional.one_hot(y, d).float()
    return Dataset("blobs", x[: n // 2], y[: n // 2], x[n // 2 :], y[n // 2 :], "classification", 3, "generated")


def blob_task(lambdas=(30.0,)):
    return ex.Task("hard", blobs(), lambda seeds: lz.mlp(seeds, 6, 6, 2, 3), pretrain=2, sparsify=2, lambdas=lambdas)


def made_study(rows, references, depth=3, lambdas=(1.0, 10.0)):
    """A study from hand-written runs (no training): rows (condition, lam, seed, rho, accuracy, apl, p1..)."""
    runs = pd.DataFrame(rows)
    refs = pd.DataFrame(references).set_index("seed")
    masks = {(r["condition"], r["lam"], r["seed"]): [torch.ones(2, dtype=torch.bool)] * depth for r in rows}
    return ex.Study(ex.Task("hard", blobs(), lambda: None, 2, 2, lambdas), runs, refs, 0.3, masks)


def run(condition, lam, seed, rho, accuracy, apl=None, shares=(0.0, 0.0, 0.0)):
    return {
        "condition": condition,
        "lam": lam,
        "seed": seed,
        "rho": rho,
        "accuracy": accuracy,
        "soft_accuracy": accuracy,
        "apl": 3 * rho if apl is None else apl,
        **{f"p{l + 1}": p for l, p in enumerate(shares)},
    }


def test_lambda_grid():
    assert ex.lambda_grid(1.0, 100.0, 3) == [1.0, 10.0, 100.0]
    assert ex.lambda_grid(2.0, 60.0, 1) == [2.0]
    with pytest.raises(ValueError, match="lambda_max"):
        ex.lambda_grid(10.0, 1.0, 2)


def test_smallest_rho_within_counts_a_run_exactly_at_the_drop():
    # 0.80 - 0.03 is 0.7700000000000001 in floats; a run at 0.77 is exactly 3 points below and counts
    refs = [{"seed": 0, "dense_at_s": 0.7, "dense_at_t": 0.80, "linear": 0.30}]
    study = made_study([run("late", 1.0, 0, 0.2, 0.77), run("late", 10.0, 0, 0.1, 0.76)], refs)
    assert ex.smallest_rho_within(study, "late", drop_points=3.0) == [0.2]
    assert ex.smallest_rho_within(study, "late", drop_points=4.0) == [0.1]
    assert ex.smallest_rho_within(study, "late", drop_points=1.0) == [1.0]  # no run within: rho 1
    # 95% of the span 0.5 above linear 0.3 is 0.775: the 0.77 run is below it
    assert ex.smallest_rho_within(study, "late", span_share=0.95) == [1.0]
    with pytest.raises(ValueError, match="exactly one"):
        ex.smallest_rho_within(study, "late")


def test_knee_on_ties_and_at_the_ends():
    grid = np.array([0.0, 1.0, 2.0, 3.0])
    assert ex.knee(grid, np.array([0.1, 0.5, 0.9, 0.9]), 0.9) == 2.0  # reaching the floor exactly counts
    assert ex.knee(grid, np.array([0.9, 0.9, 0.9, 0.9]), 0.9) == 0.0
    assert ex.knee(grid, np.array([0.1, 0.95, 0.8, 0.95]), 0.9) == 3.0  # it must stay above all the way up
    assert ex.knee(grid, np.array([0.1, 0.2, 0.3, 0.4]), 0.9) == 3.0  # never reached: the last value
    linear, dense = 0.3, 0.7
    floor = linear + 1.0 * (dense - linear)  # 0.7 up to rounding
    assert ex.knee(grid, np.array([linear, 0.5, dense, dense]), floor) == 2.0


def two_seed_study():
    refs = [{"seed": s, "dense_at_s": 0.6, "dense_at_t": 0.8, "linear": 0.4} for s in (0, 1)]
    rows = []
    for s, late_acc in ((0, 0.7), (1, 0.6)):
        rows += [
            run("late", 1.0, s, 0.1, late_acc, shares=(0.1 * (s + 1), 0.2, 0.0)),
            run("late", 10.0, s, 0.12, 0.5, shares=(0.3, 0.3, 0.3)),
            run("early", 1.0, s, 0.1, 0.5),
            run("early", 10.0, s, 0.2, 0.55),
            run("early-long", 1.0, s, 0.1, 0.6),
            run("early-long", 10.0, s, 0.2, 0.6),
        ]
    return made_study(rows, refs)


def test_gaps_are_per_seed_frontier_differences_in_points():
    study = two_seed_study()
    gaps = study.gaps("early", (0.1, 0.2))
    # late at 0.2 interpolates towards the dense anchor (1.0, 0.8); early sits at its run (0.2, 0.55)
    assert gaps[0.1] == pytest.approx([20.0, 10.0])
    assert gaps[0.2] == pytest.approx([100 * (0.7 + 0.1 / 9 - 0.55), 100 * (0.6 + 0.2 / 9 - 0.55)])
    stats = ex.gap_stats(study, "early", (0.1, 0.2))
    assert stats.loc[0.1, "mean"] == pytest.approx(15.0) and stats.loc[0.1, "se"] == pytest.approx(5.0)
    values = ex.advantage_values(study)
    assert set(values["gaps_early"]) == set(claims.RHO_STARS)
    assert values["gaps_long"][0.1] == pytest.approx([10.0, 0.0])


def test_core_values_pick_the_run_nearest_the_budget_per_seed():
    values = ex.core_values(two_seed_study())
    assert values["rhos"] == [0.1, 0.1]
    assert values["layer_shares"] == [[0.1, 0.2, 0.0], [0.2, 0.2, 0.0]]
    assert claims.core_claim(**values).measured["max_layer_spread"] == pytest.approx(0.1)


def test_collapse_values_and_a_seed_without_span():
    study = two_seed_study()
    values = ex.collapse_values(study)
    assert values["apl_full"] == 3.0 and len(values["knees"]) == 2
    assert all(0 <= k <= 3 for k in values["knees"]) and all(0 <= l <= 100 for l in values["losses"])
    flat = made_study(
        [run("late", 1.0, 0, 0.5, 0.5)], [{"seed": 0, "dense_at_s": 0.5, "dense_at_t": 0.5, "linear": 0.5}]
    )
    assert math.isnan(ex.collapse_values(flat)["losses"][0])


def test_timing_values_without_mid_runs():
    values = ex.timing_values(two_seed_study())
    assert values["mid_gaps"] is None and values["late_gaps"] == pytest.approx([20.0, 10.0])


def test_explorer_states_show_the_run_conditions_at_the_middle_lambda():
    study = made_study(
        [run(c, lam, 0, 0.1, 0.5) for c in ("early", "late") for lam in (1.0, 3.0, 10.0)],
        [{"seed": 0, "dense_at_s": 0.6, "dense_at_t": 0.8, "linear": 0.4}],
        lambdas=(1.0, 3.0, 10.0),
    )
    states, shown = figures.core_explorer_states(study)
    assert states == [(c, lam) for c in ("early", "late") for lam in (1.0, 3.0, 10.0)]
    assert shown == [("early", 3.0), ("late", 3.0)]  # early-long was not run


def test_run_study_measures_every_condition_on_the_cpu_with_paired_seeds():
    recipe = lz.Recipe(lr=1e-2, batch_size=32, alpha_lr_factor=10.0)
    study = ex.run_study(blob_task(), seeds=[3, 4], recipe=recipe, mid_runs=True, device=torch.device("cpu"))
    assert len(study.runs) == 4 * 1 * 2 and study.seeds == [3, 4]
    assert study.conditions == list(ex.CONDITIONS)
    assert all(m.device.type == "cpu" and m.dtype == torch.bool for ms in study.masks.values() for m in ms)
    assert len(study.histories["early-long", 30.0, 3]) == 2 + 2 + 1 and len(study.histories["early", 30.0, 3]) == 3
    assert ((study.runs.rho >= 0) & (study.runs.rho <= 1)).all()
    assert study.runs.apl.to_numpy() == pytest.approx(study.runs[["p1", "p2"]].sum(axis=1).to_numpy())
    assert 0.0 <= study.logistic <= 1.0
    again = ex.run_study(blob_task(), seeds=[3], recipe=recipe, mid_runs=False)
    assert "mid" not in again.conditions
    first = study.runs[study.runs.seed == 3].set_index("condition").drop(index="mid")
    pd.testing.assert_frame_equal(first, again.runs.set_index("condition"), check_like=True)


def test_sanity_values_are_per_seed_and_the_shift_is_each_seeds_largest():
    study = two_seed_study()
    study.runs.loc[(study.runs.seed == 1) & (study.runs.condition == "late"), "soft_accuracy"] -= 0.02
    values = ex.sanity_values(study, study)
    assert values["linear_hard"] == pytest.approx([40.0, 40.0]) and values["logistic_hard"] == pytest.approx(30.0)
    assert values["binarise_shift"] == pytest.approx([0.0, 2.0])
    assert claims.sanity_claim(**values).checks[0].effect.seeds == 2


def test_baselines_are_the_dense_nets_against_their_references():
    study = two_seed_study()
    assert ex.baselines(study, study) == {}  # blobs: no reference
    hard = dataclasses.replace(
        study, task=dataclasses.replace(study.task, data=dataclasses.replace(blobs(), name="mnist1d"))
    )
    easy = dataclasses.replace(
        hard, task=dataclasses.replace(hard.task, role="easy", data=dataclasses.replace(blobs(), name="digits"))
    )
    found = ex.baselines(hard, easy)
    assert found["hard"].dataset == "mnist1d" and found["hard"].accuracy == pytest.approx(80.0)
    assert found["hard"].target == 91.0 and not found["hard"].met
    assert found["easy"].target == 95.0 and "MLP" in found["easy"].name
