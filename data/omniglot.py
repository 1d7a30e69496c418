"""OMNIGLOT 28x28 as released with IWAE (`chardata.mat`): download, loading, the DVAE# split and binarization.

The file holds `data` (784 x 24345, training) and `testdata` (784 x 8070), feature-major grey levels in [0, 1],
each image flattened in MATLAB's column-major order. On load every image is transposed back to row-major order.
The last 1345 training images become the validation set. Validation and test are binarized once, each with a
fresh `RandomState(1)` stream (pixel = 1 iff U < grey level); training images stay grey and are binarized afresh
for every batch (see `data.batching`). Split sizes follow the file, so small files of the same layout load too.
"""
import functools
import hashlib
import os
import pathlib
import types

import numpy as np
import scipy.io

from dvae_sharp.data.locate import (DATA_DIR_ENV, DOWNLOAD_TIMEOUT_S, FETCH_ERRORS, DataError, check_file_slot, fetch,
                                    write_atomically)

MAT_NAME = "chardata.mat"
URL = "https://github.com/yburda/iwae/raw/master/datasets/OMNIGLOT/chardata.mat"
URL_ENV = "DVAE_OMNIGLOT_URL"
MD5 = "21ecaf34373511aa7691cf2e0802aa3d"
PIXELS = 784
SIDE = 28
VALIDATION_ROWS = 1345
BINARIZATION_SEED = 1


def load_splits(data_dir, download=True, url=None, md5=MD5, timeout=DOWNLOAD_TIMEOUT_S):
    """Read-only splits of `<data_dir>/chardata.mat`: float32 grey `train`, uint8 0/1 `valid` and `test`, (N, 784).

    A missing file is downloaded from `url` (default: `$DVAE_OMNIGLOT_URL`, else the canonical URL) when
    `download` is true, and kept only if its md5 equals `md5`. An existing file is not hashed, only checked for
    layout. Raises `DataError` for a missing, unreadable or malformed file and for a failed or mismatching download.
    """
    url = url or os.environ.get(URL_ENV) or URL
    path = pathlib.Path(data_dir) / MAT_NAME
    check_file_slot(path)
    if not path.is_file():
        if not download:
            raise DataError(_missing_message(path, url, "downloading is disabled"))
        _download(path, url, md5, timeout)
    stat = path.stat()
    return _read_splits(str(path), stat.st_mtime_ns, stat.st_size)


def _download(path, url, md5, timeout):
    """Fetch the file, check its md5, then move it into place in one atomic step."""
    try:
        raw = fetch(url, timeout)
    except FETCH_ERRORS as error:
        raise DataError(_missing_message(path, url, f"downloading it failed: {error}")) from error
    actual = hashlib.md5(raw).hexdigest()
    if actual != md5:
        raise DataError(f"{url} fails its md5 checksum (got {actual}, expected {md5}); nothing was written to "
                        f"{path}")
    write_atomically(path, lambda file: file.write(raw))


@functools.lru_cache(maxsize=2)
def _read_splits(path, mtime_ns, size):
    """The split and binarized arrays of the file; memoised on its path, modification time and size."""
    try:
        matrices = scipy.io.loadmat(path, variable_names=["data", "testdata"])
    except Exception as error:
        raise DataError(f"{path} cannot be read as a MATLAB file ({error}); delete it to download it again from "
                        f"{URL}") from error
    grey_train = _images(matrices, "data", path)
    grey_test = _images(matrices, "testdata", path)
    if len(grey_train) <= VALIDATION_ROWS:
        raise DataError(f"{path}: 'data' holds {len(grey_train)} images, but more than {VALIDATION_ROWS} are needed "
                        f"(the last {VALIDATION_ROWS} are the validation set); the real file has 24345 (from {URL})")
    splits = {
        "train": grey_train[:-VALIDATION_ROWS].astype(np.float32),
        "valid": binarize_once(grey_train[-VALIDATION_ROWS:]),
        "test": binarize_once(grey_test),
    }
    for images in splits.values():
        images.flags.writeable = False
    return types.MappingProxyType(splits)


def _images(matrices, key, path):
    """The images under `key` as rows of row-major 28x28 pixels, in the file's own numeric dtype."""
    matrix = matrices.get(key)
    if matrix is None or matrix.ndim != 2 or matrix.shape[0] != PIXELS:
        shape = None if matrix is None else matrix.shape
        raise DataError(f"{path}: '{key}' should be a {PIXELS} x N matrix, found {shape}; the expected file is "
                        f"{URL}")
    if matrix.dtype.kind not in "fiu" or not np.all((matrix >= 0) & (matrix <= 1)):
        raise DataError(f"{path}: '{key}' should hold grey levels in [0, 1]; the expected file is {URL}")
    return column_major_to_rows(matrix)


def column_major_to_rows(matrix):
    """Rows of row-major pixels from a feature-major matrix whose columns are column-major 28x28 images."""
    return matrix.T.reshape(-1, SIDE, SIDE).reshape(-1, PIXELS, order="F")


def binarize_once(grey):
    """uint8 0/1 images: pixel = 1 iff U < grey level, with U drawn from a fresh `RandomState(1)` stream."""
    uniforms = np.random.RandomState(BINARIZATION_SEED).rand(*grey.shape)
    return (uniforms < grey).astype(np.uint8)


def _missing_message(path, url, reason):
    return (f"{path.name} is not in {path.parent} and {reason}; get it from {url} (or set {URL_ENV} to a mirror), "
            f"or point --data_dir or {DATA_DIR_ENV} to a directory holding {path.name}")
