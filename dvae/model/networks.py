"""Encoder and decoder networks (protocol §7): dense → batch norm → tanh stacks with a linear output.

Weights use the original's truncated-normal variance scaling: a normal of standard deviation √(2.6 / fan_in)
cut at ±2 standard deviations; biases start at zero. Batch norm uses momentum 0.8 and ε = 1e-2, batch statistics
in training and moving averages in evaluation. Weight decay applies to dense kernels and batch-norm gammas.
"""
import math

import tensorflow as tf

from dvae_sharp.configs import paper


class Dense(tf.Module):
    """x ↦ x W + b with W ~ TruncatedNormal(0, 2.6 / fan_in) cut at ±2σ (slim's variance scaling, factor 2)."""

    def __init__(self, fan_in, fan_out, seed, name=None):
        super().__init__(name=name)
        stddev = math.sqrt(1.3 * 2.0 / fan_in)
        self.kernel = tf.Variable(
            tf.random.stateless_truncated_normal([fan_in, fan_out], seed=seed, stddev=stddev), name="kernel")
        self.bias = tf.Variable(tf.zeros([fan_out]), name="bias")

    def __call__(self, x, offset=None):
        """x W + b, or x W + (b + offset): a constant added to the bias costs one addition per unit, not per row."""
        return tf.matmul(x, self.kernel) + (self.bias if offset is None else self.bias + offset)

    def per_image_and_per_row(self, x, rows, expand):
        """[expand(x), rows] W + b without the expanded input: expand(x W_x) + rows W_r + b, where W = [W_x; W_r]
        splits at x's width and `expand` maps per-image rows to per-row ones (rows.RowLayout.expand)."""
        kernel_x, kernel_rows = tf.split(self.kernel, [x.shape[-1], rows.shape[-1]])
        return expand(tf.matmul(x, kernel_x)) + tf.matmul(rows, kernel_rows) + self.bias


class BatchNorm(tf.Module):
    """Batch normalisation over the rows (protocol §7.1):

        y = γ (h − μ) / √(σ² + ε) + β,   μ, σ² = the rows' mean and biased variance in training, the moving
        averages in evaluation;   moving ← m·moving + (1 − m)·batch statistic, m = 0.8, ε = 1e-2.

    Training uses TensorFlow's fused kernel (one op forward, one backward, instead of about ten each). The kernel
    returns the Bessel-corrected variance σ² N / (N − 1) for running averages; the moving variance takes σ² back
    from it, as the original's non-fused path for 2-D inputs averaged the biased variance.
    """

    def __init__(self, units, momentum=paper.TRAINING.batch_norm_momentum, epsilon=paper.TRAINING.batch_norm_epsilon,
                 name=None):
        super().__init__(name=name)
        self.momentum, self.epsilon = momentum, epsilon
        self.gamma = tf.Variable(tf.ones([units]), name="gamma")
        self.beta = tf.Variable(tf.zeros([units]), name="beta")
        self.moving_mean = tf.Variable(tf.zeros([units]), trainable=False, name="moving_mean")
        self.moving_variance = tf.Variable(tf.ones([units]), trainable=False, name="moving_variance")

    def __call__(self, h, training):
        if not training:
            return tf.nn.batch_normalization(h, self.moving_mean, self.moving_variance, self.beta, self.gamma,
                                             self.epsilon)
        units = h.shape[-1]
        y, mean, corrected_variance = tf.compat.v1.nn.fused_batch_norm(
            tf.reshape(h, [-1, 1, 1, units]), self.gamma, self.beta, epsilon=self.epsilon, is_training=True)[:3]
        rows = tf.cast(tf.shape(h)[0], h.dtype)
        momentum = self.momentum
        self.moving_mean.assign(momentum * self.moving_mean + (1.0 - momentum) * mean)
        self.moving_variance.assign(momentum * self.moving_variance
                                    + (1.0 - momentum) * corrected_variance * ((rows - 1.0) / rows))
        return tf.reshape(y, [-1, units])


class FeedForward(tf.Module):
    """`len(sizes) - 2` hidden layers Dense → BatchNorm → tanh, then a linear Dense (protocol §7.1)."""

    def __init__(self, sizes, seed, name=None):
        super().__init__(name=name)
        seeds = tf.random.experimental.stateless_split(seed, num=len(sizes) - 1)
        self.dense = [Dense(n_in, n_out, seeds[i], name=f"dense_{i}")
                      for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.norms = [BatchNorm(n, name=f"bn_{i}") for i, n in enumerate(sizes[1:-1])]

    def __call__(self, x, training, output_offset=None):
        """The output; `output_offset` (a constant per output unit) is added to the output layer's bias."""
        if len(self.dense) == 1:
            return self.dense[0](x, output_offset)
        return self.from_first_layer(self.dense[0](x), training, output_offset)

    def from_first_layer(self, h, training, output_offset=None):
        """The output given the first dense layer's output h = x W₀ + b₀."""
        if len(self.dense) == 1:
            return h if output_offset is None else h + output_offset
        for dense, norm in zip(self.dense[1:-1], self.norms):
            h = dense(tf.tanh(norm(h, training)))
        return self.dense[-1](tf.tanh(self.norms[-1](h, training)), output_offset)

    def decayed_variables(self):
        """Kernels and batch-norm gammas: the variables under weight decay (protocol §7.1, §12 item 17)."""
        return [d.kernel for d in self.dense] + [n.gamma for n in self.norms]


def l2_penalty(variables):
    """Σ ½‖v‖², TensorFlow's `l2_loss` convention."""
    return tf.add_n([tf.nn.l2_loss(v) for v in variables]) if variables else tf.constant(0.0)
