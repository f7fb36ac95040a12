import random
from fractions import Fraction

import pytest

from linstruct.studies.nonlinear_advantage.path_graphs import (PathGraph, apl, brute_force_apl, chain_apl, chain_graph, enumerate_paths,
                             figure1_graph, path_count, residual_apl, residual_graph)


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
        assert apl(graph, normalized=normalized) == pytest.approx(brute_force_apl(graph, normalized=normalized))


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
