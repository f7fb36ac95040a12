"""Kernels of gated networks: the overlap (active-path) kernel and the empirical NTK.

Overlap kernel: Omega(x, x') = sum over paths pi of f_pi(x) f_pi(x') with f_pi = prod_l G^l_{pi_l};
it factorises over layers, Omega = K_1 * ... * K_L (elementwise) with K_l = G_l G_l^T, where G_l
(n, m) holds layer l's gates. :func:`overlap_kernel` takes any gates (soft sigmoid gates or hard
step gates); :func:`hard_overlap` is the trace-normalised hard-gate kernel of one copy of a
stacked model, the one the chapter measures. With hard gates Omega(x, x') counts the paths active
at both x and x', an integer below m^L, so it is exact in float64 (every kernel here is float64, on
the gates' device: a product of L Gram matrices underflows or overflows in float32).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap


def layer_kernels(gates: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """K_l = G_l G_l^T for each layer's gates G_l (n, m): a list of (n, n) float64 matrices."""
    return [g.to(torch.float64) @ g.to(torch.float64).T for g in gates]


def overlap_kernel(gates: Sequence[torch.Tensor]) -> torch.Tensor:
    """Omega = K_1 * ... * K_L (elementwise product of the layer kernels): (n, n) float64."""
    kernels = layer_kernels(gates)
    product = kernels[0]
    for k in kernels[1:]:
        product = product * k
    return product


def hard_overlap(model, x: torch.Tensor, index: int) -> torch.Tensor:
    """Trace-normalised hard-gate overlap kernel of copy ``index`` of a stacked gated ``model``
    (anything with ``gates(x, hard=True)`` returning L tensors (S, n, m)): (n, n) float64."""
    return trace_normalise(overlap_kernel([g[index] for g in model.gates(x, hard=True)]))


def trace_normalise(kernel: torch.Tensor) -> torch.Tensor:
    """kernel / trace(kernel); ValueError for a kernel with zero trace."""
    trace = torch.trace(kernel)
    if trace == 0:
        raise ValueError("cannot trace-normalise a kernel whose trace is 0 (no active paths anywhere)")
    return kernel / trace


def relative_change(before: torch.Tensor, after: torch.Tensor) -> float:
    """||after - before||_F / ||before||_F."""
    return float(torch.linalg.norm(after - before) / torch.linalg.norm(before))


def block_ratio(kernel: torch.Tensor, first: torch.Tensor) -> tuple[float, float, float]:
    """(mean over first x first, mean over rest x rest, their ratio) for a boolean mask ``first`` (n,)."""
    top = kernel[first][:, first].mean()
    bottom = kernel[~first][:, ~first].mean()
    return float(top), float(bottom), float(top / bottom)


def empirical_ntk(
    model: nn.Module, x: torch.Tensor, parameters: Sequence[str] | None = None, normalise: bool = True
) -> torch.Tensor:
    """Theta = J J^T for a one-copy, one-output ``model`` (x (n, d) -> (1, n, 1)): (n, n) float64.

    J_i = d y(x_i) / d theta over the named ``parameters`` (None: all parameters, frozen ones
    included; pass the value net's names for the value-only NTK), computed per sample with
    ``torch.func.vmap(jacrev)``; divided by its trace when ``normalise``.
    """
    named = dict(model.named_parameters())
    names = list(named) if parameters is None else list(parameters)
    unknown = sorted(set(names) - set(named))
    if unknown:
        raise ValueError(f"unknown parameter names {unknown}; the model has {sorted(named)}")
    chosen = {k: named[k].detach() for k in names}
    fixed = {k: v.detach() for k, v in named.items() if k not in chosen}

    def output(params: dict, xi: torch.Tensor) -> torch.Tensor:
        return functional_call(model, {**fixed, **params}, (xi.unsqueeze(0),)).reshape(())

    jac = vmap(jacrev(output), in_dims=(None, 0))(chosen, x)
    flat = torch.cat([j.reshape(len(x), -1) for j in jac.values()], dim=1).to(torch.float64)
    theta = flat @ flat.T
    return trace_normalise(theta) if normalise else theta
