"""MD-LSM cost and precision: the fast one-vs-one estimator against a naive Minkowski-difference build.

Speed: all 45 class pairs of a 4,000-sample, 10-class layer of width 64 (MNIST-1D through a
Glorot tanh layer, seeded). Fast: class statistics once, one ridge-LDA direction per pair,
exact counts by sorting (``linstruct.studies.md_lsm.separability.layer_separability``). Naive: the same
directions with the LDA recomputed per pair from the points, then all m n differences built
and counted. Both must give identical values.
Precision: the estimate against the exact optimum on small sets: the 2-D angular sweep
(m = n = 10, 30, 100) and the mixed-integer programme (4-D, 10 + 10 points).
Run: `python benchmarks/bench_mdlsm.py` (one thread; times are best of --repeats).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import linstruct.studies.md_lsm.separability as sep
from linstruct.data import load_dataset


def layer_features(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    data = load_dataset("mnist1d", n_train=4000)
    torch.manual_seed(seed)
    weight = torch.nn.init.xavier_normal_(torch.empty(64, data.in_features))
    return torch.tanh(data.x_train @ weight.T).double().numpy(), data.y_train.numpy()


def naive_layer(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    values = []
    for i, j in sep.class_pairs(y):
        a, b = x[y == i], x[y == j]
        w = sep.lda_direction(*sep.class_statistics(a), *sep.class_statistics(b))
        products = sep.minkowski_difference(a, b) @ w
        values.append(max(np.mean(products > 0), np.mean(products < 0)))
    return np.array(values)


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def precision_2d(sizes=(10, 30, 100), instances: int = 20) -> None:
    for m in sizes:
        gaps = []
        for seed in range(instances):
            rng = np.random.default_rng(seed)
            a, b = rng.normal(size=(m, 2)), rng.normal(size=(m, 2)) + [1.0, 0.6]
            gaps.append(sep.exact_rho_p_2d(a, b) - sep.pair_separability(a, b).rho_p)
        print(
            f"2-D, {m}+{m} points, {instances} instances: exact - estimate mean {np.mean(gaps):.4f}, "
            f"max {np.max(gaps):.4f}, min {np.min(gaps):.4f}"
        )


def precision_milp(instances: int = 5, time_limit: float = 20.0) -> None:
    gaps, proved = [], 0
    for seed in range(instances):
        rng = np.random.default_rng(100 + seed)
        a, b = rng.normal(size=(10, 4)), rng.normal(size=(10, 4)) + 0.5
        value, optimal = sep.exact_rho_p_milp(a, b, time_limit=time_limit)
        proved += optimal
        gaps.append(value - sep.pair_separability(a, b).rho_p)
    print(
        f"4-D, 10+10 points, {instances} instances: MILP - estimate mean {np.mean(gaps):.4f}, "
        f"max {np.max(gaps):.4f}; {proved} of {instances} proved optimal within {time_limit:g} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = layer_features()
    fast = sep.layer_separability(x, y, certify=False)
    naive = naive_layer(x, y)
    assert np.allclose(fast.rho_p, naive, atol=1e-12), "fast and naive estimates differ"
    t_fast = best_time(lambda: sep.layer_separability(x, y, certify=False), args.repeats)
    t_naive = best_time(lambda: naive_layer(x, y), args.repeats)
    print(f"layer 4000 x 64, 10 classes, 45 pairs: OvO mean rho_P {fast.mean:.4f} (both implementations)")
    print(f"fast (cached statistics, sort counts): {1000 * t_fast:.1f} ms")
    print(f"naive (per-pair LDA, Minkowski difference built): {1000 * t_naive:.1f} ms")
    print(f"speed-up: {t_naive / t_fast:.1f}x")
    t_cert = best_time(lambda: sep.layer_separability(x, y, certify=True), 1)
    print(f"with LP certification of pairs at >= {sep.CERTIFY_ABOVE}: {1000 * t_cert:.1f} ms")
    precision_2d()
    precision_milp()


if __name__ == "__main__":
    main()
