"""Training batches (order, epochs, resumability, dynamic binarization, tf.data) and evaluation batches."""
import numpy as np
import pytest

from dvae_sharp import data


def toy_binary_dataset(num_examples):
    """Row i has exactly i + 1 leading ones, so a row's sum identifies the example."""
    train = (np.arange(784)[None, :] <= np.arange(num_examples)[:, None]).astype(np.uint8)
    train.flags.writeable = False
    return data.Dataset(name="toy", train=train, valid=train[:10], test=train[:10],
                        train_mean=train.mean(axis=0, dtype=np.float64), dynamic_binarization=False,
                        default_eval_batch_size=10)


def toy_grey_dataset(num_examples, seed=0):
    grey = np.random.default_rng(seed).uniform(size=(num_examples, 784)).astype(np.float32)
    grey[:, :10] = 0.0
    grey[:, 10:20] = 1.0
    return data.Dataset(name="toy_grey", train=grey, valid=None, test=None,
                        train_mean=grey.mean(axis=0, dtype=np.float64), dynamic_binarization=True,
                        default_eval_batch_size=10)


def example_ids(batch):
    return (batch.sum(axis=1) - 1).astype(int).tolist()


def epoch_ids(batches, epoch):
    steps = range(epoch * batches.steps_per_epoch, (epoch + 1) * batches.steps_per_epoch)
    return [i for step in steps for i in example_ids(batches.batch(step))]


def test_first_epoch_walks_the_stored_order_and_drops_the_incomplete_batch():
    batches = data.TrainBatches(toy_binary_dataset(53), batch_size=10, seed=3)
    assert batches.steps_per_epoch == 5
    first = batches.batch(0)
    assert first.dtype == np.float32 and first.shape == (10, 784)
    assert epoch_ids(batches, 0) == list(range(50))
    assert len(set(epoch_ids(batches, 1))) == 50  # 3 examples of the permutation's tail are dropped


def test_later_epochs_are_distinct_permutations_visiting_every_example_once():
    batches = data.TrainBatches(toy_binary_dataset(60), batch_size=12, seed=5)
    orders = [epoch_ids(batches, epoch) for epoch in range(1, 5)]
    for order in orders:
        assert sorted(order) == list(range(60)) and order != list(range(60))
    assert len({tuple(order) for order in orders}) == len(orders)


def test_epoch_permutations_depend_on_the_seed():
    dataset = toy_binary_dataset(60)
    same = [data.TrainBatches(dataset, 12, seed=5), data.TrainBatches(dataset, 12, seed=5)]
    other = data.TrainBatches(dataset, 12, seed=6)
    assert epoch_ids(same[0], 2) == epoch_ids(same[1], 2) != epoch_ids(other, 2)


@pytest.mark.parametrize("make_dataset", [toy_binary_dataset, toy_grey_dataset])
def test_batches_are_a_pure_function_of_seed_and_step(make_dataset):
    dataset = make_dataset(40)
    sequential = data.TrainBatches(dataset, batch_size=8, seed=11)
    expected = [sequential.batch(step) for step in range(23)]
    resumed = data.TrainBatches(dataset, batch_size=8, seed=11)
    for step in [17, 3, 22, 0, 9, 9, 16]:
        np.testing.assert_array_equal(resumed.batch(step), expected[step])


def test_dynamic_binarization_samples_bernoulli_of_the_grey_levels():
    grey_image = toy_grey_dataset(1).train[0]
    dataset = data.Dataset(name="toy_grey", train=np.tile(grey_image, (20, 1)), valid=None, test=None,
                           train_mean=grey_image.astype(np.float64), dynamic_binarization=True,
                           default_eval_batch_size=10)
    batches = data.TrainBatches(dataset, batch_size=10, seed=2)
    samples = np.concatenate([batches.batch(step) for step in range(400)])
    assert set(np.unique(samples).tolist()) == {0.0, 1.0}
    assert not np.array_equal(samples[:10], samples[10:20])  # identical images, fresh noise per step
    grey = grey_image.astype(np.float64)
    tolerance = 5.0 * np.sqrt(grey * (1.0 - grey) / len(samples)) + 1e-12
    assert np.all(np.abs(samples.mean(axis=0) - grey) <= tolerance)
    assert np.all(samples[:, :10] == 0.0) and np.all(samples[:, 10:20] == 1.0)


def test_tf_dataset_yields_the_batches_of_the_requested_steps():
    batches = data.TrainBatches(toy_grey_dataset(30), batch_size=7, seed=4)
    dataset = batches.as_tf_dataset(start_step=3, num_steps=12)
    assert dataset.element_spec.shape.as_list() == [7, 784]
    produced = [tensor.numpy() for tensor in dataset]
    assert len(produced) == 9
    for step, batch in zip(range(3, 12), produced):
        assert batch.dtype == np.float32
        np.testing.assert_array_equal(batch, batches.batch(step))


@pytest.mark.parametrize("batch_size", [0, -1, 54, 2.0, True])
def test_training_batch_size_out_of_range_is_refused(batch_size):
    with pytest.raises(ValueError, match="training batch size"):
        data.TrainBatches(toy_binary_dataset(53), batch_size=batch_size, seed=0)


def test_negative_seed_and_step_are_refused():
    with pytest.raises(ValueError, match="seed"):
        data.TrainBatches(toy_binary_dataset(53), batch_size=10, seed=-1)
    with pytest.raises(ValueError, match="step"):
        data.TrainBatches(toy_binary_dataset(53), batch_size=10, seed=0).batch(-1)


def test_eval_batches_cover_every_example_once_in_order():
    images = toy_binary_dataset(60).train
    batches = list(data.eval_batches(images, 15))
    assert len(batches) == 4
    assert all(batch.dtype == np.float32 and batch.shape == (15, 784) for batch in batches)
    np.testing.assert_array_equal(np.concatenate(batches), images.astype(np.float32))


def test_eval_batch_size_must_divide_the_set():
    with pytest.raises(ValueError) as error:
        data.eval_batches(toy_binary_dataset(60).train, 25)
    message = str(error.value)
    assert "\n" not in message and "60 examples" in message and "20, 30" in message
    with pytest.raises(ValueError, match="10000 examples.*250, 400"):
        data.check_eval_batch_size(10000, 300, "test set")
    with pytest.raises(ValueError, match="positive integer"):
        data.check_eval_batch_size(10000, 0)


@pytest.mark.parametrize("num_examples, batch_size", [(10000, 1000), (1345, 269), (8070, 269)])
def test_the_original_eval_batch_sizes_divide_their_sets(num_examples, batch_size):
    data.check_eval_batch_size(num_examples, batch_size)
