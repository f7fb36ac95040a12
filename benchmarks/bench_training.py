"""Steps per second of linstruct's training loop (``fit``, one copy) against a minimal hand-written loop.

Same model (the toolkit chapter's MLP 40-128-128-128-10), same data (MNIST-1D, 4000
training examples), same Adam and batch size; each loop at 1 thread, 2 threads and
torch's default thread count. Not a test: run it on an idle machine with
`make bench` (or `python benchmarks/bench_training.py`) and read the ratios.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from linstruct.data import load_dataset
from linstruct.nn.fit import fit
from linstruct.nn.mlp import MLP

EPOCHS, BATCH, LR, WIDTH, DEPTH = 5, 64, 1e-3, 128, 3


def torch_model(data) -> nn.Module:
    """The same network as plain torch layers (what a user would write)."""
    torch.manual_seed(0)
    sizes = [data.in_features] + [WIDTH] * DEPTH
    layers = [m for a, b in zip(sizes[:-1], sizes[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
    return nn.Sequential(*layers, nn.Linear(WIDTH, data.num_classes))


def fresh_model(data) -> MLP:
    return MLP.from_seeds((0,), data.in_features, WIDTH, DEPTH, data.num_classes)


def hand_written(data) -> int:
    """The loop a careful user would write: shuffle, forward, backward, step."""
    model, loss_fn = torch_model(data), nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(0)
    x, y, steps = data.x_train, data.y_train, 0
    for _ in range(EPOCHS):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), BATCH):
            index = order[start : start + BATCH]
            loss = loss_fn(model(x[index]), y[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
    return steps


def package(data) -> int:
    """The same work through linstruct.fit, one copy (no per-epoch evaluation, as above)."""
    history = fit(fresh_model(data), data, epochs=EPOCHS, lr=LR, batch_size=BATCH, measure=False, progress=False)
    return int(history["step"].iloc[-1])


def package_measuring(data) -> int:
    """linstruct.fit as chapters use it: full train/test evaluation after every epoch."""
    history = fit(fresh_model(data), data, epochs=EPOCHS, lr=LR, batch_size=BATCH, progress=False)
    return int(history["step"].iloc[-1])


def best_steps_per_second(loops: dict, data, repeats: int) -> dict:
    """Best-of-``repeats`` steps/s of each loop, the loops interleaved so that drift
    of the machine's speed hits them alike."""
    for loop in loops.values():
        loop(data)  # warm-up
    best = dict.fromkeys(loops, float("inf"))
    for _ in range(repeats):
        for name, loop in loops.items():
            start = time.perf_counter()
            steps = loop(data)
            best[name] = min(best[name], (time.perf_counter() - start) / steps)
    return {name: 1 / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data = load_dataset("mnist1d")
    default_threads = torch.get_num_threads()
    print(
        f"MNIST-1D {data.n_train} examples, MLP 40-128x3-10, batch {BATCH}, {EPOCHS} epochs; "
        f"torch {torch.__version__}, default threads {default_threads}"
    )
    results = {}
    for threads in sorted({1, 2, default_threads}):
        torch.set_num_threads(threads)
        loops = {"hand-written": hand_written, "linstruct.fit": package, "+ evaluation": package_measuring}
        for name, rate in best_steps_per_second(loops, data, args.repeats).items():
            results[name, threads] = rate
            print(f"  {name:<16} {threads} thread(s): {rate:8.0f} steps/s")
    best_hand = max(v for (name, _), v in results.items() if name == "hand-written")
    best_package = max(v for (name, _), v in results.items() if name == "linstruct.fit")
    print(f"linstruct.fit at its best / hand-written at its best: {best_package / best_hand:.2f}")
    print(
        f"linstruct.fit at default threads / at its best: "
        f"{results['linstruct.fit', default_threads] / best_package:.2f}"
    )
    print(
        f"with per-epoch train/test evaluation / without (1 thread): "
        f"{results['+ evaluation', 1] / results['linstruct.fit', 1]:.2f}"
    )


if __name__ == "__main__":
    main()
