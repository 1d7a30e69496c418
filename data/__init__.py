"""Benchmark data: locating, downloading, verifying and caching binarized MNIST and OMNIGLOT, and batching them."""
from data.batching import TrainBatches, check_eval_batch_size, eval_batches
from data.dataset import DATASET_NAMES, Dataset, load_dataset, pixel_mean_nll
from data.locate import DataError, resolve_data_dir

__all__ = [
    "DATASET_NAMES", "DataError", "Dataset", "TrainBatches", "check_eval_batch_size", "eval_batches",
    "load_dataset", "pixel_mean_nll", "resolve_data_dir",
]
