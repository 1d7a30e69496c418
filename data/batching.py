"""Training batches as a pure function of (seed, step), and fixed-size evaluation batches.

Training order follows the original: the first epoch walks the stored order, every later epoch a permutation,
and an incomplete last batch of an epoch is dropped. Here each permutation is drawn from a generator seeded by
(seed, epoch), and the dynamic binarization noise of a batch from one seeded by (seed, step), so any step's batch
can be recomputed without state; training resumes at any step and reproduces the same data.
"""
import numpy as np

PIXELS = 784
_PERMUTATION_STREAM = 1
_BINARIZATION_STREAM = 2


class TrainBatches:
    """The training batches of `dataset` for one seed: `batch(step)` depends only on (seed, step)."""

    def __init__(self, dataset, batch_size, seed):
        self.images = dataset.train
        self.dynamic_binarization = dataset.dynamic_binarization
        num_examples = len(self.images)
        if not _is_int_at_least(batch_size, 1) or batch_size > num_examples:
            raise ValueError(f"training batch size {batch_size} must be an integer between 1 and the "
                             f"{num_examples} training examples of {dataset.name}")
        if not _is_int_at_least(seed, 0):
            raise ValueError(f"seed {seed} must be a non-negative integer")
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.steps_per_epoch = num_examples // self.batch_size
        self._order_memo = (0, None)

    def epoch_order(self, epoch):
        """Indices of the training examples in the order epoch `epoch` visits them (epoch 0: stored order)."""
        if epoch == 0:
            return np.arange(len(self.images))
        rng = np.random.default_rng([self.seed, _PERMUTATION_STREAM, epoch])
        return rng.permutation(len(self.images))

    def batch(self, step):
        """float32 [batch_size, 784] batch of training step `step` (0-based)."""
        if step < 0:
            raise ValueError(f"training step {step} must be non-negative")
        epoch, position = divmod(int(step), self.steps_per_epoch)
        rows = slice(position * self.batch_size, (position + 1) * self.batch_size)
        if epoch == 0:
            images = self.images[rows]
        else:
            images = self.images[self._memoised_order(epoch)[rows]]
        if not self.dynamic_binarization:
            return images.astype(np.float32)
        rng = np.random.default_rng([self.seed, _BINARIZATION_STREAM, int(step)])
        return (rng.random(images.shape, dtype=np.float32) < images).astype(np.float32)

    def _memoised_order(self, epoch):
        memo_epoch, order = self._order_memo
        if memo_epoch != epoch or order is None:
            order = self.epoch_order(epoch)
            self._order_memo = (epoch, order)
        return order

    def as_tf_dataset(self, start_step, num_steps):
        """A prefetching `tf.data.Dataset` of the float32 [batch_size, 784] batches of steps start_step..num_steps-1.

        TensorFlow is imported here, so the rest of this package works without it.
        """
        import tensorflow as tf

        if not 0 <= start_step <= num_steps:
            raise ValueError(f"start step {start_step} must lie between 0 and the number of steps {num_steps}")
        shape = (self.batch_size, PIXELS)

        def batch_of_step(step):
            images = tf.numpy_function(self.batch, [step], tf.float32, stateful=False)
            images.set_shape(shape)
            return images

        steps = tf.data.Dataset.range(start_step, num_steps)
        return steps.map(batch_of_step).prefetch(tf.data.AUTOTUNE)


def check_eval_batch_size(num_examples, batch_size, set_name="evaluation set"):
    """Raise `ValueError` (one line) unless `batch_size` is a positive integer dividing `num_examples`."""
    if not _is_int_at_least(batch_size, 1):
        raise ValueError(f"eval batch size {batch_size!r} must be a positive integer dividing the {set_name} of "
                         f"{num_examples} examples")
    if num_examples % batch_size == 0:
        return
    divisors = [d for d in range(1, num_examples + 1) if num_examples % d == 0]
    below = [d for d in divisors if d < batch_size]
    above = [d for d in divisors if d > batch_size]
    nearest = ", ".join(str(d) for d in (below[-1:] + above[:1]))
    raise ValueError(f"eval batch size {batch_size} does not divide the {set_name} of {num_examples} examples; "
                     f"use a divisor of {num_examples}, e.g. {nearest}")


def eval_batches(images, batch_size, set_name="evaluation set"):
    """float32 [batch_size, 784] batches covering `images` once, in order; `batch_size` must divide len(images)."""
    check_eval_batch_size(len(images), batch_size, set_name)
    return (images[start:start + batch_size].astype(np.float32) for start in range(0, len(images), batch_size))


def _is_int_at_least(value, lowest):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= lowest
