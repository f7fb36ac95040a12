import random
from fractions import Fraction

import numpy as np
import pytest

from linstruct.studies.nonlinear_advantage.path_graphs import (
    PathGraph,
    apl,
    brute_force_apl,
    chain_apl,
    chain_graph,
    enumerate_paths,
    exact_apl,
    figure1_graph,
    path_count,
    residual_apl,
    residual_graph,
)


def test_figure1_has_257_paths_with_the_captions_probabilities():
    graph = figure1_graph()
    assert path_count(graph) == 257
    paths = dict(enumerate_paths(graph))
    assert len(paths) == 257
    red = paths[("in", "add0", "out")]
    blue = [p for path, p in paths.items() if len(path) > 3]
    assert red == Fraction(1, 2)  # normalized: half the walk takes the skip
    assert set(blue) == {Fraction(1, 512)} and len(blue) == 256
    assert sum(paths.values()) == 1
    # unnormalized: every path, red or blue, is one of 257 equally likely paths
    assert 1 / path_count(graph) == pytest.approx(1 / 257)


def test_figure1_with_random_masks_matches_closed_forms():
    rng = random.Random(0)
    masks = [[float(rng.random() < 0.5) for _ in range(4)] for _ in range(4)]
    graph = figure1_graph(masks)
    total = sum(sum(m) / 4 for m in masks)
    assert apl(graph) == pytest.approx(total / 2)
    assert apl(graph, normalized=False) == pytest.approx(256 / 257 * total)
    assert brute_force_apl(graph) == pytest.approx(apl(graph))
    assert brute_force_apl(graph, normalized=False) == pytest.approx(apl(graph, normalized=False))


def test_chain_apl_is_the_sum_of_layer_shares_for_both_variants():
    masks = [[1, 0, 1], [0, 0, 0, 1], [1, 1]]
    shares = [2 / 3, 1 / 4, 1.0]
    graph = chain_graph(masks)
    assert apl(graph) == pytest.approx(sum(shares))
    assert apl(graph, normalized=False) == pytest.approx(sum(shares))
    assert chain_apl(shares) == pytest.approx(sum(shares))


def test_residual_stack_is_trunk_plus_half_the_branch_count():
    blocks, k, width = 3, 2, 3
    graph = residual_graph([[1] * width], [[[1] * width] * k] * blocks)
    assert apl(graph) == pytest.approx(1 + blocks * k / 2)
    assert residual_apl([1.0], [[1.0] * k] * blocks) == pytest.approx(1 + blocks * k / 2)
    # unnormalized: each branch weighted by P / (1 + P), P = product of branch widths
    expected = 1 + blocks * k * width**k / (1 + width**k)
    assert apl(graph, normalized=False) == pytest.approx(expected)
    assert residual_apl([1.0], [[1.0] * k] * blocks, [[width] * k] * blocks) == pytest.approx(expected)


def test_unnormalized_residual_tends_to_the_nominal_count_as_width_grows():
    wide = residual_apl([1.0], [[1.0, 1.0]] * 4, [[64, 64]] * 4)
    assert 1 + 8 - 1e-2 < wide < 1 + 8


def test_resnet56_post_and_pre_activation():
    post = residual_apl([1.0], [[1.0]] * 27) + 27  # a ReLU after each of the 27 adds sits on the trunk
    assert post == pytest.approx(41.5)
    assert residual_apl([], [[1.0, 1.0]] * 27) == pytest.approx(27)


def random_dag(rng: random.Random, nodes: int) -> PathGraph:
    graph = PathGraph()
    names = [graph.add("in")]
    for i in range(nodes):
        inputs = []
        for _ in range(rng.randint(1, 3)):
            inputs.append(rng.sample(names, rng.randint(1, min(3, len(names)))))
        names.append(graph.add(f"v{i}", rng.choice([0.0, 1.0, 0.5]), inputs))
    graph.add("out", 0.0, [[names[-1]], rng.sample(names, 1)])
    return graph


