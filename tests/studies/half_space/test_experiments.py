"""Chapter 1's runners on tiny settings: exact properties of the measurements and the plain values
that feed the claims, in float32 and float64."""

import inspect
from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from linstruct.core.claims import Claim
from linstruct.data import Dataset
from linstruct.studies.half_space import claims
from linstruct.studies.half_space import experiments as ex

ARCH = ex.Architecture(width=4, depth=3, beta=4.0)


def test_scaled_error_is_relative_to_the_output_scale():
    exact = torch.tensor([1.0, -2.0, 4.0], dtype=torch.float64)
    approx = exact + torch.tensor([0.0, 4e-6, 0.0], dtype=torch.float64)
    assert ex.scaled_error(approx, exact) == pytest.approx(1e-6)
    assert ex.scaled_error(approx * 1e6, exact * 1e6) == pytest.approx(1e-6)
    assert ex.scaled_error(approx * 1e-6, exact * 1e-6) == pytest.approx(1e-6)
    assert ex.scaled_error(torch.ones(2), torch.zeros(2)) == 1.0


@pytest.mark.parametrize("scale", [1.0, 1e6, 1e-6])
def test_path_identity_holds_at_any_input_scale(scale):
    errors = ex.path_identity_errors(0, scale=scale)
    assert set(errors) == {"relu", "dlgn_pwc_soft", "dlgn_pwc_hard", "dlgn_pwl_soft"}
    assert claims.path_claim(errors).verdict == "reproduced"


@pytest.fixture(scope="module", params=[torch.float32, torch.float64], ids=["float32", "float64"])
def circle(request):
    data = ex.circle_data(n_points=40, a=1.0, b=9.0)
    arch = ex.Architecture(width=8, depth=3, dtype=request.param)
    return ex.train_circle(data, arch, epochs=5, lr=1e-2, batch_size=8, seeds=[0, 1], device="cpu")


def test_circle_runs_follow_the_dtype_and_snapshot_epochs(circle):
    dtype = circle.runs["dlgn"].model.head_weight.dtype
    assert all(run.model.head_weight.dtype == dtype for run in circle.runs.values())
    assert sorted(circle.runs["dlgn"].snapshots.states) == ex.snapshot_epochs(5) == [0, 1, 2, 3, 5]
    assert circle.top_mask.tolist() == [True] * 20 + [False] * 20


def test_learning_values_are_plain_floats_in_seed_order(circle):
    learning = ex.learning_table(circle)
    values = ex.learns_values(learning)
    assert all(len(v) == 2 and all(type(x) is float for x in v) for v in values.values())
    assert values["dlgn_final"] == list(learning[learning["key"] == "dlgn"].sort_values("seed")["final_mse"])
    assert isinstance(claims.learns_claim(**values), Claim)
    assert isinstance(claims.frozen_claim(**ex.frozen_values(learning), beta=4.0), Claim)


def test_frozen_gating_leaves_the_overlap_kernel_exactly_unchanged(circle):
    overlap = ex.overlap_over_training(circle)
    changes = ex.kernel_change_values(overlap)
    assert changes["frozen_change"] == [0.0, 0.0] and min(changes["learned_change"]) > 0
    assert (overlap[overlap["epoch"] == 0]["R_over_R0"] == 1.0).all()
    assert sorted(overlap["epoch"].unique()) == ex.kernel_epochs(5)
    for values, claim in (
        (changes | {"ntk_change": {"relu": 0.1, "dlgn": 0.2}}, claims.kernel_change_claim),
        (ex.allocation_values(overlap), claims.allocation_claim),
        (ex.relu_gain_values(overlap), claims.relu_analogue_claim),
    ):
        assert isinstance(claim(**values), Claim)


def test_kernel_panels_are_numpy_and_trace_normalised(circle):
    panels = ex.kernel_panels(circle)
    first = panels[("dlgn", "overlap", 0)]
    assert first.shape == (8, 8) and first.trace() == pytest.approx(1.0)
    assert {k for k in panels if k[1] == "ntk_value"} == {("dlgn", "ntk_value", e) for e in (0, 3, 5)}
    assert set(ex.ntk_changes(panels, 5)) == {"relu", "dlgn"}


