"""Wall time of S seeds trained at once (EnsembleMLP) against one seed and S sequential runs.

Models: the circle-data MLP of chapter 1 (2-32x5-1, 500 points, batch 32), the
circle-data DLGN of chapter 1 (5x32, beta 4, stacked copies of ``GatedNet``) and the
toolkit MLP (40-128x3-10 on MNIST-1D, batch 64). Target: 5 seeds at once cost at most
2x one seed. Run on an idle machine: `python benchmarks/bench_ensembles.py`.
"""
from __future__ import annotations

import argparse
import time

import torch

from linstruct.data import load_dataset
from linstruct.nn.ensembles import EnsembleMLP, train_ensemble
from linstruct.studies.half_space.gated import GatedNet
from linstruct.studies.half_space.gated_training import train_stack
from linstruct.nn.models import MLP
from linstruct.nn.training import train

CASES = {
    "circle MLP 2-32x5-1": dict(data=("circle", {}), width=32, depth=5, batch=32, epochs=20, lr=3e-3),
    "toolkit MLP 40-128x3-10": dict(data=("mnist1d", {}), width=128, depth=3, batch=64, epochs=3, lr=1e-3),
}


def seconds(fn, repeats: int) -> float:
    fn()
    return min(_timed(fn) for _ in range(repeats))


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds = tuple(range(args.seeds))
    print(f"torch {torch.__version__}, {args.threads} thread(s), best of {args.repeats}; per-epoch evaluation on")
    for name, case in CASES.items():
        data = load_dataset(case["data"][0], **case["data"][1])
        out = data.num_classes or 1
        common = dict(epochs=case["epochs"], lr=case["lr"], batch_size=case["batch"], progress=False)

        def one(seed=0):
            torch.manual_seed(seed)
            train(MLP(data.in_features, case["width"], case["depth"], out), data, seed=seed, **common)

        def together():
            model = EnsembleMLP.from_seeds(seeds, data.in_features, case["width"], case["depth"], out)
            train_ensemble(model, data, **common)

        t_one = seconds(one, args.repeats)
        t_all = seconds(together, args.repeats)
        t_seq = seconds(lambda: [one(s) for s in seeds], max(1, args.repeats // 2))
        report(name, len(seeds), t_one, t_all, t_seq)

    circle = load_dataset("circle")

    def dlgn(stack_seeds):
        model = GatedNet("dlgn", 2, 32, 5, 1, seeds=stack_seeds, beta=4.0)
        train_stack(model, circle.x_train, circle.y_train, task="regression", epochs=20, lr=3e-3, batch_size=32)

    t_one = seconds(lambda: dlgn((0,)), args.repeats)
    t_all = seconds(lambda: dlgn(seeds), args.repeats)
    t_seq = seconds(lambda: [dlgn((s,)) for s in seeds], max(1, args.repeats // 2))
    report("circle DLGN 5x32", len(seeds), t_one, t_all, t_seq)


def report(name: str, n_seeds: int, t_one: float, t_all: float, t_seq: float) -> None:
    print(f"{name}: 1 seed {t_one:.2f} s; {n_seeds} at once {t_all:.2f} s ({t_all / t_one:.2f}x one seed); "
          f"{n_seeds} sequential {t_seq:.2f} s ({t_seq / t_one:.2f}x)")


if __name__ == "__main__":
    main()
