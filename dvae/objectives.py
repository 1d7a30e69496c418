"""Objectives and schedules: the importance-weighted bound and its gradient surrogate, KL warm-up, learning rate."""
import tensorflow as tf


def kl_warmup(step, warmup_steps):
    """κ = min(step / (0.3 N), 1), read before the step's increment so that κ = 0 at step 0 (protocol §8.4)."""
    return tf.minimum(tf.cast(step, tf.float32) / warmup_steps, 1.0)


def iw_surrogate_loss(log_w):
    """−(1/B) Σ_b Σ_k sg(w̃_bk) log w_bk with w̃ = softmax_k(log w) (protocol §8.3).

    Its gradient is that of the negative importance-weighted bound −(1/B) Σ_b log (1/k) Σ_k w_bk (IWAE);
    its value is the self-normalised average of the log weights, which the original logs as `train/neg_iw_loss`.
    """
    weights = tf.stop_gradient(tf.nn.softmax(log_w, axis=-1))
    return -tf.reduce_mean(tf.reduce_sum(weights * log_w, axis=-1))


def importance_weighted_bound(log_w):
    """log (1/k) Σ_k exp(log w_k) along the last axis, by logsumexp."""
    k = tf.cast(tf.shape(log_w)[-1], log_w.dtype)
    return tf.reduce_logsumexp(log_w, axis=-1) - tf.math.log(k)


def learning_rate_schedule(config):
    """Piecewise-constant rate: lr/10, lr, lr/3, lr/10, lr/33 split at 2 %, 60 %, 75 %, 95 % of the steps (§9)."""
    return tf.keras.optimizers.schedules.PiecewiseConstantDecay(config.lr_boundaries, config.lr_values)
