"""Shared test set-up: CPU-only TensorFlow, quiet logs, and the data directory of the repository's CI."""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

REPO = pathlib.Path(__file__).resolve().parent.parent
os.environ.setdefault("DVAE_DATA_DIR", str(REPO.parent / "shared" / "data"))

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mnist_dir():
    """The directory holding the real binarized MNIST (`DVAE_DATA_DIR`)."""
    path = pathlib.Path(os.environ["DVAE_DATA_DIR"])
    assert (path / "binarized_mnist.npz").is_file(), f"binarized_mnist.npz not found in DVAE_DATA_DIR={path}"
    return path
