"""Shared test set-up: CPU-only TensorFlow, quiet logs, and binarized MNIST found as run.py finds it.

The data directory is `$DVAE_DATA_DIR` if set, else the user cache (`$XDG_CACHE_HOME/dvae_sharp` or
`~/.cache/dvae_sharp`); a missing file is downloaded there and verified, exactly as `run.py` does.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mnist_dir():
    """The directory holding the verified binarized MNIST; one clear failure line if it cannot be had."""
    from dvae_sharp import data
    directory = data.resolve_data_dir()
    try:
        data.load_dataset("binarized_mnist", directory)
    except data.DataError as error:
        pytest.fail(f"these tests need binarized MNIST: {error}", pytrace=False)
    return directory
