"""Synchronicity statistics (known values) and tracking (checkpoints, untouched training)."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from linstruct.data import load_dataset
from linstruct.nn.mlp import MLP
from linstruct.studies.md_lsm.synchronicity import (
    SeparabilityMonitor,
    alternative_updates,
    change_agreement,
    detrend,
    interventional_correlations,
    level_correlation,
    phi_coefficient,
    spearman,
    track_training,
)


def test_phi_known_values_and_empty_margin():
    assert phi_coefficient(np.array([[10, 0], [0, 10]])) == (1.0, True)
    assert phi_coefficient(np.array([[5, 5], [5, 5]])) == (0.0, True)
    assert phi_coefficient(np.array([[7, 0], [3, 0]])) == (0.0, False)


def test_change_agreement_counts_signs():
    accuracy = np.array([0.1, 0.2, 0.15, 0.3, 0.3, 0.25, 0.4])
    rho = np.array([0.5, 0.6, 0.55, 0.7, 0.8, 0.85, 0.9])
    result = change_agreement(accuracy, rho)
    # intervals: (+,+) (-,-) (+,+) (0: skipped) (-,+) (+,+)
    assert result.n == 5 and result.table.tolist() == [[3, 0], [1, 1]]
    assert result.agreement == pytest.approx(4 / 5)
    assert result.p_rho_down_given_accuracy_down == pytest.approx(0.5)


def test_detrend_removes_a_constant_trend_and_level_is_rank_based():
    assert np.allclose(detrend(np.full(20, 0.3)), 0)
    steps = np.linspace(0, 1, 30)
    assert level_correlation(steps**3, np.log1p(steps)) == pytest.approx(1.0)
    assert np.isnan(spearman(np.ones(5), np.arange(5)))


def small_problem(seeds=(0,)):
    data = load_dataset("digits").subset(300, 60)
    return data, MLP.from_seeds(seeds, 64, 8, 2, 10, "tanh")


def test_tracking_records_checkpoints_and_leaves_training_untouched():
    data, model = small_problem()
    twin = copy.deepcopy(model)
    [tracking] = track_training(
        model,
        data,
        epochs=2,
        lr=0.1,
        batch_size=50,
        checkpoint_every=4,
        baseline_every=2,
        intervene_at=(5,),
        candidates=3,
    )
    # 300 / 50 = 6 steps per epoch, 12 steps: checkpoints at 0, 4, 8, 12
    assert tracking.history["step"].unique().tolist() == [0, 4, 8, 12]
    assert len(tracking.history) == 4 * 2 and tracking.depth == 2
    assert tracking.pair_rho.shape == (4, 2, 45)
    assert tracking.baselines["step"].unique().tolist() == [0, 8]
    assert len(tracking.interventions) == 3 * 2
    [quiet] = track_training(twin, data, epochs=2, lr=0.1, batch_size=50, checkpoint_every=4)
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.equal(p, q)  # the alternative updates did not change the trained network
    assert quiet.history["rho"].tolist() == pytest.approx(tracking.history["rho"].tolist(), abs=1e-12)


def test_only_the_detailed_copies_get_baselines_and_interventions():
    data, model = small_problem(seeds=(0, 1))
    first, second = track_training(
        model,
        data,
        epochs=1,
        lr=0.1,
        batch_size=50,
        checkpoint_every=3,
        baseline_every=1,
        intervene_at=(2,),
        candidates=3,
        detailed=(1,),
    )
    assert first.baselines.empty and first.interventions.empty
    assert second.baselines["step"].tolist() == [0, 0, 3, 3, 6, 6]  # every checkpoint, two layers
    assert len(second.interventions) == 3 * 2
    with pytest.raises(ValueError, match="detailed"):
        track_training(model, data, epochs=1, lr=0.1, batch_size=50, checkpoint_every=3, detailed=(2,))


def test_alternative_updates_leave_the_model_untouched():
    data, model = small_problem()
    before = [p.detach().clone() for p in model.parameters()]
    warm = SeparabilityMonitor(data.x_train, data.y_train, 1).measure(model)[0].directions
    rows = alternative_updates(
        model,
        warm,
        data.x_train,
        data.y_train,
        step=0,
        candidates=4,
        lr=0.5,
        batch_size=32,
        generator=torch.Generator().manual_seed(0),
    )
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), before))
    frame = interventional_correlations(pd.DataFrame(rows))
    assert frame.columns.tolist() == ["step", "train_accuracy", "layer", "spearman"] and len(frame) == 2


def test_tracking_rejects_bad_settings():
    data, model = small_problem()
    with pytest.raises(ValueError, match="checkpoint_every"):
        track_training(model, data, epochs=1, lr=0.1, batch_size=50, checkpoint_every=0)


def test_tracking_in_float64_matches_float32_closely():
    data, model = small_problem()
    twin = copy.deepcopy(model).double()
    [single] = track_training(
        model, data, epochs=1, lr=0.1, batch_size=50, checkpoint_every=3, intervene_at=(2,), candidates=3
    )
    [double] = track_training(
        twin,
        data.to(dtype=torch.float64),
        epochs=1,
        lr=0.1,
        batch_size=50,
        checkpoint_every=3,
        intervene_at=(2,),
        candidates=3,
    )
    assert next(twin.parameters()).dtype == torch.float64
    assert double.history["step"].tolist() == single.history["step"].tolist()
    np.testing.assert_allclose(double.history["rho"], single.history["rho"], atol=0.02)
    np.testing.assert_allclose(double.history["train_accuracy"], single.history["train_accuracy"], atol=0.02)
    assert len(double.interventions) == 3 * 2


def test_monitor_keeps_the_model_state_and_measures_each_copy_in_float64():
    data, model = small_problem(seeds=(0, 1))
    model.double().train()
    monitor = SeparabilityMonitor(data.x_train.double(), data.y_train, 2)
    snaps = monitor.measure(model)
    assert model.training and len(snaps) == 2 and all(len(s.layers) == 2 and s.rho.shape == (2,) for s in snaps)
    for snap in snaps:
        assert 0.5 <= snap.rho.min() <= snap.rho.max() <= 1.0 and 0.0 <= snap.accuracy <= 1.0
    alone = SeparabilityMonitor(data.x_train.double(), data.y_train, 1).measure(model.member(1))[0]
    np.testing.assert_allclose(alone.rho, snaps[1].rho, atol=1e-12)
    assert monitor.warm[1][0] is snaps[1].layers[0].directions


def test_tracking_moves_the_model_to_the_given_device():
    data, model = small_problem()
    [tracking] = track_training(model, data, epochs=1, lr=0.1, batch_size=50, checkpoint_every=6, device="cpu")
    assert next(model.parameters()).device.type == "cpu" and tracking.history["step"].tolist() == [0, 0, 6, 6]
