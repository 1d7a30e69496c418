"""The two benchmark datasets behind one loader, and the per-pixel-mean baseline likelihood."""
import dataclasses

import numpy as np

from dvae_sharp.data import mnist, omniglot
from dvae_sharp.data.locate import resolve_data_dir

_PIXEL_MEAN_CLIP = 1e-3


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded dataset; all arrays are read-only and have 784 columns (28x28 images flattened row-major).

    `train` is uint8 0/1 for binarized MNIST and float32 grey levels in [0, 1] for OMNIGLOT, whose training images
    are binarized afresh for every batch (`dynamic_binarization`). `valid` and `test` are uint8 0/1. `train_mean`
    is the float64 per-pixel mean of the training images as stored (binary or grey).
    """
    name: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    train_mean: np.ndarray
    dynamic_binarization: bool
    default_eval_batch_size: int


_LOADERS = {
    # name: (split loader, dynamic binarization, evaluation batch size of the original)
    "binarized_mnist": (mnist.load_splits, False, 1000),
    "omniglot": (omniglot.load_splits, True, 269),
}
DATASET_NAMES = tuple(_LOADERS)


def load_dataset(name, data_dir=None, download=True):
    """Load `name` from `data_dir` (or the directory `resolve_data_dir` finds), downloading it if missing.

    Raises `ValueError` for an unknown name and `data.DataError` for missing or corrupt data.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASET_NAMES)}")
    load_splits, dynamic_binarization, eval_batch_size = _LOADERS[name]
    splits = load_splits(resolve_data_dir(data_dir), download=download)
    train_mean = np.mean(splits["train"], axis=0, dtype=np.float64)
    train_mean.flags.writeable = False
    return Dataset(name=name, train=splits["train"], valid=splits["valid"], test=splits["test"],
                   train_mean=train_mean, dynamic_binarization=dynamic_binarization,
                   default_eval_batch_size=eval_batch_size)


def pixel_mean_nll(train_mean, images):
    """Mean negative log-likelihood (nats) of `images` under independent Bernoulli pixels with means `train_mean`.

    The means are clipped to [1e-3, 1 - 1e-3]; this is the baseline any generative model should beat.
    """
    means = np.clip(np.asarray(train_mean, dtype=np.float64), _PIXEL_MEAN_CLIP, 1.0 - _PIXEL_MEAN_CLIP)
    images = np.asarray(images, dtype=np.float64)
    log_likelihoods = images @ (np.log(means) - np.log1p(-means)) + np.sum(np.log1p(-means))
    return float(-np.mean(log_likelihoods))
