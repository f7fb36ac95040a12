"""Training S stacked copies of a :class:`~linstruct.studies.half_space.gated.GatedNet` at once, with snapshots.

The loss is the sum over copies of each copy's mean loss (MSE for regression, cross-entropy
for classification), so each copy's gradient is exactly its own; Adam acts elementwise, so
each copy follows the trajectory it would follow alone. All copies see the same minibatch
order (a generator seeded with ``seed``, drawn on the CPU so that the order does not depend on the
device). The model and the data must already share a device; training happens there. Only
parameters with ``requires_grad`` are handed to the optimiser, so frozen parameters stay
bit-identical.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Sequence

import pandas as pd
import torch

from linstruct.nn.ensembles import per_member_loss
from linstruct.studies.half_space.gated import GatedNet


@torch.no_grad()
def evaluate_copies(model: GatedNet, x: torch.Tensor, y: torch.Tensor, task: str, hard: bool = False,
                    batch_size: int = 2048) -> dict[str, torch.Tensor]:
    """Per-copy mean ``loss`` (S,) and, for classification, ``accuracy`` (S,)."""
    losses, correct = [], []
    for start in range(0, len(x), batch_size):
        out = model(x[start : start + batch_size], hard=hard)
        target = y[start : start + batch_size]
        losses.append(per_member_loss(out, target, task) * len(target))
        if task == "classification":
            correct.append((out.argmax(-1) == target).sum(1).to(torch.float64))
    result = {"loss": torch.stack(losses).sum(0) / len(x)}
    if task == "classification":
        result["accuracy"] = torch.stack(correct).sum(0) / len(x)
    return result


@dataclass
class TrainedStack:
    """A trained stack, its per-copy history and parameter snapshots.

    ``history``: one row per copy and epoch (``seed``, ``epoch``, ``step``, ``loss`` on the full
    training set). ``snapshots``: epoch -> state dict (cloned tensors) at that epoch's end.
    """

    model: GatedNet
    history: pd.DataFrame
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)

    def at(self, epoch: int) -> GatedNet:
        """A copy of the model with the parameters it had after ``epoch`` (0: initialisation)."""
        if epoch not in self.snapshots:
            raise KeyError(f"no snapshot at epoch {epoch}; have {sorted(self.snapshots)}")
        model = copy.deepcopy(self.model)
        model.load_state_dict(self.snapshots[epoch])
        return model

    def final_loss(self) -> pd.Series:
        """Each copy's full-training-set loss after the last epoch (indexed by seed)."""
        last = self.history[self.history["epoch"] == self.history["epoch"].max()]
        return last.set_index("seed")["loss"]


def train_stack(model: GatedNet, x: torch.Tensor, y: torch.Tensor, *, task: str, epochs: int, lr: float,
                batch_size: int, seed: int = 0, snapshot_epochs: Sequence[int] = (),
                record_every: int = 1) -> TrainedStack:
    """Train every copy of ``model`` with Adam on minibatches of (x, y); record the full-set loss of
    each copy every ``record_every`` epochs (and at 0 and the end) and snapshot the parameters at
    ``snapshot_epochs``."""
    if epochs < 0 or batch_size < 1 or record_every < 1:
        raise ValueError(f"need epochs >= 0, batch_size >= 1, record_every >= 1; got {epochs}, {batch_size}, "
                         f"{record_every}")
    device = model.head_weight.device
    if x.device != device or y.device != device:
        raise ValueError(f"model is on {device} but x is on {x.device} and y on {y.device}; move both "
                         f"(x.to(device), y.to(device)) before training")
    params = model.trainable_parameters()
    opt = torch.optim.Adam(params, lr=lr) if params else None
    order = torch.Generator().manual_seed(seed)
    n, size = len(x), min(batch_size, len(x))
    rows, snapshots, step = [], {}, 0

    def record(epoch: int) -> None:
        if epoch % record_every == 0 or epoch == epochs:
            losses = evaluate_copies(model, x, y, task)["loss"]
            rows.extend({"seed": s, "epoch": epoch, "step": step, "loss": float(v)}
                        for s, v in zip(model.seeds, losses))
        if epoch in snapshot_epochs:
            snapshots[epoch] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    record(0)
    for epoch in range(1, epochs + 1):
        permutation = torch.randperm(n, generator=order).to(device)
        for start in range(0, n, size):
            index = permutation[start : start + size]
            if opt is not None:
                loss = per_member_loss(model(x[index]), y[index], task).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            step += 1
        record(epoch)
    return TrainedStack(model, pd.DataFrame(rows), snapshots)
