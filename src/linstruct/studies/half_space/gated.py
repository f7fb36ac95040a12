"""Gated networks as mixtures of path experts: ReLU MLP, deep linear net, DLGN, DLGN-SF, DGN.

Every model here is a :class:`~linstruct.nn.stacked.Stacked` model: S independently
initialised copies (one per seed) whose weights carry a leading copy axis, ``(S, out, in)``,
so several seeds (or several gate sharpnesses) train at once with
:func:`linstruct.nn.fit.fit`, each copy exactly as it would alone.

Families (``L`` = depth, ``m`` = width, ``d`` = input dimension):

* ``relu``: z^l = W^l h^{l-1} + c^l, h^l = relu(z^l), h^0 = x; gates 1[z^l > 0].
* ``dln``: the same without the ReLU (a deep linear network; every gate is 1).
* ``dlgn``: a deep *linear* gating chain eta^l = W^l eta^{l-1} + c^l (eta^0 = x) and a value
  chain h^l = G^l(x) * (U^l h^{l-1} + e^l), with h^0 = 1 ("pwc", piecewise constant) or
  x ("pwl", piecewise linear); gates G^l = sigmoid(beta eta^l) (soft) or 1[eta^l >= 0] (hard).
* ``dlgn-sf``: "shallow features": every gating layer reads x directly, eta^l = W^l x + c^l.
* ``dgn``: the gating chain is a ReLU net, z^l = W^l g^{l-1} + c^l, g^l = relu(z^l); gates
  sigmoid(beta z^l).

The output is y = u h^L + e, of shape (S, n, K). Gating regimes for the gated families:
``both`` (all trained), ``frozen-gating`` (gating parameters never change: the value net
learns on fixed random gates) and ``frozen-value``; frozen parameters have ``requires_grad=False``
(``fit`` hands only the others to the optimiser). Every regime leaves some parameters trainable.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from linstruct.nn.stacked import Stacked, per_copy, stacked_linear

FAMILIES = ("relu", "dln", "dlgn", "dlgn-sf", "dgn")
GATED_FAMILIES = ("dlgn", "dlgn-sf", "dgn")
REGIMES = ("both", "frozen-gating", "frozen-value")
VALUE_INPUTS = ("pwc", "pwl")


def _uniform(generator: torch.Generator, shape: tuple[int, ...], bound: float) -> torch.Tensor:
    return (2 * torch.rand(shape, generator=generator) - 1) * bound


class GatedNet(Stacked):
    """S copies of one network family (see the module docstring).

    ``forward(x, hard=None)``: x (n, d) shared by every copy, or (S, n, d) one batch per copy, ->
    (S, n, out); ``hard=None`` follows the attribute ``hard`` (default False; see :func:`hard_gates`).
    Every layer's weight is ``(S, out, in)`` and its bias ``(S, out)`` (zeros, frozen, without ``bias``);
    ``betas`` is ``(S, 1, 1)``. ``preactivations(x)``: the L gating
    pre-activations, each (S, n, m). ``gates(x, hard)``: the L gate values, each (S, n, m).
    Initialisation as ``nn.Linear``'s default (weights and biases uniform in
    +-1/sqrt(fan_in)), drawn per copy from a generator seeded with that copy's seed;
    ``gate_init_scale`` multiplies the initial gating weights. ``beta`` is one gate sharpness for all
    copies or one per copy (so a beta sweep trains as one stack).
    """

    def __init__(
        self,
        family: str,
        in_features: int,
        width: int,
        depth: int,
        out_features: int = 1,
        *,
        seeds: Sequence[int] = (0,),
        beta: float | Sequence[float] = 4.0,
        value_input: str = "pwc",
        regime: str = "both",
        bias: bool = True,
        gate_init_scale: float = 1.0,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {', '.join(FAMILIES)}; got {family!r}")
        if regime not in REGIMES:
            raise ValueError(f"regime must be one of {', '.join(REGIMES)}; got {regime!r}")
        if regime != "both" and family not in GATED_FAMILIES:
            raise ValueError(
                f"regime {regime!r} needs a separate gating net ({', '.join(GATED_FAMILIES)}); {family!r} has none"
            )
        if value_input not in VALUE_INPUTS:
            raise ValueError(f"value_input must be one of {', '.join(VALUE_INPUTS)}; got {value_input!r}")
        if not seeds:
            raise ValueError("seeds must name at least one seed")
        betas = [float(beta)] * len(seeds) if isinstance(beta, (int, float)) else [float(b) for b in beta]
        if len(betas) != len(seeds) or min(betas) <= 0:
            raise ValueError(f"beta must be positive, one number or one per seed ({len(seeds)}); got {beta}")
        self.family, self.width, self.depth = family, width, depth
        self.register_buffer("betas", torch.tensor(betas, dtype=dtype).view(-1, 1, 1))
        self.value_input, self.regime, self.seeds = value_input, regime, tuple(seeds)
        self.in_features, self.out_features, self.bias = in_features, out_features, bias
        self.input_shape, self.hard = (in_features,), False
        gated = family in GATED_FAMILIES
        generators = [torch.Generator().manual_seed(s) for s in self.seeds]

        def layers(fan_ins: list[int], fan_out: int, scale: float = 1.0):
            weights, biases = nn.ParameterList(), nn.ParameterList()
            for fan_in in fan_ins:
                bound = 1 / math.sqrt(fan_in)
                w = torch.stack([_uniform(g, (fan_out, fan_in), bound) for g in generators]) * scale
                b = torch.stack([_uniform(g, (fan_out,), bound) for g in generators])
                weights.append(nn.Parameter(w.to(dtype)))
                biases.append(
                    nn.Parameter(b.to(dtype) if bias else torch.zeros_like(b, dtype=dtype), requires_grad=bias)
                )
            return weights, biases

        chain = [in_features] + [width] * (depth - 1)
        if gated:
            gating_fan_ins = [in_features] * depth if family == "dlgn-sf" else chain
            self.gating_weights, self.gating_biases = layers(gating_fan_ins, width, gate_init_scale)
            value_in = 1 if value_input == "pwc" else in_features
            self.value_weights, self.value_biases = layers([value_in] + [width] * (depth - 1), width)
        else:
            self.gating_weights, self.gating_biases = nn.ParameterList(), nn.ParameterList()
            self.value_weights, self.value_biases = layers(chain, width)
        head_w, head_b = layers([width], out_features)
        self.head_weight, self.head_bias = head_w[0], head_b[0]
        frozen = {"frozen-gating": self.gating_parameters(), "frozen-value": self.value_parameters()}.get(regime, [])
        for p in frozen:
            p.requires_grad_(False)

    @property
    def gated(self) -> bool:
        return self.family in GATED_FAMILIES

    def gating_parameters(self) -> list[nn.Parameter]:
        return [*self.gating_weights, *self.gating_biases]

    def value_parameters(self) -> list[nn.Parameter]:
        return [*self.value_weights, *self.value_biases, self.head_weight, self.head_bias]

    def _copies(self, x: torch.Tensor) -> torch.Tensor:
        return per_copy(x.to(self.head_weight.dtype), self.copies, 1)

    def preactivations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The L gating pre-activations, each (S, n, m): eta^l for the gated families, z^l for relu/dln."""
        xs = self._copies(x)
        h, out = xs, []
        if self.gated:
            for w, c in zip(self.gating_weights, self.gating_biases):
                z = stacked_linear(xs if self.family == "dlgn-sf" else h, w, c)
                h = torch.relu(z) if self.family == "dgn" else z
                out.append(z)
        else:
            for w, c in zip(self.value_weights, self.value_biases):
                z = stacked_linear(h, w, c)
                h = torch.relu(z) if self.family == "relu" else z
                out.append(z)
        return out

    def gates(self, x: torch.Tensor, hard: bool = False) -> list[torch.Tensor]:
        """The L layers' gates, each (S, n, m): sigmoid(beta eta) (soft) or 1[eta >= 0] (hard) for the
        gated families, 1[z > 0] for relu, ones for dln."""
        pre = self.preactivations(x)
        if self.family == "dln":
            return [torch.ones_like(z) for z in pre]
        if self.family == "relu":
            return [(z > 0).to(z.dtype) for z in pre]
        if hard:
            return [(z >= 0).to(z.dtype) for z in pre]
        return [torch.sigmoid(self.betas * z) for z in pre]

    def value_input_of(self, x: torch.Tensor) -> torch.Tensor:
        """h^0: (S, n, 1) ones for pwc, x copies (S, n, d) otherwise."""
        xs = self._copies(x)
        if self.gated and self.value_input == "pwc":
            return torch.ones_like(xs[..., :1])
        return xs

    def forward(self, x: torch.Tensor, hard: bool | None = None) -> torch.Tensor:
        """x (n, d) or (S, n, d) -> (S, n, out); ``hard`` evaluates the gated families with step gates
        (None: the attribute ``hard``)."""
        hard = self.hard if hard is None else hard
        if not self.gated:
            h = self._copies(x)
            for w, c in zip(self.value_weights, self.value_biases):
                h = stacked_linear(h, w, c)
                if self.family == "relu":
                    h = torch.relu(h)
            return stacked_linear(h, self.head_weight, self.head_bias)
        h = self.value_input_of(x)
        for g, w, c in zip(self.gates(x, hard), self.value_weights, self.value_biases):
            h = g * stacked_linear(h, w, c)
        return stacked_linear(h, self.head_weight, self.head_bias)


