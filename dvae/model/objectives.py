"""The training loss from the model's terms (protocol §8): the k-sample ELBO or the importance-weighted bound, the
KL warm-up and the weight decay; and the learning-rate schedule."""
import tensorflow as tf


def training_loss(terms, kl_coeff, k, use_iw):
    """(loss, values) of one batch from the model's TrainingTerms, with κ = `kl_coeff`.

    ELBO (DVAE, DVAE++, and DVAE# at k = 1): mean over the B·k rows of κ·KL + recon, KL = −log_prior_ratio.
    IW bound (DVAE# at k > 1): log w_bk = κ·log_prior_ratio − recon over k samples per image, through
    `iw_surrogate_loss`. The weight decay is added to either; `values` holds what the trainer logs.
    """
    if use_iw:
        log_w = tf.reshape(kl_coeff * terms.log_prior_ratio - terms.recon, [-1, k])
        objective, kl_mean = iw_surrogate_loss(log_w), tf.constant(0.0)
    else:
        kl = -terms.log_prior_ratio
        objective, kl_mean = tf.reduce_mean(kl_coeff * kl + terms.recon), tf.reduce_mean(kl)
    decay = terms.weight_decay
    values = {"objective": objective, "recon": tf.reduce_mean(terms.recon), "kl": kl_mean,
              "decay_encoder": decay["encoder"], "decay_decoder": decay["decoder"], "decay_total": decay["total"],
              "kl_coeff": kl_coeff, "sampler_log_z": terms.sampler_log_z, **terms.relaxation_values}
    return objective + decay["total"], values


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
