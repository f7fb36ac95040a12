"""The one training loop: S stacked copies trained at once, each as if alone.

``fit`` trains any :class:`~linstruct.nn.stacked.Stacked` model by minibatch (or full
batch) Adam or SGD. The loss is the sum over copies of each copy's mean loss, so each
copy gets exactly its own gradient, and Adam, SGD and L2 weight decay act elementwise:
each copy follows the trajectory it would follow alone.

Data order, an explicit policy:

* ``"per_seed"``: copy ``i`` shuffles with its own generator seeded ``model.seeds[i]``
  (so seeds differ in initialisation *and* data order, as separate runs would);
* ``"shared"``: every copy sees the same minibatches, shuffled by one generator seeded
  ``order_seed`` (so copies differ only in what the model varies across them).

The learning rate is constant, or decays along a half cosine from its value at the first step
to 0 after the last (``schedule="cosine"``), which trains the book's baselines to their references
in fewer epochs.

The history is a long table: one row per copy and evaluated epoch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import torch
from torch.nn import functional as F

from linstruct.core.reproducibility import interactive
from linstruct.data import Dataset
from linstruct.nn.schedules import SCHEDULES, rate_factor
from linstruct.nn.stacked import Stacked

ORDERS = ("per_seed", "shared")
OPTIMIZERS = ("adam", "sgd")
Penalty = Callable[[Stacked], torch.Tensor]  # -> (S,) one penalty per copy
StepCallback = Callable[[int, Stacked, torch.Tensor], None]  # (step, model, per-copy losses (S,))
EpochCallback = Callable[[int, Stacked], Mapping[str, torch.Tensor | float] | None]


def per_copy_loss(out: torch.Tensor, target: torch.Tensor, task: str) -> torch.Tensor:
    """Each copy's mean loss: out ``(S, n, C)`` or ``(S, n, 1)``; target ``(S, n)`` or shared
    ``(n,)`` -> ``(S,)``. Cross-entropy for classification, squared error for regression."""
    if target.dim() == 1:
        target = target.expand(out.shape[0], *target.shape)
    if task == "classification":
        copies, n, classes = out.shape
        losses = F.cross_entropy(out.reshape(copies * n, classes), target.reshape(copies * n), reduction="none")
        return losses.view(copies, n).mean(1)
    if task == "regression":
        return (out.squeeze(-1) - target.to(out.dtype)).pow(2).mean(1)
    raise ValueError(f"task must be 'regression' or 'classification'; got {task!r}")


@torch.no_grad()
def evaluate(
    model: Stacked, x: torch.Tensor, y: torch.Tensor, task: str, batch_size: int = 4096
) -> dict[str, torch.Tensor]:
    """Per-copy mean loss and (classification) accuracy on the shared set (x, y): each ``(S,)``,
    computed in eval mode in chunks of ``batch_size``."""
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0.0
    for start in range(0, len(x), batch_size):
        out = model(x[start : start + batch_size])
        target = y[start : start + batch_size]
        total = total + per_copy_loss(out, target, task).double() * len(target)
        if task == "classification":
            correct = correct + (out.argmax(-1) == target).double().sum(1)
    model.train(was_training)
    result = {"loss": total / len(x)}
    if task == "classification":
        result["accuracy"] = correct / len(x)
    return result


def make_optimizer(name: str, params, lr: float, weight_decay: float = 0.0, momentum: float = 0.0):
    """``adam`` (L2 weight decay as in ``torch.optim.Adam``) or ``sgd``."""
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=momentum)
    raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}")


def fit(
    model: Stacked,
    data: Dataset,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int | None = None,
    optimizer: str | torch.optim.Optimizer = "adam",
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    schedule: str = "constant",
    order: str = "per_seed",
    order_seed: int | None = None,
    penalty: Penalty | None = None,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
    evaluate_every: int = 1,
    measure: bool = True,
    progress: bool | None = None,
    device: torch.device | str | None = None,
) -> pd.DataFrame:
    """Train every copy of ``model`` on ``data``; return the history (one row per copy and
    evaluated epoch: ``copy``, ``seed``, ``epoch``, ``step``, ``batch_loss`` (the epoch's mean
    minibatch loss, penalty excluded), ``train_loss``/``test_loss`` and, for classification,
    ``train_accuracy``/``test_accuracy`` (skipped with ``measure=False``), and whatever
    ``on_epoch(epoch, model)`` returns: per-copy ``(S,)`` tensors or one number for all).

    ``batch_size=None`` trains full batch. Epoch 0 is the untrained model. ``optimizer`` is a
    name or a ready optimiser over the model's parameters (``lr``, ``weight_decay`` and
    ``momentum`` are then ignored). ``schedule``: one of :data:`SCHEDULES` (see the module
    docstring), applied to every parameter group of the optimiser. ``penalty(model)`` returns
    one penalty per copy, added to each copy's minibatch loss. ``on_step(step, model, losses)``
    runs after every optimiser step (e.g. a projection). ``device``: where to train (default:
    where the model's parameters are); the data are moved there.
    """
    if epochs < 0 or evaluate_every < 1:
        raise ValueError(
            f"need epochs >= 0 and evaluate_every >= 1; got epochs={epochs}, evaluate_every={evaluate_every}"
        )
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 or None; got {batch_size}")
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}; got {order!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
    if device is not None:
        model.to(device)
    where = next(model.parameters()).device
    opt = (
        optimizer
        if isinstance(optimizer, torch.optim.Optimizer)
        else make_optimizer(optimizer, [p for p in model.parameters() if p.requires_grad], lr, weight_decay, momentum)
    )
    shape = model.input_shape
    x, y, task = data.x_train.reshape(-1, *shape).to(where), data.y_train.to(where), data.task
    x_test, y_test = data.x_test.reshape(-1, *shape).to(where), data.y_test.to(where)
    n, copies = len(x), model.copies
    size = n if batch_size is None else min(batch_size, n)
    if order == "per_seed":
        generators = [torch.Generator().manual_seed(seed) for seed in model.seeds]
    else:
        generators = [torch.Generator().manual_seed(model.seeds[0] if order_seed is None else order_seed)]
    rows: list[dict] = []
    decay = None  # a constant rate leaves the optimiser's rates alone (an on_step callback may set them)
    if schedule != "constant":
        total_steps = epochs * math.ceil(n / size)
        decay = torch.optim.lr_scheduler.LambdaLR(opt, lambda done: rate_factor(schedule, done, total_steps))

    def record(epoch: int, step: int, batch_loss: torch.Tensor) -> None:
        columns: dict[str, torch.Tensor | float] = {"batch_loss": batch_loss}
        if measure:
            for split, (xs, ys) in (("train", (x, y)), ("test", (x_test, y_test))):
                columns |= {f"{split}_{k}": v for k, v in evaluate(model, xs, ys, task).items()}
        if on_epoch is not None:
            with torch.no_grad():
                columns |= dict(on_epoch(epoch, model) or {})
        values = {
            k: v.detach().double().cpu().expand(copies).tolist() if torch.is_tensor(v) else [float(v)] * copies
            for k, v in columns.items()
        }
        for i, seed in enumerate(model.seeds):
            rows.append({"copy": i, "seed": seed, "epoch": epoch, "step": step} | {k: v[i] for k, v in values.items()})

    record(0, 0, torch.full((copies,), float("nan")))
    epoch_range = range(1, epochs + 1)
    if interactive() if progress is None else progress:
        from tqdm.auto import tqdm

        epoch_range = tqdm(epoch_range, desc=f"training {copies} copies", unit="epoch", leave=False)
    step = 0
    model.train()
    for epoch in epoch_range:
        orders = torch.stack([torch.randperm(n, generator=g) if size < n else torch.arange(n) for g in generators]).to(
            where
        )
        if order == "shared":
            orders = orders[0]
        running = torch.zeros(copies, device=where)
        batches = 0
        for start in range(0, n, size):
            index = orders[..., start : start + size]  # (S, b) per seed, (b,) shared
            losses = per_copy_loss(model(x[index]), y[index], task)
            total = losses if penalty is None else losses + penalty(model)
            opt.zero_grad(set_to_none=True)
            total.sum().backward()
            opt.step()
            if decay is not None:
                decay.step()
            step += 1
            batches += 1
            running += losses.detach()
            if on_step is not None:
                on_step(step, model, losses.detach())
        if epoch % evaluate_every == 0 or epoch == epochs:
            record(epoch, step, running / batches)
    return pd.DataFrame(rows)


def final(history: pd.DataFrame, column: str) -> pd.Series:
    """Each copy's ``column`` after the last recorded epoch, indexed by copy."""
    last = history[history["epoch"] == history["epoch"].max()]
    return last.set_index("copy")[column]


class Snapshots:
    """An ``on_epoch`` callback that keeps a copy of the model's parameters at chosen epochs.

    ``fit(..., on_epoch=snapshots)``; then ``snapshots.at(epoch)`` is the model as it was after
    that epoch (0: the initialisation).
    """

    def __init__(self, epochs: Sequence[int]):
        self.epochs = set(epochs)
        self.states: dict[int, dict[str, torch.Tensor]] = {}
        self._model: Stacked | None = None

    def __call__(self, epoch: int, model: Stacked) -> None:
        self._model = model
        if epoch in self.epochs:
            self.states[epoch] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def at(self, epoch: int) -> Stacked:
        if epoch not in self.states:
            raise KeyError(f"no snapshot at epoch {epoch}; have {sorted(self.states)}")
        model = copy.deepcopy(self._model)
        model.load_state_dict(self.states[epoch])
        return model
