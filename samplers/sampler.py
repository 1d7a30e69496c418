"""State and training surrogate shared by the RBM samplers (protocol §6.2, §6.3).

A sampler holds `samples`, a non-trainable variable [S, n1 + n2] of 0/1 states (left units first, initialised
Bernoulli(0.5) from the constructor seed), `uniform_bits`, the precision of the uniforms of its Gibbs sweeps
(16 by default, 32 for float32 uniforms; `samplers.rbm.stateless_uniform`), and `log_z`, a non-trainable scalar
variable initialised to (n1 + n2) ln 2, the log partition function of the zero (uniform) RBM. `update` advances
the state with the given parameters; subclasses say how. `training_log_z` is the surrogate of protocol §6.2:

    sg(log_z) + mean_s(-E_θ(sg(z_s))) - sg(mean_s(-E_θ(z_s))),

whose value is `log_z` and whose gradient with respect to (b1, b2, w) is the negative phase
(mean_s z1_s, mean_s z2_s, mean_s z1_s z2_sᵀ) ≈ ∇ log Z.
"""
import math

import tensorflow as tf

from dvae_sharp.samplers.rbm import as_seed


class RBMSampler(tf.Module):
    """Base class: variables, argument checks, `update` and `training_log_z`; subclasses implement `_advance`."""

    def __init__(self, left_size, right_size, num_samples, num_sweeps, dtype, seed, name, uniform_bits=16):
        super().__init__(name=name)
        if uniform_bits not in (16, 32):
            raise ValueError(f"{name}: uniform_bits must be 16 or 32, got {uniform_bits!r}")
        self.uniform_bits = uniform_bits
        for label, value in (("left_size", left_size), ("right_size", right_size),
                             ("number of samples", num_samples), ("num_sweeps", num_sweeps)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: {label} must be a positive integer, got {value!r}")
        self.left_size = left_size
        self.right_size = right_size
        self.num_sweeps = num_sweeps
        self.dtype = tf.as_dtype(dtype)
        uniform = tf.random.stateless_uniform([num_samples, left_size + right_size], as_seed(seed), dtype=self.dtype)
        self.samples = tf.Variable(tf.cast(uniform < 0.5, self.dtype), trainable=False, name="samples")
        self.log_z = tf.Variable(self.uniform_log_z, dtype=self.dtype, trainable=False, name="log_z")

    def restart_log_z(self, log_z) -> None:
        """Replaces the running log Z by an outside estimate (AIS at each evaluation, protocol §6.2)."""
        self.log_z.assign(tf.cast(log_z, self.dtype))

    @property
    def uniform_log_z(self):
        """log Z of the zero RBM: (n1 + n2) ln 2."""
        return (self.left_size + self.right_size) * math.log(2.0)

    def _parameters(self, b1, b2, w):
        return [tf.stop_gradient(tf.convert_to_tensor(p, dtype=self.dtype)) for p in (b1, b2, w)]

    def _advance(self, b1: tf.Tensor, b2: tf.Tensor, w: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """Moves `samples` (and `log_z` where the sampler estimates it) to the parameters; returns the samples.
        Each sampler implements it."""
        raise NotImplementedError

    def update(self, b1, b2, w, seed) -> tf.Tensor:
        """Advances the state with parameters sg(b1), sg(b2), sg(w) and returns the new samples [S, n1 + n2]."""
        return self._compiled_update(*self._parameters(b1, b2, w), as_seed(seed))

    @tf.function
    def _compiled_update(self, b1, b2, w, seed):
        return self._advance(b1, b2, w, seed)

    def training_log_z(self, b1, b2, w, seed) -> tf.Tensor:
        """Runs `update` once, then returns the §6.2 surrogate: value `log_z`, gradient the negative phase.

        mean_s(-E_θ(z_s)) = b1·m1 + b2·m2 + Σ w ⊙ M with the sample moments m1 = mean_s z1_s, m2 = mean_s z2_s,
        M = mean_s z1_s z2_sᵀ, computed once (one matmul) as constants, so the backward pass needs no matmul.
        """
        samples = tf.stop_gradient(self.update(b1, b2, w, seed))
        z1, z2 = samples[:, :self.left_size], samples[:, self.left_size:]
        count = tf.cast(tf.shape(samples)[0], self.dtype)
        moments = (tf.reduce_mean(z1, 0), tf.reduce_mean(z2, 0), tf.matmul(z1, z2, transpose_a=True) / count)
        mean_neg_energy = tf.add_n([tf.reduce_sum(p * m) for p, m in zip((b1, b2, w), moments)])
        return tf.stop_gradient(tf.identity(self.log_z)) + (mean_neg_energy - tf.stop_gradient(mean_neg_energy))