@contextmanager
def hard_gates(model: GatedNet) -> Iterator[GatedNet]:
    """Within the block ``model(x)`` uses step gates 1[eta >= 0], so any evaluation that calls the
    model (e.g. :func:`linstruct.nn.fit.evaluate`) measures the hard-gate model."""
    before, model.hard = model.hard, True
    try:
        yield model
    finally:
        model.hard = before


@torch.no_grad()
def path_sum(model: GatedNet, x: torch.Tensor, hard: bool = False) -> torch.Tensor:
    """The output of a one-copy, one-output ``model`` as an explicit sum over its paths: (n,), in the
    model's dtype and on its device.

    y(x) = sum over pi in [m]^L of prod_l G^l_{pi_l}(x) * u_{pi_L} prod_{l>=2} U^l_{pi_l, pi_{l-1}}
    <U^1_{pi_1}, h^0(x)>, plus, for the biases e^k, the paths (pi_k, ..., pi_L) that start at layer k,
    plus the output bias (Theorem 1 of the paper, in our reconstruction of its form). The gates are
    the model's own (``model.gates``), so ties (a pre-activation exactly 0) are gated as in the
    forward pass; for relu they are 1[z^l > 0] and h^0 = x. Equal to the forward pass up to rounding
    (about 1e-16 relative to the output's scale in float64, for inputs of any scale). Loops over
    m^L paths: tiny models only.
    """
    if model.copies != 1 or model.out_features != 1:
        raise ValueError("path_sum needs a one-copy, one-output model; use model.member(i)")
    gates = [g[0] for g in model.gates(x, hard)]  # each (n, m)
    h0 = model.value_input_of(x)[0]  # (n, d_v)
    weights = [w[0] for w in model.value_weights]
    biases = [c[0] for c in model.value_biases]
    u, e = model.head_weight[0, 0], model.head_bias[0, 0]
    first_values = h0 @ weights[0].T  # (n, m): <U^1_j, h^0(x)>
    total = h0.new_zeros(len(x)) + e
    for start in range(model.depth):
        layers = range(start, model.depth)
        for path in itertools.product(range(model.width), repeat=model.depth - start):
            gate = torch.stack([gates[l][:, j] for l, j in zip(layers, path)]).prod(0)
            value = u[path[-1]]
            for k in range(1, len(path)):
                value = value * weights[start + k][path[k], path[k - 1]]
            source = biases[start][path[0]] + (first_values[:, path[0]] if start == 0 else 0)
            total = total + gate * value * source
    return total


def steps_to_sustained(losses: Sequence[float], steps: Sequence[int], threshold: float, patience: int = 5) -> float:
    """The first recorded step from which ``patience`` consecutive records stay below ``threshold``;
    ``inf`` if there is none (a dip shorter than ``patience`` records does not count)."""
    below = [loss < threshold for loss in losses]
    for i in range(len(below) - patience + 1):
        if all(below[i : i + patience]):
            return float(steps[i])
    return math.inf
