"""Persistent contrastive divergence (protocol §6.3, `--qupa=False`).

S persistent chains, initialised Bernoulli(0.5), each advanced by `num_sweeps` block-Gibbs sweeps
(z2 ~ p(z2 | z1), then z1 ~ p(z1 | z2)) with the current parameters at every call of `update`. The chains live in
the `samples` variable, so they persist across calls and are saved in checkpoints. `log_z` is never updated by the
sampler itself: the model assigns its AIS estimate to it (protocol §6.2, §6.5).
"""
import tensorflow as tf

from dvae_sharp.samplers.rbm import gibbs_chain
from dvae_sharp.samplers.sampler import RBMSampler


class PersistentContrastiveDivergence(RBMSampler):
    """PCD with `num_chains` persistent chains and `num_sweeps` block-Gibbs sweeps per `update`."""

    def __init__(self, left_size, right_size, num_chains=1000, num_sweeps=40, dtype=tf.float32, seed=0,
                 uniform_bits=16):
        super().__init__(left_size, right_size, num_chains, num_sweeps, dtype, seed,
                         name="persistent_contrastive_divergence", uniform_bits=uniform_bits)
        self.num_chains = num_chains

    def _advance(self, b1, b2, w, seed):
        z1, z2 = gibbs_chain(self.samples[:, :self.left_size], b1, b2, w, self.num_sweeps, seed,
                             self.uniform_bits)
        samples = tf.concat([z1, z2], axis=1)
        self.samples.assign(samples)
        return samples
