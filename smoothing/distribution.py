"""The TensorFlow Probability interface shared by the posteriors of this package.

Every posterior is a `tfp.distributions.Distribution` over one scalar per latent unit: its batch shape is the shape
of the encoder logits [..., n] and its event shape is []; `log_prob`, `prob` and `cdf` are per unit (the model sums
them over units). The formulas are this package's own (kernels.py, mixtures.py, gaussian_integral.py,
bernoulli.py); TFP supplies only the interface: `sample(sample_shape, seed)`, argument names, shapes and
composition with the rest of the ecosystem (`tfp.distributions.Independent`, say).

Seeds: a stateless seed (an integer tensor or pair of shape [2], int32 or int64) is used exactly as given, so a
posterior sampled with the seed the model derives draws the same numbers under any sample shape; a Python int or
None is turned into a stateless seed by `tfp.random.sanitize_seed` (TFP's stateful convention).
"""
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def stateless_seed(seed):
    """A shape-[2] seed for the stateless random ops: stateless seeds unchanged (int64 ones are not cast), Python
    ints and None through `tfp.random.sanitize_seed`."""
    if seed is None or isinstance(seed, int):
        return tfp.random.sanitize_seed(seed)
    return tf.convert_to_tensor(seed)


class UnitDistribution(tfd.Distribution):
    """Base class: one scalar per latent unit with the batch shape of `logits`.

    Subclasses implement `_draw(shape, seed)`, the sample of the full shape `shape` (= sample shape + batch shape)
    from one stateless seed, and the densities. A single sample (`sample()` or `sample(seed=…)`) is drawn at the
    batch shape itself, so its random numbers and gradients are those of one direct draw.
    """

    def __init__(self, logits, reparameterized, parameters, validate_args, allow_nan_stats, name):
        with tf.name_scope(name) as name:
            self._logits = tf.convert_to_tensor(logits, name="logits")
            super().__init__(dtype=self._logits.dtype,
                             reparameterization_type=(tfd.FULLY_REPARAMETERIZED if reparameterized
                                                      else tfd.NOT_REPARAMETERIZED),
                             validate_args=validate_args, allow_nan_stats=allow_nan_stats, parameters=parameters,
                             name=name)

    @property
    def logits(self):
        """Encoder logits l; the probability of z = 1 is q = σ(l)."""
        return self._logits

    @property
    def probs(self):
        return tf.sigmoid(self._logits)

    def _batch_shape(self):
        return self._logits.shape

    def _batch_shape_tensor(self):
        return tf.shape(self._logits)

    def _event_shape(self):
        return tf.TensorShape([])

    def _event_shape_tensor(self):
        return tf.constant([], tf.int32)

    def _sample_n(self, n, seed=None):
        seed = stateless_seed(seed)
        if tf.get_static_value(n) == 1:
            return self._draw(tf.shape(self._logits), seed)[tf.newaxis]
        return self._draw(tf.concat([[n], tf.shape(self._logits)], 0), seed)

    def _draw(self, shape, seed):
        raise NotImplementedError
