"""Benchmark data: locating, downloading, verifying and caching binarized MNIST and OMNIGLOT, and batching them."""
from dvae_sharp.data.batching import TrainBatches, check_eval_batch_size, eval_batches
from dvae_sharp.data.dataset import DATASET_NAMES, Dataset, load_dataset, pixel_mean_nll
from dvae_sharp.data.locate import DataError, resolve_data_dir

__all__ = [
    "DATASET_NAMES", "DataError", "Dataset", "TrainBatches", "check_eval_batch_size", "eval_batches",
    "load_dataset", "pixel_mean_nll", "resolve_data_dir",
]
