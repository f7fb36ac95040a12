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
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterator, Sequence

INPUT = "in"
OUTPUT = "out"


@dataclass
class PathGraph:
    """A DAG of nodes with weights ``n_v`` and inputs grouped in branches.

    Nodes must be added after their inputs (so insertion order is a topological order).
    """

    weight: dict[str, float] = field(default_factory=dict)
    branches: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)

    def add(self, name: str, nonlinear: float = 0.0, inputs: Sequence[Sequence[str]] = ()) -> str:
        """Add node ``name`` with weight ``nonlinear`` and ``inputs`` (a list of branches)."""
        if name in self.weight:
            raise ValueError(f"node {name!r} already exists")
        if not 0.0 <= float(nonlinear) <= 1.0:
            raise ValueError(f"node {name!r}: nonlinear weight must be in [0, 1], got {nonlinear}")
        groups = tuple(tuple(b) for b in inputs)
        for branch in groups:
            if not branch:
                raise ValueError(f"node {name!r}: a branch needs at least one input node")
            for u in branch:
                if u not in self.weight:
                    raise ValueError(f"node {name!r}: input {u!r} must be added first")
        self.weight[name] = float(nonlinear)
        self.branches[name] = groups
        return name

    def predecessors(self, name: str) -> list[str]:
        return [u for branch in self.branches[name] for u in branch]


def path_count(graph: PathGraph, output: str = OUTPUT) -> int:
    """Number of source-to-``output`` paths (dynamic programme)."""
    return _counts(graph)[0][output]


def _counts(graph: PathGraph) -> tuple[dict[str, int], dict[str, float]]:
    """N(v): paths from a source to v; S(v): summed nonlinear weights over those paths."""
    paths: dict[str, int] = {}
    total: dict[str, float] = {}
    for v, w in graph.weight.items():
        preds = graph.predecessors(v)
        paths[v] = sum(paths[u] for u in preds) if preds else 1
        total[v] = sum(total[u] for u in preds) + w * paths[v]
    return paths, total


def apl(graph: PathGraph, output: str = OUTPUT, normalized: bool = True) -> float:
    """The average path length to ``output``, normalized (branch walk) or unnormalized (uniform)."""
    if output not in graph.weight:
        raise ValueError(f"no node called {output!r}")
    if not normalized:
        paths, total = _counts(graph)
        return total[output] / paths[output]
    expected: dict[str, float] = {}
    for v, w in graph.weight.items():
        groups = graph.branches[v]
        expected[v] = w + sum(sum(expected[u] for u in b) / len(b) for b in groups) / max(len(groups), 1)
    return expected[output]


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
    """APL by enumerating every path (exponential; checks :func:`apl`)."""
    paths = list(enumerate_paths(graph, output))
    lengths = [sum(graph.weight[v] for v in path) for path, _ in paths]
    if normalized:
        return float(sum(p * length for (_, p), length in zip(paths, lengths)))
    return sum(lengths) / len(lengths)


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
    """Closed form for a chain: both APLs equal the sum of per-layer nonlinear shares."""
    return float(sum(shares))


def residual_apl(trunk_shares: Sequence[float], block_shares: Sequence[Sequence[float]],
                 block_widths: Sequence[Sequence[int]] | None = None) -> float:
    """Closed forms for :func:`residual_graph` (one trunk of width > 0 before the blocks).

    Normalized (``block_widths=None``): ``sum(trunk) + 1/2 * sum over blocks of sum(branch)``.
    Unnormalized: each branch layer's share weighted by ``P/(1+P)``, P the product of the
    block's branch widths (the share of paths through the branch).
    """
    if block_widths is None:
        return float(sum(trunk_shares) + 0.5 * sum(sum(b) for b in block_shares))
    total = float(sum(trunk_shares))
    for shares, widths in zip(block_shares, block_widths, strict=True):
        product = 1
        for w in widths:
            product *= w
        total += sum(shares) * product / (1 + product)
    return total
