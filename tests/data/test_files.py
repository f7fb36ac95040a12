"""The on-disk readers and writers (IDX, CIFAR-10 batches, tar) and the downloader, without network."""

from __future__ import annotations

import gzip
import io
import tarfile
import time

import numpy as np
import pytest

from linstruct.data import DatasetUnavailable
from linstruct.data.files import download, extract_tar, find_cifar10_batches, read_cifar10, read_idx, write_idx


@pytest.mark.parametrize("name", ["images-idx3-ubyte", "images-idx3-ubyte.gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 5, 4), (2, 1, 3, 3)])
def test_idx_round_trip(tmp_path, name, shape):
    array = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    path = tmp_path / name
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.uint8 and back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_idx_header_layout_and_gzip_detected_by_content(tmp_path):
    write_idx(tmp_path / "a.gz", np.arange(6, dtype=np.uint8).reshape(2, 3))
    raw = gzip.decompress((tmp_path / "a.gz").read_bytes())
    assert raw == bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5])
    (tmp_path / "no-extension").write_bytes((tmp_path / "a.gz").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "no-extension"), [[0, 1, 2], [3, 4, 5]])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "not an IDX file"),
        (b"\x00\x00\x0d\x01\x00\x00\x00\x01\x05", r"IDX type code 0x0d; only unsigned bytes"),
        (
            b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03\x01\x02",
            r"IDX shape \(2, 3\) needs 6 data bytes, found 2",
        ),
        (b"\x00\x00\x08\x03\x00\x00", "IDX header truncated"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, content, message):
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_idx(path)


def test_write_idx_rejects_non_uint8(tmp_path):
    with pytest.raises(ValueError, match="uint8 arrays only, got float64"):
        write_idx(tmp_path / "x", np.zeros(3))


def test_read_cifar10_from_folder_or_parent(tmp_path, cifar10_batches):
    written = cifar10_batches(tmp_path)
    for folder in (tmp_path, tmp_path / "cifar-10-batches-py"):
        assert find_cifar10_batches(folder) == tmp_path / "cifar-10-batches-py"
        x_train, y_train, x_test, y_test = read_cifar10(folder)
        assert x_train.shape == (20, 3, 32, 32) and x_test.shape == (4, 3, 32, 32)
        assert x_train.dtype == np.uint8 and y_train.dtype == y_test.dtype == np.int64
        np.testing.assert_array_equal(x_train[4:8].reshape(4, -1), written["data_batch_2"][0])
        np.testing.assert_array_equal(y_train[16:], written["data_batch_5"][1])
        np.testing.assert_array_equal(y_test, written["test_batch"][1])
    # the first 1024 values of a row are the red channel
    np.testing.assert_array_equal(x_test[0, 0].ravel(), written["test_batch"][0][0, :1024])


def test_read_cifar10_missing(tmp_path):
    assert find_cifar10_batches(tmp_path) is None
    with pytest.raises(FileNotFoundError, match="no CIFAR-10 batches"):
        read_cifar10(tmp_path)


def test_extract_tar_skips_unsafe_members(tmp_path):
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("good/file.txt", "../escaped.txt", "/tmp/absolute-linstruct-test.txt"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"ok"))
        link = tarfile.TarInfo("good/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    dest = tmp_path / "out"
    dest.mkdir()
    extract_tar(archive, dest)
    assert (dest / "good" / "file.txt").read_bytes() == b"ok"
    assert not (tmp_path / "escaped.txt").exists()
    assert not (dest / "good" / "link").exists() and not (dest / "good" / "link").is_symlink()
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["good", "good/file.txt"]


def test_download_local_url_is_atomic(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(b"payload" * 1000)
    dest = tmp_path / "sub" / "copy.bin"
    assert download(source.as_uri(), dest) == dest
    assert dest.read_bytes() == source.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == ["copy.bin"]  # no temporary file left


def test_download_unreachable_raises_quickly(tmp_path):
    dest = tmp_path / "x.gz"
    start = time.monotonic()
    with pytest.raises(DatasetUnavailable, match=r"could not download http://127\.0\.0\.1:9/x to .*x\.gz") as info:
        download("http://127.0.0.1:9/x", dest, timeout=5)
    assert time.monotonic() - start < 5
    assert "Check the network connection" in str(info.value)
    assert list(tmp_path.iterdir()) == []
