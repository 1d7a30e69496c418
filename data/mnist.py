"""Statically binarized MNIST (Larochelle & Murray's fixed binarization): verified loading, download and caching.

The on-disk cache is `<data_dir>/binarized_mnist.npz` holding `train`, `valid` and `test`, each the bit-packed rows
`np.packbits(X, axis=1)` of a uint8 0/1 array X of shape (N, 784), written with `np.savez_compressed`. Every load
checks the shapes and the sha256 of each unpacked C-order uint8 array. If the file is missing, the three canonical
`.amat` text files (one image per line, 784 space-separated 0/1 values) are downloaded, parsed, verified, and
only then packed into the cache.
"""
import dataclasses
import functools
import hashlib
import io
import os
import pathlib
import types

import numpy as np

from dvae_sharp.data.locate import (DATA_DIR_ENV, DOWNLOAD_TIMEOUT_S, FETCH_ERRORS, DataError, check_file_slot, fetch,
                                    write_atomically)

NPZ_NAME = "binarized_mnist.npz"
SPLITS = ("train", "valid", "test")
PIXELS = 784
BASE_URL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist"
BASE_URL_ENV = "DVAE_MNIST_URL"


@dataclasses.dataclass(frozen=True)
class SplitDigest:
    """What one split must be: its number of images and the sha256 of its unpacked (rows, 784) uint8 array."""
    rows: int
    sha256: str


EXPECTED = types.MappingProxyType({
    "train": SplitDigest(50000, "43490d4d6ac9002727af4426d8748609fdb7e4094fa65ad8d681ea60082a7a5a"),
    "valid": SplitDigest(10000, "069b4f0beb389b776478c3e872b4df71c95ac4be64d7cbe6d32e24ebac8e6d5e"),
    "test": SplitDigest(10000, "ca0294c3b8d984c7a1dc891015a8eea6f37bae59a34e35ea0fc8c47110a8dd86"),
})


def amat_name(split):
    """File name of the canonical text file of `split`."""
    return f"binarized_mnist_{split}.amat"


def load_splits(data_dir, download=True, base_url=None, expected=None, timeout=DOWNLOAD_TIMEOUT_S):
    """Read-only uint8 0/1 arrays of shape (N, 784), keyed by split, from `<data_dir>/binarized_mnist.npz`.

    A missing file is downloaded from `base_url` (default: `$DVAE_MNIST_URL`, else the canonical URL) when
    `download` is true. `expected` maps each split to its `SplitDigest` (default: the real dataset's). Raises
    `DataError` for a missing, unreadable or mismatching file and for a failed or mismatching download.
    """
    expected = EXPECTED if expected is None else expected
    base_url = (base_url or os.environ.get(BASE_URL_ENV) or BASE_URL).rstrip("/")
    path = pathlib.Path(data_dir) / NPZ_NAME
    check_file_slot(path)
    if not path.is_file():
        if not download:
            raise DataError(_missing_message(path, base_url, "downloading is disabled"))
        _download(path, base_url, expected, timeout)
    stat = path.stat()
    return _read_verified(str(path), stat.st_mtime_ns, stat.st_size, base_url, tuple(sorted(expected.items())))


@functools.lru_cache(maxsize=4)
def _read_verified(path, mtime_ns, size, base_url, expected_items):
    """The verified splits of the cache file; memoised on its path, modification time and size."""
    expected = dict(expected_items)
    remedy = f"delete {path} to download it again from {base_url}/"
    try:
        with np.load(path, allow_pickle=False) as archive:
            if sorted(archive.files) != sorted(SPLITS):
                raise DataError(f"{path} holds arrays {sorted(archive.files)}, expected {list(SPLITS)}; {remedy}")
            packed = {split: archive[split] for split in SPLITS}
    except DataError:
        raise
    except Exception as error:
        raise DataError(f"{path} is corrupt (reading it failed, e.g. a zip checksum or format error: {error}); "
                        f"{remedy}") from error
    splits = {}
    for split in SPLITS:
        want_shape = (expected[split].rows, PIXELS // 8)
        if packed[split].dtype != np.uint8 or packed[split].shape != want_shape:
            raise DataError(f"{path}: array '{split}' is {packed[split].dtype} {packed[split].shape}, expected "
                            f"bit-packed uint8 {want_shape}; {remedy}")
        splits[split] = np.unpackbits(packed[split], axis=1)
        _verify(splits[split], split, expected[split], path, remedy)
        splits[split].flags.writeable = False
    return types.MappingProxyType(splits)


def _verify(images, split, digest, source, remedy):
    """Raise `DataError` unless `images` has the shape and sha256 of `digest`."""
    if images.shape != (digest.rows, PIXELS):
        raise DataError(f"{source}: split '{split}' has shape {images.shape}, expected ({digest.rows}, {PIXELS}); "
                        f"{remedy}")
    actual = hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).tobytes()).hexdigest()
    if actual != digest.sha256:
        raise DataError(f"{source}: split '{split}' fails its sha256 checksum (got {actual}, expected "
                        f"{digest.sha256}); {remedy}")


def _download(path, base_url, expected, timeout):
    """Fetch, parse and verify all three splits, then write the packed cache file in one atomic step."""
    splits = {}
    for split in SPLITS:
        url = f"{base_url}/{amat_name(split)}"
        try:
            raw = fetch(url, timeout)
        except FETCH_ERRORS as error:
            raise DataError(_missing_message(path, base_url, f"downloading {url} failed: {error}")) from error
        remedy = f"the data at {url} differs from the canonical binarized MNIST; nothing was written to {path}"
        splits[split] = parse_amat(raw, url, remedy)
        _verify(splits[split], split, expected[split], url, remedy)
    write_atomically(path, lambda file: save_packed(file, splits))


def parse_amat(raw, source, remedy):
    """The uint8 (N, 784) array of a text file with one image per line as 784 whitespace-separated 0/1 values."""
    try:
        values = np.loadtxt(io.BytesIO(raw), dtype=np.float32, ndmin=2)
    except ValueError as error:
        raise DataError(f"{source} is not a text file of {PIXELS} numbers per line ({error}); "
                        f"{remedy}") from error
    if values.shape[1:] != (PIXELS,) or not np.isin(values, (0.0, 1.0)).all():
        raise DataError(f"{source} does not hold {PIXELS} values in {{0, 1}} per line (parsed shape "
                        f"{values.shape}); {remedy}")
    return values.astype(np.uint8)


def save_packed(file, splits):
    """Write `splits` (uint8 0/1 arrays of shape (N, 784)) to `file` in the cache layout."""
    np.savez_compressed(file, **{split: np.packbits(splits[split], axis=1) for split in SPLITS})


def _missing_message(path, base_url, reason):
    names = ", ".join(amat_name(split) for split in SPLITS)
    return (f"{path.name} is not in {path.parent} and {reason}; get {names} from {base_url}/ (or set "
            f"{BASE_URL_ENV} to a mirror), or point --data_dir or {DATA_DIR_ENV} to a directory holding {path.name}")
