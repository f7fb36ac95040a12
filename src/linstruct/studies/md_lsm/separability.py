"""Minkowski-difference linear separability measures (MD-LSM, reconstructed).

For two finite point sets A (m, d) and B (n, d), the Minkowski difference
A ⊖ B = {a_i - b_j} holds m n vectors. A and B are strictly linearly separable
exactly when some w has <w, c> > 0 for every c in A ⊖ B: the bias disappears.
The measures (our reconstruction of Zhang et al., arXiv 2307.13962; the paper's
own definitions were not available) are

* ``rho_P`` = max_w (1 / mn) #{(i, j): <w, a_i - b_j> > 0}, the largest fraction of
  A ⊖ B in an open half-space through the origin. For a fixed w this fraction is the
  AUC (Mann-Whitney U / mn) of the projections, so rho_P is the best linear-projection
  AUC; it lies in [(1 - ties) / 2, 1] and equals 1 iff A and B are separable;
* ``rho_R`` = max_{w, t} TPR * TNR, the largest separable product subset |A'||B'| / mn;
* the normalised form 2 rho_P - 1 in [0, 1].

The maximisation is NP-hard (densest open hemisphere), so :func:`pair_separability`
takes the best of a few candidate directions (ridge Fisher LDA, the network's readout
difference, the previous checkpoint's direction), each counted *exactly* by sorting
(the mn differences are never formed), which gives a lower bound; a linear programme
then certifies rho = 1 exactly. Exact maxima are computed only for checks: a 2-D angular
sweep (:func:`exact_rho_p_2d`) and a small mixed-integer programme (:func:`exact_rho_p_milp`).

All arrays are float64 NumPy arrays (torch tensors are converted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy import optimize

RIDGE = 1e-3  # LDA ridge, as a fraction of the mean eigenvalue of S_i + S_j
CERTIFY_ABOVE = 0.999  # run the LP when the best candidate reaches this fraction


def as_array(points) -> np.ndarray:
    """A float64 (n, d) array from a NumPy array or torch tensor of shape (n, ...)."""
    if hasattr(points, "detach"):
        points = points.detach().cpu().double().numpy()
    points = np.asarray(points, dtype=np.float64)
    return points.reshape(points.shape[0], int(np.prod(points.shape[1:])))


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"both point sets need at least one point, got {len(a)} and {len(b)}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"point sets must have the same dimension, got {a.shape[1]} and {b.shape[1]}")


# --- counting along one direction -------------------------------------------------------------


def direction_counts(a_scores, b_scores) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact pair counts and the best threshold product along D directions at once.

    ``a_scores`` ``(D, m)`` and ``b_scores`` ``(D, n)`` (1-D for one direction): the projections of A
    and B on each direction. Returns, each ``(D,)``: #{a_i > b_j}, #{a_i = b_j}, #{a_i < b_j} over
    the m n pairs, and max over thresholds t (-inf and every score) and both orientations of
    TPR * TNR (rho_R along the direction).
    """
    return _counts_of_pairs([(np.atleast_2d(a_scores), np.atleast_2d(b_scores))])[0]


def _counts_of_pairs(scores: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, ...]]:
    """:func:`direction_counts` of every pair's ``(a_scores (D, m), b_scores (D, n))`` (D equal for
    every pair; m and n may differ), all in one call: rows padded with +inf to one length."""
    rows = len(scores[0][0])
    width = max(sa.shape[1] + sb.shape[1] for sa, sb in scores)
    padded = np.full((len(scores) * rows, width), np.inf)
    is_a = np.zeros(padded.shape, dtype=bool)
    valid = np.zeros(padded.shape, dtype=bool)
    m = np.repeat([sa.shape[1] for sa, _ in scores], rows)
    n = np.repeat([sb.shape[1] for _, sb in scores], rows)
    for p, (sa, sb) in enumerate(scores):
        block = slice(p * rows, (p + 1) * rows)
        size_a, size = sa.shape[1], sa.shape[1] + sb.shape[1]
        padded[block, :size_a], padded[block, size_a:size] = sa, sb
        is_a[block, :size_a] = True
        valid[block, :size] = True
    found = _sorted_counts(padded, is_a, valid, m, n)
    return [tuple(values[p * rows : (p + 1) * rows] for values in found) for p in range(len(scores))]


