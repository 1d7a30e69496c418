"""How a batch's rows hold several samples of each image x [B, 784] (protocol §8 and §10.1).

Training lays the k samples of an image next to each other (image-major, the order of tf.repeat(x, k, axis=0));
the evaluator stacks r copies of the batch (repeat-major, the order of tf.tile(x, [r, 1])). One `RowLayout` says
which, so that the encoder's per-image work and the likelihood's broadcast of x follow the same order.
"""
import tensorflow as tf


class RowLayout:
    """`count` rows per image, image-major or repeat-major; `count` may be a tensor (the evaluator's)."""

    def __init__(self, count, image_major):
        self.count = count
        self.image_major = image_major

    @property
    def one_per_image(self):
        """True when every row is its own image, so nothing is expanded."""
        return isinstance(self.count, int) and self.count == 1

    def expand(self, per_image):
        """Per-image rows [B, d] → per-sample rows [B·count, d] in this layout."""
        if self.one_per_image:
            return per_image
        if self.image_major:
            return tf.repeat(per_image, self.count, axis=0)
        return tf.tile(per_image, [self.count, 1])

    def grouped(self, per_row, per_image):
        """(per_row as [B, count, d] or [count, B, d], per_image [B, d] shaped to broadcast against it): a product
        of the two equals the product of per_row with `expand(per_image)`, without the expanded copy."""
        width = per_row.shape[-1]
        if self.image_major:
            return tf.reshape(per_row, [-1, self.count, width]), per_image[:, None, :]
        return tf.reshape(per_row, [self.count, -1, width]), per_image


ONE_PER_IMAGE = RowLayout(1, image_major=False)


def training(k):
    """Training's rows: the k samples of each image together."""
    return RowLayout(k, image_major=True)


def evaluation(repeats):
    """The evaluator's rows: `repeats` copies of the batch, one after another."""
    return RowLayout(repeats, image_major=False)
