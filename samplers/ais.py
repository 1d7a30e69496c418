"""Annealed importance sampling estimate of log Z for evaluation (protocol §6.5).

Base distribution: the uniform distribution (the zero RBM), log Z_0 = (n1 + n2) ln 2. Path: the geometric path
p_β ∝ exp(-β E), with `num_betas` inverse temperatures β_0 = 0 < ... < β_{T-1} = 1 spaced linearly (both ends
included). The larger side is summed out analytically, so chains live on the smaller side z (here written z1, with
the other side z2) and the unnormalised marginal at β is

    F_β(z1) = β b1·z1 + Σ_j softplus(β (b2_j + (z1 w)_j)),      F_0(z1) = n2 ln 2.

Each chain starts with z1 ~ uniform and for t = 1..T-1 accumulates log w += F_{β_t}(z1) - F_{β_{t-1}}(z1), then
takes one block-Gibbs sweep at β_t (z2 ~ p_β(z2 | z1), z1 ~ p_β(z1 | z2)). The estimate is

    log Ẑ = n ln 2 + log mean_c exp(log w_c) = n ln 2 + m + log mean_c exp(log w_c - m),   m = max_c log w_c,

accumulated in float64. Its standard error by the delta method is sd(w) / (mean(w) √C); with normalised weights
ŵ_c = w_c / Σ w this is sqrt((C Σ ŵ_c² - 1) / (C - 1)). The effective number of chains 1 / Σ ŵ_c² tells when
the weights rest on a few chains; the standard error then means nothing (it saturates at 1 for one chain).
"""
import math
from typing import NamedTuple

import tensorflow as tf

from dvae_sharp.samplers.rbm import as_seed, sample_bernoulli


@tf.function
def _ais_log_weights(b1, b2, w, betas, num_chains, seed):
    """Per-chain log importance weights [C] (float64) of AIS with chains on the left side, right side summed out."""
    dtype = w.dtype
    z1 = sample_bernoulli(tf.zeros([num_chains, tf.shape(b1)[0]], dtype), seed)
    log_weights = tf.zeros([num_chains], tf.float64)

    def step(t, z1, log_weights):
        seed_right, seed_left = tf.unstack(
            tf.random.experimental.stateless_split(tf.random.experimental.stateless_fold_in(seed, t), 2))
        beta_prev, beta = betas[t - 1], betas[t]
        logits = tf.nn.bias_add(tf.matmul(z1, w), b2)
        increment = ((beta - beta_prev) * tf.reduce_sum(z1 * b1, -1)
                     + tf.reduce_sum(tf.nn.softplus(beta * logits) - tf.nn.softplus(beta_prev * logits), -1))
        z2 = sample_bernoulli(beta * logits, seed_right)
        z1 = sample_bernoulli(beta * tf.nn.bias_add(tf.matmul(z2, w, transpose_b=True), b1), seed_left)
        return t + 1, z1, log_weights + tf.cast(increment, tf.float64)

    num_betas = tf.shape(betas)[0]
    _, _, log_weights = tf.while_loop(lambda t, *_: t < num_betas, step, (tf.constant(1), z1, log_weights))
    return log_weights


class AISEstimate(NamedTuple):
    """log Ẑ, its delta-method standard error and the effective number of chains 1 / Σ ŵ² (tensors in the
    parameters' dtype), and the number of chains C."""
    log_z: tf.Tensor
    stderr: tf.Tensor
    effective_chains: tf.Tensor
    num_chains: int

    @property
    def collapsed(self):
        """Whether the weights rest on fewer than min(10, C / 10) effective chains."""
        return float(self.effective_chains) < min(10.0, self.num_chains / 10.0)


def ais_log_z(b1, b2, w, num_betas=1000, num_chains=1024, seed=(0, 0)):
    """AIS estimate (log Ẑ, standard error), both in the dtype of the parameters; see the module docstring."""
    return ais_estimate(b1, b2, w, num_betas, num_chains, seed)[:2]


def ais_estimate(b1, b2, w, num_betas=1000, num_chains=1024, seed=(0, 0)):
    """AIS estimate as an AISEstimate; see the module docstring."""
    w = tf.convert_to_tensor(w)
    b1 = tf.convert_to_tensor(b1, dtype=w.dtype)
    b2 = tf.convert_to_tensor(b2, dtype=w.dtype)
    if int(num_betas) < 2 or int(num_chains) < 2:
        raise ValueError(f"ais_log_z needs at least 2 betas and 2 chains, got {num_betas} and {num_chains}")
    if b1.shape[0] > b2.shape[0]:
        b1, b2, w = b2, b1, tf.transpose(w)
    betas = tf.cast(tf.linspace(tf.constant(0.0, tf.float64), 1.0, int(num_betas)), w.dtype)
    seed = as_seed(seed)
    log_weights = _ais_log_weights(b1, b2, w, betas, int(num_chains), seed)
    num = tf.cast(int(num_chains), tf.float64)
    largest = tf.reduce_max(log_weights)
    weights = tf.exp(log_weights - largest)
    log_mean_weight = largest + tf.math.log(tf.reduce_mean(weights))
    log_z = (int(b1.shape[0]) + int(b2.shape[0])) * math.log(2.0) + log_mean_weight
    normalised = weights / tf.reduce_sum(weights)
    sum_squares = tf.reduce_sum(normalised ** 2)
    stderr = tf.sqrt(tf.maximum(num * sum_squares - 1.0, 0.0) / (num - 1.0))
    return AISEstimate(tf.cast(log_z, w.dtype), tf.cast(stderr, w.dtype), tf.cast(1.0 / sum_squares, w.dtype),
                       int(num_chains))