def _sorted_counts(scores, is_a, valid, m, n) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`direction_counts` of rows that each hold one direction's scores of A and B together.

    ``scores``, ``is_a`` (A or B) and ``valid`` (False on padding, which holds +inf) are
    ``(G, N)``; ``m``, ``n`` ``(G,)`` the real sizes of A and B per row. One sort per row; equal
    scores form one tie group, so ties count exactly, and only real scores are counted (padding
    never changes a count or a rate).
    """
    positions = np.arange(scores.shape[1])
    order = np.argsort(scores, axis=1)
    values = np.take_along_axis(scores, order, axis=1)
    from_a = np.take_along_axis(is_a & valid, order, axis=1)
    from_b = np.take_along_axis(~is_a & valid, order, axis=1)
    a_through = np.cumsum(from_a, axis=1)  # real points of A at or before each sorted position
    b_through = np.cumsum(from_b, axis=1)
    last = np.ones_like(from_a)  # the last position of its tie group
    last[:, :-1] = values[:, 1:] != values[:, :-1]
    first = np.ones_like(from_a)
    first[:, 1:] = last[:, :-1]
    group_end = np.minimum.accumulate(np.where(last, positions, len(positions))[:, ::-1], axis=1)[:, ::-1]
    before_group = np.maximum.accumulate(np.where(first, positions - 1, -1), axis=1)
    b_at_most = np.take_along_axis(b_through, group_end, axis=1)  # B's scores <= this score
    b_below = np.where(before_group >= 0, np.take_along_axis(b_through, np.maximum(before_group, 0), axis=1), 0)
    greater = np.where(from_a, b_below, 0).sum(axis=1)
    less = np.where(from_a, n[:, None] - b_at_most, 0).sum(axis=1)
    equal = m * n - greater - less
    a_rate, b_rate = a_through / m[:, None], b_through / n[:, None]  # shares at most the score
    products = np.maximum((1 - a_rate) * b_rate, a_rate * (1 - b_rate))
    best = np.where(last, products, 0.0).max(axis=1)  # at group ends; t = -inf gives 0 in both orientations
    return greater, equal, less, best


def order_counts(a_scores: np.ndarray, b_scores: np.ndarray) -> tuple[int, int, int]:
    """(#{a_i > b_j}, #{a_i = b_j}, #{a_i < b_j}) over all m n pairs of 1-D scores."""
    greater, equal, less, _ = direction_counts(a_scores, b_scores)
    return int(greater[0]), int(equal[0]), int(less[0])


def projection_fraction(w: np.ndarray, a, b) -> float:
    """(1 / mn) #{(i, j): <w, a_i - b_j> > 0}: the AUC of the projections, ties counting 0."""
    a, b = as_array(a), as_array(b)
    greater, _, _ = order_counts(a @ w, b @ w)
    return greater / (len(a) * len(b))


def minkowski_difference(a, b) -> np.ndarray:
    """All m n differences a_i - b_j as an (m n, d) array (the naive construction)."""
    a, b = as_array(a), as_array(b)
    return (a[:, None, :] - b[None, :, :]).reshape(-1, a.shape[1])


def threshold_rates(a_scores: np.ndarray, b_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True-positive and true-negative rates of every rule "A if score > t", t over -inf and the data.

    Both orientations are included (the second as "A if score <= t"): arrays (2 T,).
    """
    sorted_a, sorted_b = np.sort(a_scores), np.sort(b_scores)
    t = np.concatenate([[-np.inf], np.unique(np.concatenate([a_scores, b_scores]))])
    a_at_most = np.searchsorted(sorted_a, t, side="right") / len(a_scores)
    b_at_most = np.searchsorted(sorted_b, t, side="right") / len(b_scores)
    tpr = np.concatenate([1 - a_at_most, a_at_most])
    tnr = np.concatenate([b_at_most, 1 - b_at_most])
    return tpr, tnr


def product_score(a_scores: np.ndarray, b_scores: np.ndarray) -> float:
    """max over thresholds and orientations of TPR * TNR: rho_R along one direction."""
    return float(direction_counts(a_scores, b_scores)[3][0])


def balanced_accuracy(a_scores: np.ndarray, b_scores: np.ndarray) -> float:
    """Best balanced accuracy (TPR + TNR) / 2 of a threshold on the scores."""
    tpr, tnr = threshold_rates(a_scores, b_scores)
    return float(np.max(tpr + tnr) / 2)


# --- candidate directions and the pair measure ------------------------------------------------


def class_statistics(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of (n, d) points (divided by n)."""
    mean = points.mean(axis=0)
    centred = points - mean
    return mean, centred.T @ centred / len(points)


def lda_direction(mean_a, cov_a, mean_b, cov_b, ridge: float = RIDGE) -> np.ndarray:
    """Ridge Fisher direction (S_a + S_b + lambda I)^-1 (mu_a - mu_b), lambda = ridge tr(S) / d.

    lambda scales with the data, so scaling every point by s scales the direction by 1 / s and
    leaves every projection's order unchanged; with no spread at all (tr S = 0) it is the mean
    difference itself.
    """
    return lda_directions(np.stack([mean_a, mean_b]), np.stack([cov_a, cov_b]), [(0, 1)], ridge)[0]


def lda_directions(means: np.ndarray, covs: np.ndarray, pairs: Sequence[tuple[int, int]], ridge: float = RIDGE):
    """:func:`lda_direction` of every pair (i, j) of classes at once: means ``(K, d)``, covariances
    ``(K, d, d)`` -> directions ``(P, d)``, one batched solve."""
    first, second = (np.array(side, dtype=int) for side in zip(*pairs))
    scatter = covs[first] + covs[second]
    difference = means[first] - means[second]
    d = means.shape[1]
    trace = np.array([float(np.trace(s)) for s in scatter])
    spread = trace > 0
    out = difference.copy()
    if spread.any():
        ridged = scatter[spread] + (ridge * trace[spread] / d)[:, None, None] * np.eye(d)
        out[spread] = np.linalg.solve(ridged, difference[spread][..., None])[..., 0]
    return out


@dataclass(frozen=True)
class PairResult:
    """The separability of one pair (A, B) along the best candidate direction.

    ``direction`` is oriented so that A projects above B; ``certified`` is True when
    the linear programme proved A and B separable (then ``rho_p = rho_r = 1``).
    """

    rho_p: float
    rho_r: float
    ties: float  # fraction of the m n pairs with equal projections on ``direction``
    direction: np.ndarray
    certified: bool = False

    @property
    def normalised(self) -> float:
        """2 rho_P - 1, in [0, 1] when there are no ties."""
        return 2 * self.rho_p - 1


def pair_separability(
    a, b, candidates: Sequence[np.ndarray] = (), *, lda: bool = True, certify: bool = True
) -> PairResult:
    """rho_P, rho_R and ties of (A, B): the best of the candidate directions, both orientations.

    ``candidates``: extra directions (d,) besides the ridge LDA direction. The result is a
    lower bound on the exact measures. With ``certify`` the LP is always run, so the
    result is 1 exactly when A and B are separable.
    """
    a, b = as_array(a), as_array(b)
    _check_pair(a, b)
    directions = list(candidates)
    if lda:
        directions.append(lda_direction(*class_statistics(a), *class_statistics(b)))
    if not directions:
        raise ValueError("pair_separability needs lda=True or at least one candidate direction")
    return _best_of(a, b, directions, 0.0 if certify else None)


def _best_of(
    a: np.ndarray, b: np.ndarray, directions: Sequence[np.ndarray], certify_above: float | None, counts=None
) -> PairResult:
    """The best direction (the first of the largest count, either orientation); the LP is run when
    its fraction reaches ``certify_above``. ``counts``: :func:`direction_counts` of the projections
    of ``a`` and ``b`` on ``directions``, when already computed."""
    directions = np.asarray(directions)
    if counts is None:
        counts = direction_counts(projections(a, directions), projections(b, directions))
    greater, equal, less, products = counts
    best = int(np.argmax(np.maximum(greater, less)))
    w = directions[best] if greater[best] >= less[best] else -directions[best]
    total = len(a) * len(b)
    rho_p = int(max(greater[best], less[best])) / total
    if certify_above is not None and certify_above <= rho_p < 1:
        separator = separating_direction(a, b)
        if separator is not None:
            return PairResult(1.0, 1.0, 0.0, separator, certified=True)
    return PairResult(rho_p, float(products.max()), int(equal[best]) / total, w, certified=rho_p == 1.0)


def projections(points: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """``points`` (n, d) projected on each of ``directions`` (D, d): ``(D, n)``."""
    return directions @ points.T


def separating_direction(a, b) -> np.ndarray | None:
    """A w with min_A <w, a> > max_B <w, b>, or None if none exists (exact).

    LP feasibility of <w, a_i> - t >= 1, <w, b_j> - t <= -1 over (w, t), solved on
    standardised coordinates (exactly constant ones dropped: separability is unchanged) with
    HiGHS dual simplex, then interior point if the first does not conclude. Standardising
    makes the answer independent of the data's units (points scaled by 1e6 or 1e-6).
    """
    a, b = as_array(a), as_array(b)
    _check_pair(a, b)
    both = np.concatenate([a, b])
    kept = np.ptp(both, axis=0) > 0
    centre, scale = both.mean(axis=0), both.std(axis=0)
    za, zb = (a - centre)[:, kept] / scale[kept], (b - centre)[:, kept] / scale[kept]
    d = int(kept.sum())
    lhs = np.block([[-za, np.ones((len(a), 1))], [zb, -np.ones((len(b), 1))]])
    for method in ("highs-ds", "highs-ipm"):
        result = optimize.linprog(
            np.zeros(d + 1), A_ub=lhs, b_ub=-np.ones(len(a) + len(b)), bounds=[(None, None)] * (d + 1), method=method
        )
        if result.status == 2:  # infeasible
            return None
        if result.status == 0:
            w = np.zeros(a.shape[1])
            w[kept] = result.x[:d] / scale[kept]
            if (a @ w).min() > (b @ w).max():
                return w
    raise RuntimeError(f"separability LP did not conclude: {result.message}")


def is_separable(a, b) -> bool:
    """Exact: whether A and B are strictly linearly separable (conv(A) and conv(B) disjoint)."""
    return separating_direction(a, b) is not None


# --- exact maxima for checks -------------------------------------------------------------------


def exact_rho_p_2d(a, b) -> float:
    """Exact rho_P of two 2-D sets by an angular sweep over the critical directions.

    The count of <w, c> > 0 is constant on the open arcs between directions orthogonal
    to some difference c and no larger on their ends, so its maximum is attained at an
    arc midpoint. Cost O(mn) directions, each counted exactly.
    """
    a, b = as_array(a), as_array(b)
    _check_pair(a, b)
    if a.shape[1] != 2:
        raise ValueError(f"exact_rho_p_2d needs 2-D points, got dimension {a.shape[1]}")
    diffs = minkowski_difference(a, b)
    diffs = diffs[np.any(diffs != 0, axis=1)]
    if len(diffs) == 0:
        return 0.0
    normal = np.arctan2(diffs[:, 1], diffs[:, 0])
    critical = np.unique(np.mod(np.concatenate([normal + np.pi / 2, normal - np.pi / 2]), 2 * np.pi))
    gaps = np.diff(np.concatenate([critical, [critical[0] + 2 * np.pi]]))
    mids = critical + gaps / 2
    directions = np.stack([np.cos(mids), np.sin(mids)])  # (2, T)
    return max(_fractions_along(a, b, chunk) for chunk in np.array_split(directions, 1 + len(mids) // 2000, axis=1))


def _fractions_along(a: np.ndarray, b: np.ndarray, directions: np.ndarray) -> float:
    """max over the columns w of ``directions`` (d, T) of the fraction of pairs with <w, a - b> > 0."""
    from scipy.stats import rankdata

    pa, pb = a @ directions, b @ directions  # (m, T), (n, T)
    rank_all = rankdata(np.concatenate([pa, pb]), method="min", axis=0)[: len(a)]
    rank_own = rankdata(pa, method="min", axis=0)
    greater = (rank_all - rank_own).sum(axis=0)  # per column: #{(i, j): a_i > b_j}
    return float(greater.max() / (len(a) * len(b)))


def exact_rho_p_milp(a, b, time_limit: float = 60.0, margin: float = 1e-3) -> tuple[float, bool]:
    """rho_P by a mixed-integer programme (tiny sets only): (value, proved optimal).

    max sum z_ij  s.t.  <w, c_ij> >= eps - M_ij (1 - z_ij), ||w||_inf <= 1, z binary,
    M_ij = eps + ||c_ij||_1, eps = ``margin`` * max ||c||_1 (well above the solver's
    integrality tolerance). A difference counts only with that margin, so the value (the
    exact count along the solver's w) is a lower bound on rho_P, equal to it for small margins.
    The differences are divided by their largest 1-norm first (the signs, hence rho_P, are
    unchanged), so the solver's absolute tolerances mean the same at any scale of the data.
    """
    diffs = minkowski_difference(a, b)
    n, d = diffs.shape
    norms = np.abs(diffs).sum(axis=1)
    if norms.max() == 0:
        return 0.0, True  # all points equal: no difference is positive along any w
    diffs, norms = diffs / norms.max(), norms / norms.max()
    margin = margin * norms.max()
    big = margin + norms
    # <w, c> - M z >= margin - M
    constraint = optimize.LinearConstraint(np.hstack([diffs, -np.diag(big)]), lb=margin - big, ub=np.inf)
    cost = np.concatenate([np.zeros(d), -np.ones(n)])
    bounds = optimize.Bounds(np.concatenate([-np.ones(d), np.zeros(n)]), np.ones(d + n))
    integrality = np.concatenate([np.zeros(d), np.ones(n)])
    result = optimize.milp(
        cost, constraints=constraint, bounds=bounds, integrality=integrality, options={"time_limit": time_limit}
    )
    if result.x is None:
        return 0.0, False
    w = result.x[:d]
    return projection_fraction(w, a, b) if np.any(w) else 0.0, result.status == 0


# --- a whole layer: one-vs-one over class pairs -------------------------------------------------


@dataclass(frozen=True)
class LayerResult:
    """One-vs-one separability of a layer: one entry per class pair (i < j), in ``pairs`` order."""

    pairs: tuple[tuple[int, int], ...]
    rho_p: np.ndarray  # (P,)
    rho_r: np.ndarray  # (P,)
    ties: np.ndarray  # (P,)
    directions: np.ndarray  # (P, d), oriented so class i projects above class j

    @property
    def mean(self) -> float:
        """The OvO aggregate: mean rho_P over the class pairs."""
        return float(self.rho_p.mean())

    @property
    def minimum(self) -> float:
        return float(self.rho_p.min())

    @property
    def mean_r(self) -> float:
        return float(self.rho_r.mean())

    @property
    def normalised(self) -> float:
        """2 mean(rho_P) - 1."""
        return 2 * self.mean - 1

    def matrix(self, num_classes: int) -> np.ndarray:
        """The K x K symmetric matrix of pairwise rho_P (diagonal NaN)."""
        full = np.full((num_classes, num_classes), np.nan)
        for (i, j), value in zip(self.pairs, self.rho_p):
            full[i, j] = full[j, i] = value
        return full


def class_pairs(labels: np.ndarray) -> tuple[tuple[int, int], ...]:
    """All pairs i < j of the classes present in ``labels``."""
    return tuple(combinations(np.unique(labels).tolist(), 2))


def layer_separability(
    features, labels, *, readout: np.ndarray | None = None, warm: np.ndarray | None = None, certify: bool = True
) -> LayerResult:
    """rho_P and rho_R of every class pair of a layer, with class statistics computed once.

    ``features`` (n, d), ``labels`` (n,). Candidates per pair (i, j): ridge LDA; the readout
    difference u_i - u_j when ``readout`` (K, d) is the next linear layer's weight;
    ``warm[p]`` (P, d), e.g. the previous checkpoint's ``directions``. With ``certify``
    the LP runs for pairs whose best fraction reaches CERTIFY_ABOVE.
    """
    x, y = as_array(features), np.asarray(labels).reshape(-1)
    if len(x) != len(y):
        raise ValueError(f"features have {len(x)} rows but labels {len(y)}")
    pairs = class_pairs(y)
    if not pairs:
        raise ValueError("layer_separability needs at least two classes in labels")
    classes = np.unique(y).tolist()
    members = {k: x[y == k] for k in classes}
    means, covs = (np.stack(side) for side in zip(*(class_statistics(members[k]) for k in classes)))
    index = {k: position for position, k in enumerate(classes)}
    lda = lda_directions(means, covs, [(index[i], index[j]) for i, j in pairs])
    readout = None if readout is None else np.asarray(readout, dtype=np.float64)
    candidates = []
    for p, (i, j) in enumerate(pairs):
        extra = ([] if readout is None else [readout[i] - readout[j]]) + ([] if warm is None else [warm[p]])
        candidates.append(np.stack([lda[p], *extra]))
    scores = [(projections(members[i], c), projections(members[j], c)) for (i, j), c in zip(pairs, candidates)]
    counts = _counts_of_pairs(scores)
    results = [
        _best_of(members[i], members[j], c, CERTIFY_ABOVE if certify else None, n)
        for (i, j), c, n in zip(pairs, candidates, counts)
    ]
    return LayerResult(
        pairs,
        np.array([r.rho_p for r in results]),
        np.array([r.rho_r for r in results]),
        np.array([r.ties for r in results]),
        np.stack([r.direction for r in results]),
    )


# --- baselines ---------------------------------------------------------------------------------


def shuffled_labels(labels, seed: int = 0) -> np.ndarray:
    """``labels`` randomly permuted (class sizes kept): the label-shuffled baseline."""
    labels = np.asarray(labels).reshape(-1)
    return np.random.default_rng(seed).permutation(labels)


def heldout_pair_fraction(a, b, seed: int = 0, repeats: int = 1) -> float:
    """Held-out rho_P: fit the LDA direction and its orientation on half of each set, count on the rest.

    The orientation is fixed on the fitting half; maximising over orientations on the
    evaluation half would bring the in-sample optimism back. ``repeats`` random splits
    (generator seeded ``seed``) are averaged to reduce the split noise.
    """
    a, b = as_array(a), as_array(b)
    if len(a) < 4 or len(b) < 4:
        raise ValueError(f"held-out estimates need at least 4 points per set, got {len(a)} and {len(b)}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    rng = np.random.default_rng(seed)
    fractions = []
    for _ in range(repeats):
        fit_a, eval_a = _halves(a, rng)
        fit_b, eval_b = _halves(b, rng)
        w = lda_direction(*class_statistics(fit_a), *class_statistics(fit_b))
        greater, _, less = order_counts(fit_a @ w, fit_b @ w)
        fractions.append(projection_fraction(-w if less > greater else w, eval_a, eval_b))
    return float(np.mean(fractions))


def _halves(points: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(points))
    half = len(points) // 2
    return points[order[:half]], points[order[half:]]


def heldout_layer_separability(features, labels, seed: int = 0, repeats: int = 1) -> float:
    """Mean held-out rho_P over the class pairs of a layer (see :func:`heldout_pair_fraction`)."""
    x, y = as_array(features), np.asarray(labels).reshape(-1)
    return float(
        np.mean(
            [heldout_pair_fraction(x[y == i], x[y == j], seed + p, repeats) for p, (i, j) in enumerate(class_pairs(y))]
        )
    )


def certified_fraction(features, labels) -> float:
    """Share of the class pairs of a layer that the LP proves separable (exact)."""
    x, y = as_array(features), np.asarray(labels).reshape(-1)
    pairs = class_pairs(y)
    if not pairs:
        raise ValueError("certified_fraction needs at least two classes in labels")
    return sum(is_separable(x[y == i], x[y == j]) for i, j in pairs) / len(pairs)
