"""The OMNIGLOT loader on a small synthetic `chardata.mat` of the real file's layout (feature-major, column-major
images): orientation, split sizes, the seed-1 binarization of validation and test, determinism, malformed files."""
import shutil

import numpy as np
import pytest
import scipy.io

from dvae_sharp import data

NUM_TRAIN, NUM_VALID, NUM_TEST = 40, 1345, 30


def asymmetric_image():
    """A 28x28 image that differs from its transpose: a bar along the top row, a dot low on the left."""
    image = np.zeros((28, 28))
    image[0, 2:9] = 1.0
    image[20, 3] = 0.5
    assert not np.array_equal(image, image.T)
    return image


def grey_images(num_images, seed):
    """Random row-major grey images with the asymmetric image first."""
    images = np.random.default_rng(seed).uniform(size=(num_images, 784))
    images[0] = asymmetric_image().ravel()
    return images


def as_matlab_columns(images):
    """The feature-major matrix MATLAB writes: column i is image i flattened column by column."""
    return np.stack([image.reshape(28, 28).ravel(order="F") for image in images], axis=1)


def write_chardata(path, train_rows, test_rows):
    scipy.io.savemat(path, {"data": as_matlab_columns(train_rows), "testdata": as_matlab_columns(test_rows)})


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("omniglot")
    train_rows = grey_images(NUM_TRAIN + NUM_VALID, seed=1)
    train_rows[NUM_TRAIN] = asymmetric_image().ravel()  # also the first validation image
    test_rows = grey_images(NUM_TEST, seed=2)
    write_chardata(directory / "chardata.mat", train_rows, test_rows)
    return directory, train_rows, test_rows


def test_images_are_transposed_back_to_row_major(synthetic):
    directory, _, _ = synthetic
    dataset = data.load_dataset("omniglot", str(directory), download=False)
    image = asymmetric_image()
    np.testing.assert_array_equal(dataset.train[0].reshape(28, 28), image.astype(np.float32))
    for binary in (dataset.valid[0], dataset.test[0]):
        assert np.all(binary.reshape(28, 28)[image == 1.0] == 1) and np.all(binary.reshape(28, 28)[image == 0] == 0)


def test_split_sizes_types_and_train_mean(synthetic):
    directory, train_rows, _ = synthetic
    dataset = data.load_dataset("omniglot", str(directory), download=False)
    assert dataset.train.shape == (NUM_TRAIN, 784) and dataset.train.dtype == np.float32
    assert dataset.valid.shape == (NUM_VALID, 784) and dataset.valid.dtype == np.uint8
    assert dataset.test.shape == (NUM_TEST, 784) and dataset.test.dtype == np.uint8
    np.testing.assert_array_equal(dataset.train, train_rows[:NUM_TRAIN].astype(np.float32))
    np.testing.assert_allclose(dataset.train_mean, train_rows[:NUM_TRAIN].mean(axis=0), rtol=0, atol=1e-7)
    assert dataset.train_mean.dtype == np.float64
    assert dataset.dynamic_binarization is True and dataset.default_eval_batch_size == 269
    assert not dataset.valid.flags.writeable


def test_validation_and_test_are_binarized_once_from_seed_one(synthetic):
    directory, train_rows, test_rows = synthetic
    dataset = data.load_dataset("omniglot", str(directory), download=False)
    valid_grey = train_rows[NUM_TRAIN:]
    expected_valid = np.random.RandomState(1).rand(NUM_VALID, 784) < valid_grey
    expected_test = np.random.RandomState(1).rand(NUM_TEST, 784) < test_rows
    np.testing.assert_array_equal(dataset.valid, expected_valid.astype(np.uint8))
    np.testing.assert_array_equal(dataset.test, expected_test.astype(np.uint8))


def test_loading_is_deterministic_and_leaves_the_global_numpy_stream_alone(synthetic, tmp_path):
    directory, _, _ = synthetic
    shutil.copy(directory / "chardata.mat", tmp_path / "chardata.mat")  # another path: no in-process reuse
    first = data.load_dataset("omniglot", str(directory), download=False)
    state_before = np.random.get_state()[1].copy()
    second = data.load_dataset("omniglot", str(tmp_path), download=False)
    np.testing.assert_array_equal(np.random.get_state()[1], state_before)
    assert second.valid is not first.valid
    for split in ("train", "valid", "test"):
        np.testing.assert_array_equal(getattr(first, split), getattr(second, split))


def test_missing_file_without_download_names_file_url_and_env(tmp_path):
    with pytest.raises(data.DataError) as error:
        data.load_dataset("omniglot", str(tmp_path), download=False)
    message = str(error.value)
    for needed in ("chardata.mat", str(tmp_path), "DVAE_DATA_DIR",
                   "https://github.com/yburda/iwae/raw/master/datasets/OMNIGLOT/chardata.mat"):
        assert needed in message
    assert "\n" not in message


@pytest.mark.parametrize("contents, problem", [
    ({"data": np.full((784, 1345), 0.5), "testdata": np.full((784, 3), 0.5)}, "more than 1345 are needed"),
    ({"data": np.full((783, 1400), 0.5), "testdata": np.full((783, 3), 0.5)}, "784 x N matrix"),
    ({"data": np.full((784, 1400), 0.5)}, "'testdata' should be"),
    ({"data": np.full((784, 1400), 1.5), "testdata": np.full((784, 3), 0.5)}, r"grey levels in \[0, 1\]"),
    ({"data": np.full((784, 1400), np.nan), "testdata": np.full((784, 3), 0.5)}, r"grey levels in \[0, 1\]"),
])
def test_malformed_files_are_refused(tmp_path, contents, problem):
    scipy.io.savemat(tmp_path / "chardata.mat", contents)
    with pytest.raises(data.DataError, match=problem):
        data.load_dataset("omniglot", str(tmp_path), download=False)


def test_a_file_that_is_not_matlab_is_refused(tmp_path):
    (tmp_path / "chardata.mat").write_bytes(b"<html>not found</html>")
    with pytest.raises(data.DataError, match="cannot be read as a MATLAB file"):
        data.load_dataset("omniglot", str(tmp_path), download=False)