def test_clustering_values_match_the_claim_signature(circle):
    clusters = ex.clustering_over_seeds(circle)
    values = ex.clustering_values(clusters, depth=3)
    assert set(values) == set(inspect.signature(claims.clustering_claim).parameters)
    assert values["last_init"] == list(
        clusters.query("key == 'dlgn' and stage == 'init' and layer == 3").sort_values("seed")["entropy"]
    )
    assert isinstance(claims.clustering_claim(**values), Claim)


def test_beta_sweep_values(circle):
    sweep = ex.beta_sweep(
        circle.data, ARCH, betas=[1.0, 30.0], seeds=[0, 1, 2], epochs=2, lr=1e-2, batch_size=8, device="cpu"
    )
    assert len(sweep.table) == 2 * 2 * 3 and sweep.runs["dlgn"].model.seeds == (0, 1, 2, 0, 1, 2)
    per_beta = ex.beta_values(sweep)
    assert sorted(per_beta) == [1.0, 30.0] and set(per_beta[1.0]) == {"learned_mse", "frozen_mse"}
    assert all(len(v) == 3 for run in per_beta.values() for v in run.values())
    assert isinstance(claims.beta_claim(per_beta), Claim)
    summary = ex.sweep_summary(sweep)
    assert len(summary) == 4 and summary["converged"].between(0, 1).all()
    hard = ex.hard_gate_values(ex.learning_table(circle), sweep)
    assert hard["top_beta"] == 30.0 and len(hard["top_hard_mse"]) == 3 and len(hard["main_hard_mse"]) == 2
    assert isinstance(claims.hard_gate_claim(**hard, beta=4.0), Claim)


def test_the_sweep_copy_at_one_beta_equals_a_model_built_at_that_beta():
    sweep_model = ex.build("dlgn", ARCH, 2, 1, [0, 0], beta=[1.0, 30.0])
    alone = ex.build("dlgn", ex.Architecture(width=4, depth=3, beta=30.0), 2, 1, [0])
    x = torch.randn(6, 2)
    torch.testing.assert_close(sweep_model(x)[1], alone(x)[0], rtol=1e-6, atol=1e-7)  # float32 rounding


def test_train_fashion_on_a_tiny_classification_set():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(60, 5, generator=g), torch.arange(60) % 3
    data = Dataset("tiny", x, y, x.clone(), y.clone(), "classification", 3, "generated")
    fashion = ex.train_fashion(data, ARCH, epochs=1, lr=1e-2, batch_size=16, seeds=[0, 1], device="cpu")
    assert list(fashion.table["key"].unique()) == list(ex.FMNIST_LEARNERS) and len(fashion.table) == 8
    assert fashion.table["test_accuracy"].between(0, 100).all() and set(fashion.ratios) == {"init", "final"}
    values = ex.fashion_values(fashion)
    assert values["dataset"] == "tiny" and all(len(v) == 2 for v in values["accuracy"].values())
    assert all(b.target is None for b in values["baselines"])  # no reference for this data set: controls only
    assert isinstance(claims.fashion_claim(**values), Claim)


def test_fashion_baselines_check_the_networks_and_exempt_the_controls():
    table = pd.DataFrame(
        [
            {"key": k, "seed": s, "test_accuracy": a}
            for k, a in [("relu", 88.0), ("dlgn", 85.0), ("frozen", 80.0), ("dln", 84.0)]
            for s in (0, 1)
        ]
    )
    data = SimpleNamespace(name="fashion-mnist")
    found = {b.name: b for b in ex.fashion_baselines(ex.FashionRuns(data, table, {}))}
    assert found["ReLU MLP"].met and found["DLGN"].met is False and found["DLGN"].target == 86.0
    assert found["DLGN, frozen gating (control)"].target is None and found["deep linear net (control)"].met is None


def test_runners_refuse_an_unknown_device():
    data = ex.circle_data(n_points=40, a=1.0, b=9.0)
    with pytest.raises(RuntimeError):
        ex.train_circle(data, ARCH, epochs=1, lr=1e-2, batch_size=8, seeds=[0], device="nonsense")


def test_parse_betas():
    assert ex.parse_betas("1,4,10,30") == [1.0, 4.0, 10.0, 30.0]
