"""Average path length (APL): how many nonlinear units a path through the network meets.

A network is a directed acyclic graph of *nodes* (units, an input, merge and output
nodes). Each node has a weight ``n_v`` (1 for a nonlinear unit, 0 for a linearized
one, an input or a merge; a float in [0, 1] gives the "soft" APL) and its inputs
grouped into *branches*: a dense layer feeding a node is one branch, a residual add
has one branch per summand.

* ``APL_unnorm``: the mean of ``sum_{v in path} n_v`` over all input-output paths,
  each path counted once.
* ``APL_norm``: the same mean under the backward random walk that picks each of the
  ``k`` branches of a node with probability 1/k, then one node of that branch
  uniformly.

The Figure-1 graph of Ali Mehmeti-Göpel & Disselhoff (2023) (four dense layers of
four units skipped by one residual edge) has 257 paths; the skip edge has probability
1/257 unnormalized and 1/2 normalized, each dense path 1/257 and 1/512. This
reconstruction of the definition reproduces those numbers exactly.

Arithmetic is exact: weights are kept as :class:`~fractions.Fraction` (a float weight
converts without loss), path counts are Python integers of any size, and every APL is
computed as a Fraction and rounded to float once at the end, so results do not depend
on the order of summation, on tied weights, on tiny weights next to large ones, or on
path counts beyond float range.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Rational

INPUT = "in"
OUTPUT = "out"


@dataclass
class PathGraph:
    """A DAG of nodes with weights ``n_v`` (exact Fractions) and inputs grouped in branches.

    Nodes must be added after their inputs (so insertion order is a topological order).
    """

    weight: dict[str, Fraction] = field(default_factory=dict)
    branches: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    def add(self, name: str, nonlinear: float = 0.0, inputs: Sequence[Sequence[str]] = ()) -> str:
        """Add node ``name`` with weight ``nonlinear`` (a number in [0, 1]: int, Fraction or float,
        kept exactly) and ``inputs`` (a list of branches)."""
        if name in self.weight:
            raise ValueError(f"node {name!r} already exists")
        weight = exact(nonlinear)
        if not 0 <= weight <= 1:
            raise ValueError(f"node {name!r}: nonlinear weight must be in [0, 1], got {nonlinear}")
        groups = tuple(tuple(b) for b in inputs)
        for branch in groups:
            if not branch:
                raise ValueError(f"node {name!r}: a branch needs at least one input node")
            for u in branch:
                if u not in self.weight:
                    raise ValueError(f"node {name!r}: input {u!r} must be added first")
        self.weight[name] = weight
        self.branches[name] = groups
        return name

    def predecessors(self, name: str) -> list[str]:
        return [u for branch in self.branches[name] for u in branch]


def exact(value) -> Fraction:
    """``value`` (int, Fraction, or a float of any width, e.g. numpy's) as an exact Fraction."""
    if isinstance(value, Rational):
        return Fraction(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"a weight must be a finite number, got {value}")
    return Fraction(number)


def path_count(graph: PathGraph, output: str = OUTPUT) -> int:
    """Number of source-to-``output`` paths (dynamic programme)."""
    return _counts(graph)[0][output]


def _counts(graph: PathGraph) -> tuple[dict[str, int], dict[str, Fraction]]:
    """N(v): paths from a source to v; S(v): summed nonlinear weights over those paths (exact)."""
    paths: dict[str, int] = {}
    total: dict[str, Fraction] = {}
    for v, w in graph.weight.items():
        preds = graph.predecessors(v)
        paths[v] = sum(paths[u] for u in preds) if preds else 1
        total[v] = sum((total[u] for u in preds), Fraction(0)) + w * paths[v]
    return paths, total


def exact_apl(graph: PathGraph, output: str = OUTPUT, normalized: bool = True) -> Fraction:
    """The average path length to ``output`` as an exact Fraction (see :func:`apl`)."""
    if output not in graph.weight:
        raise ValueError(f"no node called {output!r}")
    if not normalized:
        paths, total = _counts(graph)
        return total[output] / paths[output]
    expected: dict[str, Fraction] = {}
    for v, w in graph.weight.items():
        groups = graph.branches[v]
        means = sum((sum((expected[u] for u in b), Fraction(0)) / len(b) for b in groups), Fraction(0))
        expected[v] = w + means / max(len(groups), 1)
    return expected[output]


def apl(graph: PathGraph, output: str = OUTPUT, normalized: bool = True) -> float:
    """The average path length to ``output``, normalized (branch walk) or unnormalized (uniform).

    Computed exactly by dynamic programming, then rounded once to the nearest float.
    """
    return float(exact_apl(graph, output, normalized))


def enumerate_paths(graph: PathGraph, output: str = OUTPUT) -> Iterator[tuple[tuple[str, ...], Fraction]]:
    """Every source-to-``output`` path with its exact probability under the normalized walk.

    Brute force (exponential): for tests and small examples.
    """

    def walk(v: str, probability: Fraction) -> Iterator[tuple[tuple[str, ...], Fraction]]:
        groups = graph.branches[v]
        if not groups:
            yield (v,), probability
            return
        for branch in groups:
            for u in branch:
                for path, p in walk(u, probability / (len(groups) * len(branch))):
                    yield path + (v,), p

    yield from walk(output, Fraction(1))


def brute_force_apl(graph: PathGraph, output: str = OUTPUT, normalized: bool = True) -> float:
    """APL by enumerating every path, exactly, rounded once (exponential; checks :func:`apl`)."""
    paths = list(enumerate_paths(graph, output))
    lengths = [sum((graph.weight[v] for v in path), Fraction(0)) for path, _ in paths]
    if normalized:
        return float(sum((p * length for (_, p), length in zip(paths, lengths)), Fraction(0)))
    return float(sum(lengths, Fraction(0)) / len(lengths))


def chain_graph(masks: Sequence[Sequence[float]]) -> PathGraph:
    """A plain chain (MLP or ordinary CNN): layer l has one node per unit, weights ``masks[l]``."""
    graph = PathGraph()
    previous = (graph.add(INPUT),)
    for l, mask in enumerate(masks):
        previous = tuple(graph.add(f"L{l}u{i}", m, [previous]) for i, m in enumerate(mask))
    graph.add(OUTPUT, 0.0, [previous])
    return graph


def residual_graph(trunk_masks: Sequence[Sequence[float]], blocks: Sequence[Sequence[Sequence[float]]]) -> PathGraph:
    """Dense trunk layers, then residual blocks ``h <- h + branch(h)``.

    ``trunk_masks``: the stem's layers (a chain); ``blocks[b]``: the layers of block b's
    branch (a chain of unit masks). Each block ends in an add node with two branches:
    the skip (the previous add or trunk output) and the branch's last layer.
    """
    graph = PathGraph()
    previous = (graph.add(INPUT),)
    for l, mask in enumerate(trunk_masks):
        previous = tuple(graph.add(f"T{l}u{i}", m, [previous]) for i, m in enumerate(mask))
    for b, layers in enumerate(blocks):
        skip = previous
        inner = previous
        for l, mask in enumerate(layers):
            inner = tuple(graph.add(f"B{b}L{l}u{i}", m, [inner]) for i, m in enumerate(mask))
        previous = (graph.add(f"add{b}", 0.0, [skip, inner]),)
    graph.add(OUTPUT, 0.0, [previous])
    return graph


def figure1_graph(mask: Sequence[Sequence[float]] | None = None) -> PathGraph:
    """The paper's Figure 1: four dense layers of four units skipped by one residual edge."""
    return residual_graph([], [mask if mask is not None else [[1.0] * 4] * 4])


def chain_apl(shares: Sequence[float]) -> float:
    """Closed form for a chain: both APLs equal the sum of per-layer nonlinear shares
    (summed exactly, rounded once)."""
    return float(sum((exact(s) for s in shares), Fraction(0)))


def residual_apl(
    trunk_shares: Sequence[float],
    block_shares: Sequence[Sequence[float]],
    block_widths: Sequence[Sequence[int]] | None = None,
) -> float:
    """Closed forms for :func:`residual_graph` (one trunk of width > 0 before the blocks).

    Normalized (``block_widths=None``): ``sum(trunk) + 1/2 * sum over blocks of sum(branch)``.
    Unnormalized: each branch layer's share weighted by ``P/(1+P)``, P the product of the
    block's branch widths (the share of paths through the branch).
    """
    trunk = sum((exact(s) for s in trunk_shares), Fraction(0))
    branches = [sum((exact(s) for s in b), Fraction(0)) for b in block_shares]
    if block_widths is None:
        return float(trunk + sum(branches, Fraction(0)) / 2)
    total = trunk
    for branch, widths in zip(branches, block_widths, strict=True):
        product = math.prod(widths)
        total += branch * Fraction(product, 1 + product)
    return float(total)
