"""Chapter 4's one model family, the Glorot MLP trained by SGD, stacked: each copy of a stacked
run (tracking, alternative updates, width-study training) equals its separate one-copy run."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch.testing import assert_close

from linstruct.data import load_dataset
from linstruct.nn.fit import fit
from linstruct.studies.md_lsm import experiments as ex
from linstruct.studies.md_lsm.synchronicity import alternative_updates, track_training

SEEDS = (0, 1, 2)
TIGHT = dict(rtol=1e-5, atol=1e-6)
FRAMES = dict(TIGHT, equal_nan=True)  # batch_loss is NaN before training


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits").subset(300, 60)


def tracked(data, seeds, detailed):
    model = ex.glorot_mlp(seeds, 64, 8, 2, 10, "relu")
    trackings = track_training(
        model,
        data,
        epochs=2,
        lr=0.1,
        batch_size=50,
        checkpoint_every=4,
        baseline_every=2,
        intervene_at=(5,),
        candidates=3,
        detailed=detailed,
    )
    return model, trackings


def assert_frames_close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.columns.tolist() == b.columns.tolist() and len(a) == len(b)
    assert_close(torch.tensor(a.to_numpy(float)), torch.tensor(b.to_numpy(float)), **FRAMES)


def test_each_tracked_copy_equals_its_separate_run(data):
    stacked, trackings = tracked(data, SEEDS, detailed=range(len(SEEDS)))
    for i, seed in enumerate(SEEDS):
        alone, [tracking] = tracked(data, (seed,), detailed=(0,))
        for p, q in zip(stacked.member(i).parameters(), alone.parameters()):
            assert_close(p, q, **TIGHT)
        assert_frames_close(trackings[i].history, tracking.history)
        assert_frames_close(trackings[i].baselines, tracking.baselines)
        assert_frames_close(trackings[i].interventions, tracking.interventions)
        np.testing.assert_allclose(trackings[i].pair_rho, tracking.pair_rho, atol=1e-6)


def test_stacked_alternative_updates_equal_single_candidate_steps(data):
    model = ex.glorot_mlp([4], 64, 8, 2, 10, "tanh")
    x, y = data.x_train, data.y_train
    rows = pd.DataFrame(
        alternative_updates(
            model, None, x, y, step=0, candidates=3, lr=0.5, batch_size=32, generator=torch.Generator().manual_seed(7)
        )
    )
    generator = torch.Generator().manual_seed(7)
    for k in range(3):  # candidate k: one SGD step on the k-th minibatch of the generator, by hand
        trial = ex.glorot_mlp([4], 64, 8, 2, 10, "tanh")
        index = torch.randperm(len(x), generator=generator)[:32]
        loss = torch.nn.functional.cross_entropy(trial(x[index])[0], y[index])
        gradients = torch.autograd.grad(loss, list(trial.parameters()))
        with torch.no_grad():
            for parameter, gradient in zip(trial.parameters(), gradients):
                parameter -= 0.5 * gradient
            accuracy = float((trial(x)[0].argmax(1) == y).double().mean())
            base = float((model(x)[0].argmax(1) == y).double().mean())
        assert rows[rows["candidate"] == k]["d_accuracy"].iloc[0] == pytest.approx(accuracy - base, abs=1e-12)


def test_each_width_study_copy_equals_its_separate_fit(data):
    stacked = ex.glorot_mlp(SEEDS, 64, 8, 2, 10, "tanh")
    history = fit(stacked, data, epochs=2, lr=0.1, batch_size=50, optimizer="sgd", order="per_seed", progress=False)
    for i, seed in enumerate(SEEDS):
        alone = ex.glorot_mlp([seed], 64, 8, 2, 10, "tanh")
        own = fit(alone, data, epochs=2, lr=0.1, batch_size=50, optimizer="sgd", order="per_seed", progress=False)
        for p, q in zip(stacked.member(i).parameters(), alone.parameters()):
            assert_close(p, q, **TIGHT)
        mine = history[history["copy"] == i].drop(columns=["copy"]).reset_index(drop=True)
        assert_frames_close(mine, own.drop(columns=["copy"]))
