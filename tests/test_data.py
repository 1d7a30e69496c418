"""Data directory lookup, the real binarized MNIST (shapes, counts, checksums), corrupt caches, the pixel-mean NLL."""
import hashlib
import io
import math
import zipfile

import numpy as np
import pytest

from dvae_sharp import data
from dvae_sharp.data import mnist

# From the dataset's README: number of ones and sha256 of the unpacked (N, 784) uint8 C-order array per split.
REAL_MNIST = {
    "train": (50000, 5118041, "43490d4d6ac9002727af4426d8748609fdb7e4094fa65ad8d681ea60082a7a5a"),
    "valid": (10000, 1028036, "069b4f0beb389b776478c3e872b4df71c95ac4be64d7cbe6d32e24ebac8e6d5e"),
    "test": (10000, 1038896, "ca0294c3b8d984c7a1dc891015a8eea6f37bae59a34e35ea0fc8c47110a8dd86"),
}
REAL_NPZ_SHA256 = "df14a884cb4aa7ac6692463fb31798a687c4e762c73c23a8ae3114fbec4e6093"


@pytest.fixture(scope="module")
def real_mnist(mnist_dir):
    return data.load_dataset("binarized_mnist", str(mnist_dir))


def test_data_dir_lookup_order(monkeypatch, tmp_path):
    monkeypatch.setenv("DVAE_DATA_DIR", str(tmp_path / "from_env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.resolve_data_dir(str(tmp_path / "flag")) == tmp_path / "flag"
    assert data.resolve_data_dir(None) == tmp_path / "from_env"
    monkeypatch.delenv("DVAE_DATA_DIR")
    assert data.resolve_data_dir(None) == tmp_path / "xdg" / "dvae_sharp"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.resolve_data_dir(None) == tmp_path / "home" / ".cache" / "dvae_sharp"


@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_real_mnist_matches_published_counts_and_checksums(real_mnist, split):
    images = getattr(real_mnist, split)
    rows, ones, sha256 = REAL_MNIST[split]
    assert images.shape == (rows, 784) and images.dtype == np.uint8
    assert set(np.unique(images).tolist()) == {0, 1}
    assert int(images.sum(dtype=np.int64)) == ones
    assert hashlib.sha256(np.ascontiguousarray(images).tobytes()).hexdigest() == sha256
    assert not images.flags.writeable


def test_real_mnist_metadata_and_train_mean(real_mnist):
    assert real_mnist.name == "binarized_mnist"
    assert real_mnist.dynamic_binarization is False
    assert real_mnist.default_eval_batch_size == 1000
    assert real_mnist.train_mean.dtype == np.float64 and real_mnist.train_mean.shape == (784,)
    column_counts = real_mnist.train.sum(axis=0, dtype=np.int64)
    np.testing.assert_array_equal(real_mnist.train_mean, column_counts / 50000.0)
    assert math.isclose(real_mnist.train_mean.mean(), 5118041 / (50000 * 784), rel_tol=1e-12)


def test_lookup_uses_env_dir_and_repeated_loads_reuse_the_verified_arrays(real_mnist):
    again = data.load_dataset("binarized_mnist")  # found where run.py looks, like the mnist_dir fixture
    assert again.train is real_mnist.train and again.test is real_mnist.test


def zip_members(file):
    """Each member of a zip file: name, compression, CRC, compressed size and content, in the file's order."""
    with zipfile.ZipFile(file) as archive:
        return [(m.filename, m.compress_type, m.CRC, m.compress_size, archive.read(m)) for m in archive.infolist()]


def writes_forced_zip64_headers():
    """Whether this Python's zipfile writes a ZIP64 local header (version needed 4.5) for a member opened with
    `force_zip64=True`, as numpy's savez asks and as the real file has; some 3.11 releases (3.11.2) do not."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, archive.open("probe", "w", force_zip64=True) as member:
        member.write(b"0")
    return buffer.getvalue()[4] == 45


def test_cache_writer_reproduces_the_real_file_member_for_member(real_mnist, mnist_dir):
    """Same members, order, compressed streams and bytes as the real file; and, where this Python's zipfile writes
    the real file's ZIP64 headers, the same file byte for byte."""
    buffer = io.BytesIO()
    mnist.save_packed(buffer, {"train": real_mnist.train, "valid": real_mnist.valid, "test": real_mnist.test})
    real = mnist_dir / "binarized_mnist.npz"
    assert hashlib.sha256(real.read_bytes()).hexdigest() == REAL_NPZ_SHA256
    assert zip_members(buffer) == zip_members(real)
    if writes_forced_zip64_headers():
        assert hashlib.sha256(buffer.getvalue()).hexdigest() == REAL_NPZ_SHA256


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ValueError, match="binarized_mnist, omniglot"):
        data.load_dataset("cifar10")


def test_missing_file_without_download_is_a_one_line_error(tmp_path):
    with pytest.raises(data.DataError) as error:
        data.load_dataset("binarized_mnist", str(tmp_path), download=False)
    message = str(error.value)
    assert "\n" not in message
    for needed in ("binarized_mnist.npz", str(tmp_path), "binarized_mnist_train.amat", "DVAE_DATA_DIR",
                   "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"):
        assert needed in message
    assert list(tmp_path.iterdir()) == []


def test_flipped_pixel_in_cache_fails_the_checksum_and_the_file_is_kept(real_mnist, tmp_path):
    train = real_mnist.train.copy()
    train[123, 456] ^= 1
    path = tmp_path / "binarized_mnist.npz"
    with open(path, "wb") as file:
        mnist.save_packed(file, {"train": train, "valid": real_mnist.valid, "test": real_mnist.test})
    before = path.read_bytes()
    with pytest.raises(data.DataError, match=r"split 'train' fails its sha256 checksum") as error:
        data.load_dataset("binarized_mnist", str(tmp_path), download=True)
    assert str(path) in str(error.value) and "\n" not in str(error.value)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


def test_flipped_bytes_in_cache_file_are_reported_as_corrupt(mnist_dir, tmp_path):
    raw = bytearray((mnist_dir / "binarized_mnist.npz").read_bytes())
    for offset in range(len(raw) // 2, len(raw) // 2 + 64):
        raw[offset] ^= 0xFF
    (tmp_path / "binarized_mnist.npz").write_bytes(bytes(raw))
    with pytest.raises(data.DataError, match="is corrupt.*checksum"):
        data.load_dataset("binarized_mnist", str(tmp_path))


@pytest.mark.parametrize("arrays, problem", [
    ({"train": np.zeros((50000, 98), np.uint8), "valid": np.zeros((10000, 98), np.uint8)}, "holds arrays"),
    ({"train": np.zeros((50000, 97), np.uint8), "valid": np.zeros((10000, 98), np.uint8),
      "test": np.zeros((10000, 98), np.uint8)}, "expected bit-packed uint8"),
    ({"train": np.zeros((49999, 98), np.uint8), "valid": np.zeros((10000, 98), np.uint8),
      "test": np.zeros((10000, 98), np.uint8)}, "expected bit-packed uint8"),
])
def test_cache_with_wrong_layout_is_refused(tmp_path, arrays, problem):
    np.savez_compressed(tmp_path / "binarized_mnist.npz", **arrays)
    with pytest.raises(data.DataError, match=problem):
        data.load_dataset("binarized_mnist", str(tmp_path))


def test_pixel_mean_nll_equals_a_direct_sum():
    rng = np.random.default_rng(0)
    means = np.concatenate([[0.0, 1.0, 5e-4, 0.9999], rng.uniform(size=780)])
    images = (rng.uniform(size=(7, 784)) < 0.3).astype(np.uint8)
    clipped = np.clip(means, 1e-3, 1 - 1e-3)
    per_image = [-sum(math.log(m) if x else math.log(1 - m) for x, m in zip(row, clipped)) for row in images]
    assert math.isclose(data.pixel_mean_nll(means, images), float(np.mean(per_image)), rel_tol=1e-12)


def test_pixel_mean_nll_on_real_mnist_test_beats_uniform_pixels(real_mnist):
    nll = data.pixel_mean_nll(real_mnist.train_mean, real_mnist.test)
    print(f"per-pixel-mean NLL of binarized MNIST test: {nll:.2f} nats")
    assert 150.0 < nll < 784 * math.log(2)

