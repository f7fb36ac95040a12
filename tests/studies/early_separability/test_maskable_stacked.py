"""The stacked maskable networks: copy s starts as the torch layers built under torch.manual_seed(s),
and every copy of a trained stack follows exactly its separate one-copy run, for both families and
every training mode of the chapter (learned masks with a per-copy penalty, warm-up and cosine
schedule; constant masks: the all-ones baseline and random-mask controls). The runs compare in
float64: in float32 a stack of 3 convolutions and one alone take different kernels, whose
rounding differs by 1e-5 after three epochs."""

import pytest
import torch
from torch import nn

import linstruct.studies.early_separability.masks as mk
from linstruct.data import load_dataset
from linstruct.studies.early_separability import experiments as ex

SEEDS = (3, 0, 3)  # a seed twice: one copy per (seed, penalty), as the chapter stacks them


def torch_layers(kind: str, seed: int) -> list[nn.Module]:
    """The layers of the chapter's networks in construction order: blocks, then the classifier."""
    torch.manual_seed(seed)
    if kind == "mlp":
        return [nn.Linear(20, 16), nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(48, 4)]
    layers = []
    for i, s in zip((1, 8, 8, 8), (1, 2, 1, 2)):
        layers += [nn.Conv1d(i, 8, 5, s, padding=2, bias=False), nn.BatchNorm1d(8)]
    return layers + [nn.Linear(32, 10)]


def build(kind: str, seeds, dtype: torch.dtype = torch.float32) -> mk.MaskableNet:
    if kind == "mlp":
        return mk.MaskableMLP.from_seeds(seeds, 20, 16, 3, 4, mask_init=0.5).to(dtype)
    return mk.MaskableCNN1d.from_seeds(seeds, 8, 10, length=40, mask_init=0.5).to(dtype)


def data_for(kind: str, dtype: torch.dtype = torch.float32):
    return load_dataset("shells" if kind == "mlp" else "mnist1d", n_train=300, n_test=200).to(dtype=dtype)


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_each_copy_starts_as_the_torch_layers_under_its_seed(kind):
    model = build(kind, SEEDS)
    for index, seed in enumerate(SEEDS):
        layers = nn.ModuleList(torch_layers(kind, seed))
        expected = [*layers.parameters(), *(b for b in layers.buffers() if b.dim() > 0)]  # not BN's step count
        mine = [
            t
            for name, t in [*model.member(index).named_parameters(), *model.member(index).named_buffers()]
            if "masks" not in name
        ]
        assert len(mine) == len(expected)
        for a, b in zip(mine, expected):
            assert torch.equal(a[0], b)
        assert all(torch.all(m.scores == 0.5) for m in model.masks)


def fixed_masks(model: mk.MaskableNet) -> list[torch.Tensor]:
    """Copy 0 keeps everything (the baseline), the others random masks."""
    masks = []
    for width in model.widths[:-1]:
        rows = [torch.ones(width, dtype=torch.bool)]
        rows += [
            mk.random_masks_like([torch.arange(width) < width // 3 + i], seed=i)[0] for i in range(1, model.copies)
        ]
        masks.append(torch.stack(rows))
    return masks


MODES = {
    "learned": (mk.MaskRecipe(epochs=3, mask_lr=0.3, warmup=0.34, batch_size=100, lam=(0.05, 0.5, 2.0)), False),
    "fixed": (mk.MaskRecipe(epochs=3, warmup=0.34, batch_size=100, learn_masks=False), True),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_each_copy_follows_its_separate_run(kind, mode):
    recipe, fixed = MODES[mode]
    data = data_for(kind, torch.float64)
    stack = build(kind, SEEDS, torch.float64)
    masks = fixed_masks(stack)
    if fixed:
        stack.fix_masks(masks)
    history = mk.train_masked(stack, data, recipe, measure=True, evaluate_every=1)
    if not fixed:
        assert len({tuple(torch.cat([m[i] for m in stack.hard_masks()]).tolist()) for i in range(3)}) > 1
    for index, seed in enumerate(SEEDS):
        alone = build(kind, (seed,), torch.float64)
        if fixed:
            alone.fix_masks([m[index : index + 1] for m in masks])
        lam = recipe.lam[index] if isinstance(recipe.lam, tuple) else recipe.lam
        own = mk.train_masked(
            alone, data, mk.MaskRecipe(**{**recipe.__dict__, "lam": lam}), measure=True, evaluate_every=1
        )
        member = stack.member(index)
        assert [m.tolist() for m in member.hard_masks()] == [m.tolist() for m in alone.hard_masks()]
        for (name, p), q in zip(
            [*member.named_parameters(), *member.named_buffers()], [*alone.parameters(), *alone.buffers()]
        ):
            torch.testing.assert_close(p, q, atol=1e-10, rtol=1e-10, msg=name)
        mine = history[history["copy"] == index].reset_index(drop=True)
        for column in ("batch_loss", "train_loss", "test_loss", "test_accuracy"):
            torch.testing.assert_close(
                torch.tensor(mine[column].values),
                torch.tensor(own[column].values),
                atol=1e-10,
                rtol=1e-10,
                equal_nan=True,
            )


def test_per_copy_measurements_equal_those_of_each_member():
    data = data_for("cnn")
    stack = build("cnn", SEEDS)
    mk.train_masked(stack, data, MODES["learned"][0])
    accuracy = ex.accuracy_on_test_set(stack, data)
    ablated = ex.accuracy_on_test_set(mk.ablate_linear_path(stack, [1]), data)
    fractions = stack.detached_fractions()
    rows = ex.probe_rows(ex._copies(stack, [2, 0]), data, "learned")
    for index in range(3):
        member = stack.member(index)
        assert float(accuracy[index]) == float(ex.accuracy_on_test_set(member, data)[0])
        assert float(ablated[index]) == float(ex.accuracy_on_test_set(mk.ablate_linear_path(member, [1]), data)[0])
        assert fractions[index].tolist() == member.detached_fractions()[0].tolist()
    alone = ex.probe_rows(stack.member(2), data, "learned") + ex.probe_rows(stack.member(0), data, "learned")
    assert [{k: v for k, v in r.items() if k != "test_accuracy"} for r in rows] == [
        {k: v for k, v in r.items() if k != "test_accuracy"} for r in alone
    ]
    assert [r["test_accuracy"] for r in rows] == pytest.approx([r["test_accuracy"] for r in alone], abs=1e-9)
