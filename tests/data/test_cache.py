"""The on-disk cache of generated data sets: keyed by arguments, reused, never trusted when damaged."""

import numpy as np
import pytest

from linstruct.data import cache, packaged
from linstruct.data.cache import cached_arrays, entry_path, generated_dir


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LINSTRUCT_DATA", str(tmp_path))
    return tmp_path / "generated"


class Generator:
    """Counts its calls; returns arrays of several dtypes and shapes."""

    def __init__(self, offset=0.0):
        self.calls = 0
        self.offset = offset

    def __call__(self):
        self.calls += 1
        return {"x": np.arange(12, dtype=np.float64).reshape(3, 4) + self.offset, "y": np.array([2, 0, 1])}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype and np.array_equal(a[name], b[name])


def test_folder_follows_linstruct_data(data_dir, monkeypatch):
    assert generated_dir() == data_dir
    assert entry_path("toy", {"n": 3}).parent == data_dir
    monkeypatch.delenv("LINSTRUCT_DATA")
    assert generated_dir().parts[-3:] == (".cache", "linstruct", "generated")


def test_key_depends_on_every_argument_not_their_order(data_dir):
    base = entry_path("toy", {"n": 3, "seed": 1})
    assert entry_path("toy", {"seed": 1, "n": 3}) == base
    assert (
        len(
            {
                base,
                entry_path("toy", {"n": 3, "seed": 2}),
                entry_path("toy", {"n": 4, "seed": 1}),
                entry_path("other", {"n": 3, "seed": 1}),
            }
        )
        == 4
    )


def test_made_once_then_read_back_exactly(data_dir):
    make = Generator()
    first = cached_arrays("toy", {"n": 3}, make)
    second = cached_arrays("toy", {"n": 3}, make)
    assert make.calls == 1
    assert_same(first, second)
    assert [p.name for p in data_dir.iterdir()] == [entry_path("toy", {"n": 3}).name]  # no partial file left


@pytest.mark.parametrize("damage", ["truncate", "flip a byte", "empty", "not a zip"])
def test_damaged_file_is_regenerated_not_used(data_dir, damage):
    cached_arrays("toy", {"n": 3}, Generator(offset=100.0))  # what a damaged file would wrongly give
    path = entry_path("toy", {"n": 3})
    content = path.read_bytes()
    damaged = {
        "truncate": content[: len(content) // 2],
        "flip a byte": content[:60] + bytes([content[60] ^ 0xFF]) + content[61:],
        "empty": b"",
        "not a zip": b"hello" * 100,
    }[damage]
    path.write_bytes(damaged)
    make = Generator()
    arrays = cached_arrays("toy", {"n": 3}, make)
    assert make.calls == 1
    assert_same(arrays, Generator()())
    assert_same(cached_arrays("toy", {"n": 3}, Generator(offset=5.0)), arrays)  # the file was replaced


def test_file_made_from_other_arguments_is_not_used(data_dir):
    cached_arrays("toy", {"n": 3}, Generator(offset=100.0))
    entry_path("toy", {"n": 3}).replace(entry_path("toy", {"n": 4}))
    make = Generator()
    assert_same(cached_arrays("toy", {"n": 4}, make), Generator()())
    assert make.calls == 1


def test_unwritable_folder_still_gives_the_data(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("LINSTRUCT_DATA", str(blocker))
    make = Generator()
    assert_same(cached_arrays("toy", {"n": 3}, make), Generator()())


def test_mnist1d_is_generated_once_across_processes(data_dir, monkeypatch):
    monkeypatch.setattr(packaged, "_MNIST1D_CACHE", {})
    first = packaged.mnist1d(seed=3, n=200)
    assert len(list(data_dir.glob("mnist1d-*.npz"))) == 1

    def must_not_run(*_):
        raise AssertionError("MNIST-1D generated again although it is on disk")

    monkeypatch.setattr(packaged, "_MNIST1D_CACHE", {})  # as in a new process
    monkeypatch.setattr(packaged, "_generate_mnist1d", must_not_run)
    again = packaged.mnist1d(seed=3, n=200)
    assert (first.x_train.shape, first.x_test.shape) == ((160, 40), (40, 40))
    assert all(np.array_equal(getattr(first, k), getattr(again, k)) for k in ("x_train", "y_train", "x_test", "y_test"))
    assert cache.read_entry(next(data_dir.glob("mnist1d-*.npz")), "") is None  # bound to its arguments
