"""TensorBoard output with the original tag names (protocol §10.4) and image grids of 28×28 digits."""
import numpy as np
import tensorflow as tf


def image_grid(images, rows=10, cols=10, side=28):
    """Tiles up to rows·cols images [N, side²] with values in [0, 1] into one uint8 image [1, H, W, 1]."""
    images = np.asarray(images, np.float32)[:rows * cols]
    grid = np.zeros((rows * side, cols * side), np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * side:(r + 1) * side, c * side:(c + 1) * side] = image.reshape(side, side)
    return (np.clip(grid, 0.0, 1.0) * 255.0).round().astype(np.uint8)[None, :, :, None]


HPARAMS_FIELDS = ("dataset", "struct", "baseline", "k", "qupa", "beta", "seed", "num_train_iter", "sampler_chains",
                  "sampler_sweeps", "eval_iw_samples")


def hparams(config):
    """The configuration fields a grid varies, as TensorBoard hyperparameters."""
    return {name: getattr(config, name) for name in HPARAMS_FIELDS}


class SummaryWriter:
    """Writes scalars and images into the run directory's event files."""

    def __init__(self, run_dir):
        self.writer = tf.summary.create_file_writer(str(run_dir))

    def scalars(self, values, step):
        with self.writer.as_default(step=step):
            for tag, value in values.items():
                tf.summary.scalar(tag, float(value))
        self.writer.flush()

    def images(self, named_images, step):
        with self.writer.as_default(step=step):
            for tag, image in named_images.items():
                tf.summary.image(tag, image)
        self.writer.flush()

    def hparams(self, values):
        """The run's hyperparameters for TensorBoard's HParams tab (written once, when the run starts)."""
        from tensorboard.plugins.hparams import api as hp
        with self.writer.as_default():
            hp.hparams(values)
        self.writer.flush()

    def close(self):
        self.writer.close()
