"""Gating hyperplanes: composed weights equal layer products; clustering measures' known values."""

import math

import numpy as np
import pytest
import torch

from linstruct.studies.half_space.gated import GatedNet
from linstruct.studies.half_space.hyperplanes import (
    angle_entropy,
    cluster_count,
    clustering_table,
    effective_hyperplanes,
    line_distances,
    modal_bin_share,
    normal_angles,
    share_near,
)


@pytest.mark.parametrize("family", ["dlgn", "dlgn-sf"])
def test_composed_gating_weights_reproduce_preactivations(family):
    model = GatedNet(family, 2, 4, 4, seeds=(0, 1), dtype=torch.float64)
    x = torch.randn(20, 2, dtype=torch.float64)
    for index in (0, 1):
        for (v, b), eta in zip(effective_hyperplanes(model, index), model.preactivations(x)):
            assert torch.allclose(x @ v.T + b, eta[index], atol=1e-12)


def test_composed_weights_are_layer_products():
    model = GatedNet("dlgn", 2, 4, 3, bias=False, dtype=torch.float64)
    w = [p[0] for p in model.gating_weights]
    v, b = effective_hyperplanes(model)[2]
    assert torch.allclose(v, w[2] @ w[1] @ w[0]) and torch.equal(b, torch.zeros(4, dtype=torch.float64))


def test_angle_measures_known_values():
    same = np.full(10, 1.0)
    spread = (np.arange(18) + 0.5) * np.pi / 18
    assert angle_entropy(same) == 0.0 and modal_bin_share(same) == 1.0
    assert angle_entropy(spread) == pytest.approx(math.log(18))
    v = torch.tensor([[0.0, 1.0], [0.0, -1.0], [1.0, 0.0], [1.0, 1.0]])
    angles = normal_angles(v)
    assert np.allclose(angles, [np.pi / 2, np.pi / 2, 0.0, np.pi / 4])
    assert share_near(angles) == 0.5
    assert share_near(np.array([np.pi - 0.01]), centre=0.0) == 1.0
    with pytest.raises(ValueError, match="2-D"):
        normal_angles(torch.ones(3, 3))


def test_line_distance_ignores_orientation_and_clusters_count():
    v = torch.tensor([[0.0, 1.0], [0.0, -1.0], [1.0, 0.0], [1.0, 0.01]])
    b = torch.tensor([0.5, -0.5, 0.0, 0.0])
    d = line_distances(v, b)
    assert d[0, 1] == pytest.approx(0.0) and d[0, 2] > 1.0
    assert cluster_count(v, b) == 2


def test_clustering_table_has_one_row_per_layer():
    rows = clustering_table(GatedNet("dlgn", 2, 8, 3))
    assert [r["layer"] for r in rows] == [1, 2, 3] and all(0 <= r["entropy"] <= math.log(18) for r in rows)
    with pytest.raises(ValueError, match="linear gating"):
        effective_hyperplanes(GatedNet("relu", 2, 4, 2))


def test_hyperplanes_of_a_float32_model_are_float64_and_match_its_preactivations():
    model = GatedNet("dlgn", 2, 4, 3, seeds=(0,))
    x = torch.randn(20, 2)
    for (v, b), eta in zip(effective_hyperplanes(model), model.preactivations(x)):
        assert v.dtype == b.dtype == torch.float64 and v.device == x.device
        assert torch.allclose(x.double() @ v.T + b, eta[0].double(), atol=1e-5)


@pytest.mark.parametrize("family", ["dlgn", "dlgn-sf"])
def test_measures_of_a_float64_model_need_no_detaching(family):
    model = GatedNet(family, 2, 6, 3, dtype=torch.float64)
    assert not any(t.requires_grad for plane in effective_hyperplanes(model) for t in plane)
    assert len(clustering_table(model)) == 3
