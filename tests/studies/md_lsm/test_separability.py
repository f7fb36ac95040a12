"""MD-LSM (reconstructed): identities, invariances, exact values and error messages."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import linstruct.studies.md_lsm.separability as sep
from linstruct.data import load_dataset
from linstruct.nn.fit import fit
from linstruct.nn.mlp import MLP


def gaussians(seed=0, m=60, n=50, d=2, shift=1.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, d)), rng.normal(size=(n, d)) + shift


def test_separable_sets_score_exactly_one_and_are_certified():
    a, b = gaussians(shift=8.0, d=5)
    result = sep.pair_separability(a, b)
    assert result.rho_p == 1.0 and result.rho_r == 1.0 and result.certified
    assert (a @ result.direction).min() > (b @ result.direction).max()


def test_lp_certificate_iff_rho_one():
    for seed in range(6):
        a, b = gaussians(seed, m=15, n=15, d=6, shift=1.5)
        result = sep.pair_separability(a, b)
        assert (result.rho_p == 1.0) == sep.is_separable(a, b)


def test_cover_few_generic_points_with_any_labels_are_separable():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(9, 8))  # N = d + 1
    labels = rng.permutation([0] * 5 + [1] * 4)
    assert sep.is_separable(points[labels == 0], points[labels == 1])
    assert sep.layer_separability(points, labels).mean == 1.0


def test_identical_distributions_approach_one_half():
    rng = np.random.default_rng(2)
    small = sep.pair_separability(rng.normal(size=(40, 10)), rng.normal(size=(40, 10))).rho_p
    a, b = rng.normal(size=(3000, 10)), rng.normal(size=(3000, 10))
    large = sep.pair_separability(a, b).rho_p
    assert 0.5 <= large < 0.53 < small  # in-sample optimism shrinks with the sample
    assert abs(sep.heldout_pair_fraction(a, b, repeats=3) - 0.5) < 0.02


def test_range_without_ties_and_product_below_pair_count():
    for seed in range(5):
        a, b = gaussians(seed, d=4, shift=0.3)
        result = sep.pair_separability(a, b)
        assert 0.5 <= result.rho_p <= 1 and result.ties == 0
        assert result.rho_r <= result.rho_p
        assert result.normalised == pytest.approx(2 * result.rho_p - 1)


@pytest.mark.parametrize("transform", ["translate", "scale", "permute", "rotate", "swap"])
def test_estimate_is_invariant(transform):
    rng = np.random.default_rng(3)
    a, b = gaussians(3, d=6, shift=0.5)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    changed = {
        "translate": lambda x: x + rng.normal(size=6) * 0 + 7.5,
        "scale": lambda x: 3.0 * x,
        "permute": lambda x: x[:, [3, 1, 5, 0, 2, 4]],
        "rotate": lambda x: x @ q,
    }
    before = sep.pair_separability(a, b).rho_p
    if transform == "swap":
        after = sep.pair_separability(b, a).rho_p
    else:
        after = sep.pair_separability(changed[transform](a), changed[transform](b)).rho_p
    assert after == pytest.approx(before, abs=1e-12)


def test_general_linear_maps_exact_measure_invariant_estimate_nearly():
    rng = np.random.default_rng(4)
    a, b = gaussians(4, m=25, n=25, d=2, shift=0.8)
    t = np.array([[3.0, 1.0], [0.2, 0.5]])
    assert sep.exact_rho_p_2d(a @ t.T, b @ t.T) == pytest.approx(sep.exact_rho_p_2d(a, b), abs=1e-12)
    a_6d, b_6d = gaussians(5, d=6, shift=0.5)
    t_6d = rng.normal(size=(6, 6)) + 3 * np.eye(6)
    before, after = sep.pair_separability(a_6d, b_6d).rho_p, sep.pair_separability(a_6d @ t_6d, b_6d @ t_6d).rho_p
    assert after == pytest.approx(before, abs=5e-3)  # the ridge breaks exact invariance


def test_auc_identity_and_naive_minkowski_count():
    a, b = gaussians(6, d=3, shift=0.4)
    w = np.array([0.3, -1.0, 0.7])
    fraction = sep.projection_fraction(w, a, b)
    scores = np.concatenate([a @ w, b @ w])
    assert fraction == pytest.approx(roc_auc_score(np.r_[np.ones(len(a)), np.zeros(len(b))], scores), abs=1e-12)
    assert fraction == pytest.approx(np.mean(sep.minkowski_difference(a, b) @ w > 0), abs=1e-12)
    # with ties (integer points) strict counting still matches the naive difference
    ia, ib, iw = np.round(a * 2), np.round(b * 2), np.array([1.0, -2.0, 1.0])
    greater, equal, less = sep.order_counts(ia @ iw, ib @ iw)
    diffs = sep.minkowski_difference(ia, ib) @ iw
    assert equal > 0
    assert (greater, equal, less) == ((diffs > 0).sum(), (diffs == 0).sum(), (diffs < 0).sum())


def test_exact_2d_sweep_agrees_with_exhaustive_directions_and_milp():
    for seed in range(3):
        a, b = gaussians(seed, m=7, n=6, shift=0.7)
        exact = sep.exact_rho_p_2d(a, b)
        angles = np.linspace(0, 2 * np.pi, 100_001)
        grid = max(sep.projection_fraction(np.array([np.cos(t), np.sin(t)]), a, b) for t in angles[::50])
        assert grid <= exact + 1e-12
        dense = max(np.mean(sep.minkowski_difference(a, b) @ np.stack([np.cos(angles), np.sin(angles)]) > 0, axis=0))
        assert dense == pytest.approx(exact, abs=1e-12)
        milp, optimal = sep.exact_rho_p_milp(a, b, time_limit=30)
        assert optimal and milp == pytest.approx(exact, abs=1e-12)
        assert sep.pair_separability(a, b).rho_p <= exact + 1e-12


def test_estimator_close_to_exact_on_larger_2d_sets():
    a, b = gaussians(7, m=100, n=100, shift=np.array([1.0, 0.6]))
    exact, estimate = sep.exact_rho_p_2d(a, b), sep.pair_separability(a, b).rho_p
    assert estimate <= exact + 1e-12 and exact - estimate < 0.01


def test_one_outlier_moves_the_exact_measure_by_at_most_one_over_m():
    a, b = gaussians(8, m=30, n=40, shift=1.5)
    before = sep.exact_rho_p_2d(a, b)
    moved = a.copy()
    moved[0] = [40.0, 40.0]
    assert abs(sep.exact_rho_p_2d(moved, b) - before) <= 1 / min(len(a), len(b)) + 1e-12


def test_threshold_bounds_s1_s2():
    for seed in range(5):
        a, b = gaussians(seed, d=3, shift=0.6)
        w = sep.pair_separability(a, b).direction
        sa, sb = a @ w, b @ w
        rho_r, ba = sep.product_score(sa, sb), sep.balanced_accuracy(sa, sb)
        auc = sep.projection_fraction(w, a, b)
        assert np.sqrt(rho_r) <= ba + 1e-12 and ba <= (1 + rho_r) / 2 + 1e-12  # S1
        assert ba >= 1 - np.sqrt((1 - auc) / 2) - 1e-12  # S2


def test_readout_candidate_bounds_rho_r_by_class_accuracies():
    data = load_dataset("digits").subset(500, 100)
    model = MLP.from_seeds([0], 64, 16, 2, 10, "tanh")
    fit(model, data, epochs=3, lr=3e-3, batch_size=64, measure=False, progress=False)
    with torch.no_grad():
        h = model.hidden_states(data.x_train)[-1][0]
        predicted = model(data.x_train)[0].argmax(1).numpy()
    labels = data.y_train.numpy()
    accuracy = np.array([np.mean(predicted[labels == k] == k) for k in range(10)])
    layer = sep.layer_separability(h, labels, readout=model.head.weight[0].detach().double().numpy())
    for (i, j), rho_r in zip(layer.pairs, layer.rho_r):
        assert rho_r >= accuracy[i] * accuracy[j] - 1e-12  # S3


def test_layer_result_aggregates_and_matrix():
    rng = np.random.default_rng(9)
    x, y = rng.normal(size=(90, 4)), np.repeat([0, 1, 2], 30)
    x[y == 2] += 6
    layer = sep.layer_separability(x, y)
    assert layer.pairs == ((0, 1), (0, 2), (1, 2))
    assert layer.mean == pytest.approx(layer.rho_p.mean()) and layer.minimum == layer.rho_p.min()
    matrix = layer.matrix(3)
    assert matrix[0, 2] == matrix[2, 0] == 1.0 and np.isnan(matrix[1, 1])
    assert sep.certified_fraction(x, y) == pytest.approx(2 / 3)


def test_shuffled_labels_keep_class_sizes():
    y = np.repeat([0, 1, 2], [5, 7, 9])
    shuffled = sep.shuffled_labels(y, seed=3)
    assert sorted(shuffled) == sorted(y) and not np.array_equal(shuffled, y)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: sep.pair_separability(np.zeros((3, 2)), np.zeros((3, 3))), "same dimension"),
        (lambda: sep.pair_separability(np.zeros((0, 2)), np.zeros((3, 2))), "at least one point"),
        (lambda: sep.exact_rho_p_2d(np.zeros((3, 3)), np.ones((3, 3))), "needs 2-D points"),
        (lambda: sep.layer_separability(np.zeros((4, 2)), np.zeros(4)), "at least two classes"),
        (lambda: sep.layer_separability(np.zeros((4, 2)), np.zeros(3)), "labels"),
        (lambda: sep.certified_fraction(np.zeros((4, 2)), np.zeros(4)), "at least two classes"),
        (lambda: sep.heldout_pair_fraction(np.zeros((3, 2)), np.zeros((9, 2))), "at least 4 points"),
        (lambda: sep.heldout_pair_fraction(np.zeros((5, 2)), np.ones((5, 2)), repeats=0), "repeats"),
        (lambda: sep.pair_separability(np.zeros((3, 2)), np.ones((3, 2)), lda=False), "candidate"),
    ],
)
def test_errors_say_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- units, precision and ties -------------------------------------------------------------------

SCALES = [1e6, 1e-6, 1e-9]


@pytest.mark.parametrize("scale", SCALES)
def test_badly_scaled_inputs_give_the_same_separability(scale):
    rng = np.random.default_rng(10)
    a, b = gaussians(10, m=40, n=40, d=5, shift=0.7)
    x, y = rng.normal(size=(90, 6)), np.repeat([0, 1, 2], 30)
    x[y == 2] += 1.0
    pair, scaled = sep.pair_separability(a, b), sep.pair_separability(a * scale, b * scale)
    assert (scaled.rho_p, scaled.rho_r, scaled.ties) == (pair.rho_p, pair.rho_r, pair.ties)
    np.testing.assert_allclose(scaled.direction * scale, pair.direction, rtol=1e-6)  # w scales by 1 / s
    assert sep.layer_separability(x * scale, y).mean == sep.layer_separability(x, y).mean
    assert sep.heldout_pair_fraction(a * scale, b * scale, 0, 3) == sep.heldout_pair_fraction(a, b, 0, 3)
    assert sep.heldout_layer_separability(x * scale, y, 0, 2) == sep.heldout_layer_separability(x, y, 0, 2)
    small_a, small_b = a[:6], b[:6]  # 12 points in 5-D: separable (Cover)
    assert sep.is_separable(small_a * scale, small_b * scale) and sep.is_separable(small_a, small_b)
    assert not sep.is_separable(a * scale, b * scale) and not sep.is_separable(a, b)
    mixed = np.arange(21) % 3  # three interleaved classes of 7 points in 6-D
    assert sep.certified_fraction(x[:21] * scale, mixed) == sep.certified_fraction(x[:21], mixed)
    a_2d, b_2d = a[:15, :2], b[:15, :2]
    assert sep.exact_rho_p_2d(a_2d * scale, b_2d * scale) == sep.exact_rho_p_2d(a_2d, b_2d)
    milp, optimal = sep.exact_rho_p_milp(a[:6, :2] * scale, b[:6, :2] * scale, time_limit=30)
    assert optimal and milp == sep.exact_rho_p_milp(a[:6, :2], b[:6, :2], time_limit=30)[0]


def test_lp_keeps_a_coordinate_with_tiny_spread():
    """Only exactly constant coordinates are dropped: a separating coordinate 1e-13 wide still counts."""
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    a[:, 2], b[:, 2] = 1e-13, -1e-13  # the only separating coordinate, far below the others' spread
    assert sep.is_separable(a, b)
    a[:, 2] = b[:, 2] = 5.0  # exactly constant: dropped, and then not separable
    assert not sep.is_separable(a, b)


def test_float32_and_float64_inputs_measure_the_same():
    a, b = gaussians(12, d=4, shift=0.5)
    a_single, b_single = torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)
    a_double, b_double = a_single.double().numpy(), b_single.double().numpy()
    assert sep.as_array(a_single).dtype == np.float64
    assert sep.pair_separability(a_single, b_single).rho_p == sep.pair_separability(a_double, b_double).rho_p
    labels = np.repeat([0, 1], [len(a), len(b)])
    both_single = torch.cat([a_single, b_single])
    assert sep.layer_separability(both_single, labels).mean == sep.layer_separability(both_single.double(), labels).mean
    assert sep.is_separable(a_single + 9, b_single) == sep.is_separable(a_double + 9, b_double) is True


def test_duplicate_points_are_counted_exactly():
    a, b = gaussians(13, m=10, n=10, d=2, shift=3.0)
    doubled_a = np.concatenate([a, a])  # duplicates inside one set change nothing but the weights
    assert sep.exact_rho_p_2d(doubled_a, b) == sep.exact_rho_p_2d(a, b)
    assert sep.pair_separability(doubled_a, b).rho_p == sep.pair_separability(a, b).rho_p
    shared = np.concatenate([b, a[:2]])  # two points of A also in B: never separable, those pairs tie
    result = sep.pair_separability(a, shared)
    assert not sep.is_separable(a, shared) and not result.certified
    assert result.ties >= 2 / (len(a) * len(shared))  # each shared point ties with itself
    diffs = sep.minkowski_difference(a, shared) @ result.direction
    assert result.rho_p == (diffs > 0).mean() and result.ties == (diffs == 0).mean()
    assert result.rho_p <= sep.exact_rho_p_2d(a, shared) <= 1 - 2 / (len(a) * len(shared))


def test_all_points_equal_scores_zero_with_full_ties():
    same = np.ones((5, 3))
    result = sep.pair_separability(same, same)
    assert (result.rho_p, result.ties, result.certified) == (0.0, 1.0, False)
    assert not sep.is_separable(same, same)
    assert sep.exact_rho_p_2d(same[:, :2], same[:, :2]) == 0.0
    assert sep.exact_rho_p_milp(same[:, :2], same[:, :2]) == (0.0, True)
    apart = sep.pair_separability(same, same + [1.0, 0.0, 0.0])  # no spread: the mean difference separates
    assert apart.rho_p == 1.0 and apart.certified


def test_direction_counts_match_brute_force_with_ties_and_padding():
    """Counts and the best product equal an all-pairs count on tied scores, one row or many rows of
    different sizes padded into one batch."""
    rng = np.random.default_rng(3)
    scores = [
        (rng.integers(0, 4, (2, m)).astype(float), rng.integers(0, 4, (2, n)).astype(float))
        for m, n in ((5, 7), (9, 3))
    ]
    batched = sep._counts_of_pairs(scores)
    for (sa, sb), found in zip(scores, batched):
        for row in range(2):
            a, b = sa[row], sb[row]
            diff = a[:, None] - b[None, :]
            expected = ((diff > 0).sum(), (diff == 0).sum(), (diff < 0).sum())
            assert sep.order_counts(a, b) == expected
            assert tuple(int(v[row]) for v in found[:3]) == expected
            thresholds = np.concatenate([[-np.inf], a, b])
            best = max(max((a > t).mean() * (b <= t).mean(), (a <= t).mean() * (b > t).mean()) for t in thresholds)
            assert found[3][row] == pytest.approx(best) and sep.product_score(a, b) == pytest.approx(best)