@pytest.mark.parametrize("seed", range(10))
def test_dynamic_programme_agrees_with_brute_force_on_random_graphs(seed):
    graph = random_dag(random.Random(seed), 7)
    assert path_count(graph) == len(list(enumerate_paths(graph)))
    assert sum(p for _, p in enumerate_paths(graph)) == 1
    for normalized in (True, False):
        assert apl(graph, normalized=normalized) == brute_force_apl(graph, normalized=normalized)  # both exact


def test_bad_graphs_are_refused_with_clear_errors():
    graph = PathGraph()
    graph.add("in")
    with pytest.raises(ValueError, match="must be added first"):
        graph.add("x", 1.0, [["nowhere"]])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        graph.add("y", 2.0, [["in"]])
    with pytest.raises(ValueError, match="already exists"):
        graph.add("in")
    with pytest.raises(ValueError, match="no node called"):
        apl(graph, "out")
    with pytest.raises(ValueError, match="finite"):
        graph.add("z", float("nan"), [["in"]])


def exact_mean_of_layers(masks):
    """Sum over layers of the exact mean weight: both APLs of a chain."""
    return sum((sum(map(Fraction, m)) / len(m) for m in masks), Fraction(0))


def test_tied_weights_give_the_exact_sum_of_layer_shares():
    # 1/3 as a float, tied across every unit: a float dynamic programme drifts by an ulp, ours does not
    masks = [[1 / 3] * 3] * 7
    graph = chain_graph(masks)
    expected = float(7 * Fraction(1 / 3))
    assert apl(graph) == expected and apl(graph, normalized=False) == expected
    assert chain_apl([0.1] * 10) == float(10 * Fraction(0.1)) == 1.0
    # tied layers of 0.1, 0.2, 0.3 (float sums would give 0.6000000000000001)
    assert apl(chain_graph([[0.1, 0.2, 0.3]] * 3)) == float(exact_mean_of_layers([[0.1, 0.2, 0.3]] * 3)) == 0.6


@pytest.mark.parametrize("scale", [1e-6, 1e-12])
def test_tiny_weights_beside_large_ones_stay_exact(scale):
    masks = [[1.0, scale, scale], [scale, 0.0, 1.0]] * 3
    graph = chain_graph(masks)
    expected = float(exact_mean_of_layers(masks))
    assert apl(graph) == expected and apl(graph, normalized=False) == expected
    assert brute_force_apl(graph) == expected
    assert chain_apl([sum(m) / len(m) for m in masks]) == pytest.approx(expected, rel=1e-15)


def test_scaling_every_weight_scales_the_apl_exactly():
    rng = random.Random(3)
    graph = random_dag(rng, 6)
    scaled = PathGraph()
    for v, w in graph.weight.items():
        scaled.add(v, w * Fraction(1, 10**6), graph.branches[v])
    for normalized in (True, False):
        assert exact_apl(scaled, normalized=normalized) == exact_apl(graph, normalized=normalized) / 10**6


def test_path_counts_beyond_float_range():
    graph = chain_graph([[1.0] * 10] * 320)  # 10**320 paths: more than a float can hold
    assert path_count(graph) == 10**320
    assert apl(graph, normalized=False) == 320.0 and apl(graph) == 320.0
    half = chain_graph([[1.0] * 5 + [0.0] * 5] * 320)
    assert apl(half, normalized=False) == 160.0
    wide = residual_apl([1.0], [[1.0] * 200] * 2, [[10] * 200] * 2)  # P = 10**200: P / (1 + P) rounds to 1
    assert wide == 1.0 + 400.0


def test_numpy_float32_and_float64_weights_are_taken_exactly():
    masks32 = [np.array([0.1, 0.7], dtype=np.float32)] * 2
    masks64 = [np.array([0.1, 0.7], dtype=np.float64)] * 2
    for masks in (masks32, masks64):
        assert apl(chain_graph(masks)) == float(exact_mean_of_layers([[float(x) for x in m] for m in masks]))
