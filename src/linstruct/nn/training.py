"""One small training loop for every chapter.

``train`` runs minibatch or full-batch training with Adam or SGD, calls optional
per-step and per-epoch measurement callbacks, and returns the history as a pandas
DataFrame (one row per epoch). Data order is deterministic: a private generator
seeded with ``seed`` shuffles the training set each epoch.
"""
from __future__ import annotations

from typing import Callable, Mapping

import pandas as pd
import torch
from torch import nn

from linstruct.data import Dataset
from linstruct.core.reproducibility import interactive

OPTIMIZERS = ("adam", "sgd")
StepCallback = Callable[[int, nn.Module, float], None]
EpochCallback = Callable[[int, nn.Module], Mapping[str, float] | None]


def loss_for(task: str) -> nn.Module:
    """Cross-entropy for classification, mean squared error for regression."""
    if task == "classification":
        return nn.CrossEntropyLoss()
    if task == "regression":
        return nn.MSELoss()
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0, momentum: float = 0.0):
    """``adam`` (with L2 weight decay as in ``torch.optim.Adam``) or ``sgd``."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module, batch_size: int = 4096) -> dict:
    """Mean loss and (for integer labels) accuracy of ``model`` on (x, y), in eval mode."""
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        out = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        total_loss += float(loss_fn(_squeeze_regression(out, target), target)) * len(target)
        if target.dtype == torch.long:
            correct += int((out.argmax(dim=1) == target).sum())
    model.train(was_training)
    result = {"loss": total_loss / len(x)}
    if y.dtype == torch.long:
        result["accuracy"] = correct / len(x)
    return result


def _squeeze_regression(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return out.squeeze(-1) if target.dim() == 1 and out.dim() == 2 and out.shape[1] == 1 else out


def train(
    model: nn.Module,
    data: Dataset,
    *,
    epochs: int,
    lr: float,
    batch_size: int | None = None,
    optimizer: str | torch.optim.Optimizer = "adam",
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    seed: int = 0,
    evaluate_every: int = 1,
    measure: bool = True,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
    progress: bool | None = None,
    device: torch.device | str = "cpu",
) -> pd.DataFrame:
    """Train ``model`` on ``data`` and return one history row per evaluated epoch.

    ``batch_size=None`` trains full batch. Every ``evaluate_every`` epochs (and after
    the last) the row records ``epoch``, ``step``, the mean training minibatch loss of
    that epoch, loss and accuracy on the full train and test sets (skipped with
    ``measure=False``), and whatever ``on_epoch(epoch, model)`` returns. Epoch 0 is
    the untrained model.
    ``on_step(step, model, loss)`` runs after every optimiser step. The model is
    moved to ``device`` and trained there. ``optimizer`` is a name or a ready
    ``torch.optim.Optimizer`` over the model's parameters (e.g. with parameter groups;
    ``lr``, ``weight_decay`` and ``momentum`` are then ignored); ``penalty(model)``, if
    given, is added to every minibatch loss (the recorded ``batch_loss`` excludes it).
    """
    if epochs < 0:
        raise ValueError(f"epochs must be non-negative, got {epochs}")
    if evaluate_every < 1:
        raise ValueError(f"evaluate_every must be at least 1, got {evaluate_every}")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 or None, got {batch_size}")
    loss_fn = loss_for(data.task)
    model.to(device)
    opt = (optimizer if isinstance(optimizer, torch.optim.Optimizer)
           else make_optimizer(optimizer, model.parameters(), lr, weight_decay, momentum))
    x, y = data.x_train.to(device), data.y_train.to(device)
    x_test, y_test = data.x_test.to(device), data.y_test.to(device)
    n = len(x)
    size = n if batch_size is None else min(batch_size, n)
    order = torch.Generator().manual_seed(seed)
    show = interactive() if progress is None else progress

    def record(epoch: int, step: int, batch_loss: float) -> dict:
        row = {"epoch": epoch, "step": step, "batch_loss": batch_loss}
        for split, (xs, ys) in (("train", (x, y)), ("test", (x_test, y_test))) if measure else ():
            row.update({f"{split}_{k}": v for k, v in evaluate(model, xs, ys, loss_fn).items()})
        if on_epoch is not None:
            with torch.no_grad():
                row.update(on_epoch(epoch, model) or {})
        return row

    rows = [record(0, 0, float("nan"))]
    epochs_iter = range(1, epochs + 1)
    if show:
        from tqdm.auto import tqdm

        epochs_iter = tqdm(epochs_iter, desc="training", unit="epoch", leave=False)
    step = 0
    model.train()
    for epoch in epochs_iter:
        permutation = (torch.randperm(n, generator=order) if size < n else torch.arange(n)).to(device)
        running = torch.zeros((), device=device)
        batches = 0
        for start in range(0, n, size):
            index = permutation[start : start + size]
            target = y[index]
            loss = loss_fn(_squeeze_regression(model(x[index]), target), target)
            opt.zero_grad(set_to_none=True)
            (loss if penalty is None else loss + penalty(model)).backward()
            opt.step()
            step += 1
            batches += 1
            running += loss.detach()
            if on_step is not None:
                on_step(step, model, float(loss.detach()))
        if epoch % evaluate_every == 0 or epoch == epochs:
            rows.append(record(epoch, step, float(running) / batches))
    return pd.DataFrame(rows)
